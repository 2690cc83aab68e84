// Personal data at rest over the whole running system: a practice is set up through the
// public API with distinctive names and emails, bookings with a staff note, a
// cancellation with a reason, a time block with a reason, an office with rooms, a
// completed session with a check-in comment, a message and a named device; then every
// file in the system's data directory (every service's database, -wal, -shm, the audit
// archive, logs) and every key and value in Redis is read, while the services run and
// again after they stop, and none of those words may be found in clear. A second
// scenario starts identity and scheduling with the wrong, a missing and a readable key
// file: each refuses to start, names kek_file, and leaves the databases untouched.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <fstream>
#include <iterator>
#include <map>

#include "alliance/client/checkins.hpp"
#include "alliance/client/device.hpp"
#include "alliance/client/messenger.hpp"
#include "alliance/core/asio.hpp"
#include "alliance/core/ids.hpp"
#include "alliance/redis/client.hpp"
#include "alliance/store/connection.hpp"
#include "alliance/store/query.hpp"
#include "redis_login.hpp"
#include "reminders_support.hpp"
#include "system.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string str(const json::value& v, std::string_view key) { return std::string(v.at(key).as_string()); }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every file under `dir` (recursively) by path, with its bytes.
std::map<std::filesystem::path, std::string> files_under(const std::filesystem::path& dir) {
  std::map<std::filesystem::path, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[e.path()] = file_bytes(e.path());
  return out;
}

// Every string in a reply, nested arrays flattened, appended to `out`.
void flatten(const redis::Reply& r, std::string& out) {
  out += r.str;
  out += '\n';
  for (const auto& e : r.elements) flatten(e, out);
}

// Every key in Redis with everything it holds (read by its type), as admin.
std::map<std::string, std::string> redis_contents(RedisServer& server) {
  std::map<std::string, std::string> out;
  asio::io_context io;
  redis::Client client(io.get_executor(), redis_login(server, "admin"));
  client.start();
  std::string failure;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        if (!co_await client.wait_connected(5s)) {
          failure = "redis not reachable";
          client.stop();
          co_return;
        }
        std::string cursor = "0";
        do {
          std::vector<std::string> scan = {"SCAN", cursor, "COUNT", "1000"};
          auto page = co_await client.command(scan);
          if (!page || page->elements.size() != 2) {
            failure = "SCAN failed";
            break;
          }
          cursor = page->elements[0].str;
          for (const auto& key : page->elements[1].elements) {
            std::vector<std::string> type_of = {"TYPE", key.str};
            auto type = co_await client.command(type_of);
            if (!type) {
              failure = "TYPE failed";
              break;
            }
            std::vector<std::string> read;
            if (type->str == "string") read = {"GET", key.str};
            else if (type->str == "hash") read = {"HGETALL", key.str};
            else if (type->str == "list") read = {"LRANGE", key.str, "0", "-1"};
            else if (type->str == "set") read = {"SMEMBERS", key.str};
            else if (type->str == "zset") read = {"ZRANGE", key.str, "0", "-1", "WITHSCORES"};
            else if (type->str == "stream") read = {"XRANGE", key.str, "-", "+"};
            std::string& held = out[key.str];
            if (read.empty()) {
              held = "(unread type " + type->str + ")";
              continue;
            }
            auto value = co_await client.command(read);
            if (value) flatten(*value, held);
          }
        } while (cursor != "0" && failure.empty());
        client.stop();
      },
      asio::detached);
  io.run_for(30s);
  if (!failure.empty()) ADD_FAILURE() << failure;
  return out;
}

// Where each secret occurs in `bytes`: "<secret> in <where> at byte N", one per line.
std::string hits(const std::vector<std::string>& secrets, const std::string& where, const std::string& bytes) {
  std::string found;
  for (const auto& s : secrets)
    if (auto at = bytes.find(s); at != std::string::npos)
      found += "'" + s + "' in " + where + " at byte " + std::to_string(at) + "\n";
  return found;
}

// The distinctive personal words the scenario writes through the public API.
struct Words {
  std::string practice_name = "Quillfeather Counselling Rooms";
  std::string admin_name = "Ottoline Brackenbury", admin_email = "Ottoline.Brackenbury@Quillmail.example";
  std::string desk_name = "Isadora Thistlewood", desk_email = "Isadora.Thistlewood@Quillmail.example";
  std::string therapist_name = "Zebedee Marchbanks", therapist_email = "Zebedee.Marchbanks@Quillmail.example";
  std::string client_name = "Perpetua Vandersloot", client_email = "Perpetua.Vandersloot@Inboxly.example";
  std::string note = "disclosed a relapse after sobriety";
  std::string cancel_reason = "restraining order hearing";
  std::string block_reason = "fertility clinic appointment";
  std::string location_name = "Larkspur Annex", address = "47 Nightingale Crescent", room = "Snowdrop Suite";
  std::string message = "I keep thinking about the accident";
  std::string comment = "felt judged about the divorce";
  std::string device_name = "Perpetua's pocket phone";

  // What must never be found in clear: each name and each word of it, each email as
  // typed and lower-cased, and every free text. Not the room's name: README "Personal
  // data at rest" says why rooms are stored in clear.
  std::vector<std::string> secrets() const {
    std::vector<std::string> out = {practice_name, note,          cancel_reason, block_reason, location_name,
                                     address,       message,       comment,       device_name};
    for (const auto& name : {admin_name, desk_name, therapist_name, client_name}) {
      out.push_back(name);
      out.push_back(name.substr(0, name.find(' ')));
      out.push_back(name.substr(name.find(' ') + 1));
    }
    for (const auto& email : {admin_email, desk_email, therapist_email, client_email}) {
      out.push_back(email);
      out.push_back(lower(email));
    }
    out.push_back("Quillfeather");
    out.push_back("Larkspur");
    out.push_back("Nightingale");
    return out;
  }
};

class PersonalDataAtRest : public ::testing::Test {
 protected:
  // What is in clear: every hit in the data directory and (when `with_redis`) Redis.
  std::string found_in_clear(System& sys, bool with_redis) {
    const auto secrets = words_.secrets();
    std::string found;
    std::size_t files = 0;
    for (const auto& [path, bytes] : files_under(sys.dir())) {
      ++files;
      found += hits(secrets, path.filename().string(), bytes);
    }
    EXPECT_GT(files, 5u);
    if (with_redis) {
      const auto redis = redis_contents(sys.redis());
      EXPECT_FALSE(redis.empty()) << "Redis held no key at all";
      for (const auto& [key, value] : redis) found += hits(secrets, "Redis key " + key, key + "\n" + value);
    }
    return found;
  }

  Words words_;
};

TEST_F(PersonalDataAtRest, NoNameEmailOrFreeTextIsFoundInClearInAnyFileOrInRedis) {
  System sys(SystemOptions{.identity_flags = {{"audit_checkpoint_every", "1"}}});
  const auto& w = words_;
  const std::string slug = "quill";
  client::AllianceClient anonymous(sys.endpoint());
  json::value practice = {{"operator_token", sys.operator_token()}, {"name", w.practice_name},
                          {"slug", slug},                           {"admin_email", w.admin_email},
                          {"admin_password", System::kPassword},    {"admin_display_name", w.admin_name}};
  auto made = anonymous.call_json("POST", "/v1/practices", &practice, false);
  ASSERT_TRUE(made) << made.error().message;
  auto admin = sys.login(slug, w.admin_email);
  auto add_user = [&](const std::string& email, const std::string& name, const std::string& role) {
    json::value body = {{"email", email}, {"password", System::kPassword}, {"display_name", name}, {"role", role}};
    auto r = admin->post_json("/v1/users", body);
    EXPECT_TRUE(r) << r.error().message;
    return r ? str(r->at("user"), "id") : "";
  };
  add_user(w.desk_email, w.desk_name, "front_desk");
  const auto therapist_id = add_user(w.therapist_email, w.therapist_name, "therapist");
  const auto client_id = add_user(w.client_email, w.client_name, "client");
  ASSERT_TRUE(admin->post_json("/v1/care-team", json::value{{"client_id", client_id}, {"therapist_id", therapist_id}}));
  // Logging in with the email lower-cased finds the same user (the lookup hash).
  auto desk = sys.login(slug, lower(w.desk_email));
  auto therapist = sys.login(slug, w.therapist_email);
  auto client = sys.login(slug, w.client_email);
  open_around_the_clock(*admin, therapist_id);
  const auto type_id = quick_type(*admin, "Individual session");

  // An office with rooms, and an in-person type held there.
  json::value office = {{"name", w.location_name}, {"address", w.address}, {"rooms", json::array{w.room}}};
  auto location = admin->post_json("/v1/locations", office);
  ASSERT_TRUE(location) << location.error().message;
  json::value in_person = {{"name", "In person"},     {"duration_minutes", 30},   {"modality", "in_person"},
                           {"step_minutes", 5},       {"min_notice_minutes", 0},  {"booking_horizon_days", 30},
                           {"default_location_id", str(location->at("location"), "id")}};
  auto in_person_type = admin->post_json("/v1/appointment-types", in_person);
  ASSERT_TRUE(in_person_type) << in_person_type.error().message;

  auto book = [&](std::chrono::hours ahead, const std::string& type, bool with_room) {
    json::value body = {{"idempotency_key", new_id()}, {"therapist_id", therapist_id}, {"client_id", client_id},
                        {"type_id", type},             {"start_time", rfc3339(slot_after(ahead))}};
    if (with_room) body.as_object()["room"] = w.room;
    auto r = desk->post_json("/v1/appointments", body);
    EXPECT_TRUE(r) << r.error().message;
    return r ? str(r->at("appointment"), "id") : "";
  };
  // A booking with a staff note, one cancelled with a reason, one in the office's room.
  const auto noted = book(3h, type_id, false);
  json::value note = {{"note", w.note}};
  ASSERT_TRUE(desk->call_json("PUT", "/v1/appointments/" + noted + "/note", &note));
  const auto cancelled = book(5h, type_id, false);
  ASSERT_TRUE(desk->post_json("/v1/appointments/" + cancelled + "/cancel", json::value{{"reason", w.cancel_reason}}));
  const auto in_room = book(7h, str(in_person_type->at("type"), "id"), true);
  ASSERT_FALSE(in_room.empty());
  auto block = desk->post_json("/v1/therapists/" + therapist_id + "/time-blocks",
                               json::value{{"start_time", rfc3339(slot_after(10h))},
                                           {"end_time", rfc3339(slot_after(11h))},
                                           {"reason", w.block_reason}});
  ASSERT_TRUE(block) << block.error().message;

  // Devices (one named by the client), a conversation and a message.
  auto client_device = client::register_device(*client, w.device_name);
  ASSERT_TRUE(client_device) << client_device.error().message;
  auto therapist_device = client::register_device(*therapist, "Office laptop");
  ASSERT_TRUE(therapist_device) << therapist_device.error().message;
  client::Messenger client_messenger(*client, *client_device);
  auto conversation = client_messenger.open_conversation(client_id, therapist_id);
  ASSERT_TRUE(conversation) << conversation.error().message;
  auto sent = client_messenger.send(conversation->id, w.message);
  ASSERT_TRUE(sent) << sent.error().message;

  // A completed session (moved into the past in scheduling's file) and its check-in,
  // answered with a comment.
  const auto session = book(1h, type_id, false);
  {
    auto db = store::Connection::open(sys.dir() / "scheduling.db", {});
    store::execute(*db, "UPDATE appointments SET start_unix = start_unix - 86400, end_unix = end_unix - 86400 WHERE id = ?",
                   session);
  }
  ASSERT_TRUE(therapist->post_json("/v1/appointments/" + session + "/complete", json::object{}));
  std::string checkin_id;
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = client->get_json("/v1/me/check-ins");
        if (r)
          for (const auto& c : r->at("checkins").as_array())
            if (str(c, "appointment_id") == session) checkin_id = str(c, "checkin_id");
        return !checkin_id.empty();
      },
      15s))
      << "no check-in for the completed session";
  auto comment = client::seal_checkin_comment(client_messenger, conversation->id, therapist_id, checkin_id, w.comment);
  ASSERT_TRUE(comment) << comment.error().message;
  json::value ratings = {{"relationship", 8}, {"goals", 7}, {"approach", 6}, {"overall", 7}};
  json::value answer = {{"ratings", ratings}, {"comment", client::checkin_comment_to_json(*comment)}};
  ASSERT_TRUE(client->post_json("/v1/check-ins/" + checkin_id, answer));

  // The in-room session's reminders fire now (their bodies name the therapist and the practice).
  std::vector<std::string> reminder_ids;
  {
    auto db = store::Connection::open(sys.reminders_database(), {.read_only = true});
    reminder_ids = store::query_all(*db, "SELECT id FROM reminders WHERE appointment_id = ?",
                                    [](store::Statement& s) { return s.column_text(0); }, in_room);
  }
  ASSERT_FALSE(reminder_ids.empty());
  ASSERT_GT(make_due(sys, reminder_ids, now_unix_ms()), 0);
  ASSERT_TRUE(wait_until(
      [&] {
        auto db = store::Connection::open(sys.reminders_database(), {.read_only = true});
        return store::query_one(*db, "SELECT COUNT(*) FROM reminders WHERE appointment_id = ? AND state = 'sent'",
                                [](store::Statement& s) { return s.column_int(0); }, in_room)
                   .value_or(0) > 0;
      },
      15s));

  // Everybody reads what they wrote back (the data is there, only sealed), and the
  // audit log is pruned to an archive file.
  auto seen_note = therapist->get_json("/v1/appointments/" + noted + "/note");
  ASSERT_TRUE(seen_note) << seen_note.error().message;
  EXPECT_EQ(str(seen_note->at("note"), "note"), w.note);
  auto seen_cancel = desk->get_json("/v1/appointments/" + cancelled);
  ASSERT_TRUE(seen_cancel) << seen_cancel.error().message;
  EXPECT_EQ(str(seen_cancel->at("appointment"), "cancel_reason"), w.cancel_reason);
  auto me = client->me();
  ASSERT_TRUE(me) << me.error().message;
  EXPECT_EQ(str(me->at("user"), "display_name"), w.client_name);
  json::value prune = {{"operator_token", sys.operator_token()}, {"before", "2099-01-01T00:00:00Z"}};
  auto pruned = anonymous.call_json("POST", "/v1/audit/prune", &prune, false);
  ASSERT_TRUE(pruned) << pruned.error().message;
  EXPECT_TRUE(std::filesystem::exists(sys.dir() / str(*pruned, "archive")));

  const std::string running = found_in_clear(sys, true);
  EXPECT_EQ(running, "") << "in clear while the services run:\n" << running;

  // Stopped (each service closes its database and checkpoints its -wal).
  sys.gateway_process(0).terminate();
  sys.stop_reminders(0);
  sys.messaging().terminate();
  sys.scheduling().terminate();
  sys.identity().terminate();
  const std::string stopped = found_in_clear(sys, true);
  EXPECT_EQ(stopped, "") << "in clear after the services stopped:\n" << stopped;
}

// The bytes of a service's database files (main, -wal, -shm), by file name.
std::map<std::string, std::string> database_files(const std::filesystem::path& dir, const std::string& db) {
  std::map<std::string, std::string> out;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    if (std::filesystem::exists(dir / (db + suffix))) out[db + suffix] = file_bytes(dir / (db + suffix));
  return out;
}

// `start` with its --kek_file replaced by `kek`; the new process's log file is `log`.
Process::Options with_kek(Process::Options start, const std::filesystem::path& kek, const std::string& log) {
  auto at = std::find(start.args.begin(), start.args.end(), "--kek_file");
  if (at == start.args.end() || std::next(at) == start.args.end()) throw std::runtime_error("no --kek_file");
  *std::next(at) = kek.string();
  start.log_file = start.log_file.parent_path() / log;
  return start;
}

TEST(KekAtStart, IdentityAndSchedulingRefuseAWrongMissingOrReadableKeyAndLeaveTheirFilesUntouched) {
  System sys;
  sys.create_practice("kek");
  auto admin = sys.login("kek", "admin@kek.example");
  const auto therapist_id = sys.create_user("kek", "kim@kek.example", "therapist");
  open_around_the_clock(*admin, therapist_id);
  auto block = admin->post_json("/v1/therapists/" + therapist_id + "/time-blocks",
                                json::value{{"start_time", rfc3339(slot_after(48h))},
                                            {"end_time", rfc3339(slot_after(49h))},
                                            {"reason", "Supervision"}});
  ASSERT_TRUE(block) << block.error().message;
  sys.gateway_process(0).terminate();
  sys.stop_reminders(0);
  sys.messaging().terminate();
  sys.scheduling().terminate();
  sys.identity().terminate();

  const auto wrong = sys.dir() / "wrong.kek";
  std::ofstream(wrong) << std::string(64, 'a') << "\n";
  std::filesystem::permissions(wrong, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const auto readable = sys.dir() / "readable.kek";
  std::filesystem::copy_file(dev_certs().kek_file(), readable);
  std::filesystem::permissions(readable, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                             std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  const auto missing = sys.dir() / "no-such.kek";

  struct Case {
    std::filesystem::path kek;
    std::string says;  // what the refusal must say besides kek_file
  };
  const std::vector<Case> cases = {{wrong, "does not open"}, {missing, "does not exist"}, {readable, "chmod 600"}};
  struct Service {
    std::string name, db;
    const Process::Options& start;
  };
  const std::vector<Service> services = {{"identity", "identity.db", sys.identity_start()},
                                         {"scheduling", "scheduling.db", sys.scheduling_start()}};
  for (const auto& service : services) {
    const auto before = database_files(sys.dir(), service.db);
    ASSERT_TRUE(before.count(service.db)) << service.db;
    int n = 0;
    for (const auto& c : cases) {
      SCOPED_TRACE(service.name + " with " + c.kek.filename().string());
      auto p = Process::start(with_kek(service.start, c.kek, service.name + "-kek" + std::to_string(++n) + ".log"));
      ASSERT_TRUE(p.wait_exit(20s)) << service.name << " kept running with " << c.kek;
      ASSERT_TRUE(p.exit_code());
      EXPECT_NE(*p.exit_code(), 0);
      const auto log = p.log();
      EXPECT_NE(log.find("kek_file"), std::string::npos) << log;
      EXPECT_NE(log.find(c.says), std::string::npos) << log;
      EXPECT_TRUE(database_files(sys.dir(), service.db) == before) << service.db << " changed";
    }
  }
  // The right key still opens both (nothing was damaged by the refused starts).
  for (const auto& service : services) {
    auto start = with_kek(service.start, dev_certs().kek_file(), service.name + "-again.log");
    const std::filesystem::path ready = *std::next(std::find(start.args.begin(), start.args.end(), "--ready_file"));
    std::filesystem::remove(ready);
    auto p = Process::start(start);
    EXPECT_NO_THROW(wait_for_ready_file(ready, 20s, &p));
    p.terminate();
  }
}

}  // namespace
}  // namespace alliance::testing
