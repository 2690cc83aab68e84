// Reminders end to end with real processes: redis-server, identity, scheduling,
// messaging, one or two alliance-reminders and the gateway, over TLS, driven with
// the client SDK as a phone would be.
//
// Reminders are planned hours before an appointment; to see one fire without
// waiting hours, a test moves a planned reminder's due instant to "in a moment"
// in the reminders database (the same file the service uses) and wakes the
// service, which then fires it through its normal path. The plans themselves
// (which offsets, which instants) are checked through the public API.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <set>
#include <thread>

#include "alliance/client/web_socket.hpp"
#include "alliance/core/ids.hpp"
#include "alliance/store/connection.hpp"
#include "alliance/store/query.hpp"
#include "reminders_support.hpp"
#include "shared_system.hpp"
#include "system.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

std::string str(const json::value& v, std::string_view key) { return std::string(v.at(key).as_string()); }

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

// A practice with an admin, a front desk, two therapists and two clients (both on
// the first therapist's care team), therapists open around the clock (UTC), and a
// 30-minute type on a 5-minute grid that can be booked at any notice.
struct Practice : TwoTherapistPractice {
  explicit Practice(System& s) : TwoTherapistPractice(s, "r") {}

  std::string book(const std::string& client, std::int64_t start_ms, const std::string& therapist = "") {
    json::value body = {{"idempotency_key", "k-" + new_id()},
                        {"therapist_id", therapist.empty() ? therapist_id : therapist},
                        {"client_id", client},
                        {"type_id", type_id},
                        {"start_time", rfc3339(start_ms)}};
    auto r = admin->post_json("/v1/appointments", body);
    if (!r) throw std::runtime_error("book: " + r.error().message);
    return str(r->at("appointment"), "id");
  }

  void set_policy(const json::value& policy) {
    auto r = admin->call_json("PUT", "/v1/reminders/policy", &policy);
    if (!r) throw std::runtime_error("policy: " + r.error().message);
  }

  json::array reminders_of(const std::string& appointment_id) {
    auto r = admin->get_json("/v1/appointments/" + appointment_id + "/reminders");
    if (!r) return {};
    return r->at("reminders").as_array();
  }

  // The appointment's reminders once `n` of them are in `state` (empty on timeout).
  json::array wait_for(const std::string& appointment_id, std::size_t n, const std::string& state,
                       std::chrono::milliseconds timeout = 15s) {
    json::array out;
    wait_until(
        [&] {
          auto all = reminders_of(appointment_id);
          std::size_t matching = 0;
          for (const auto& r : all)
            if (str(r, "state") == state) ++matching;
          if (matching < n) return false;
          out = std::move(all);
          return true;
        },
        timeout);
    return out;
  }
};

std::vector<std::string> ids_in(const json::array& reminders, const std::string& state) {
  std::vector<std::string> out;
  for (const auto& r : reminders)
    if (str(r, "state") == state) out.push_back(str(r, "id"));
  return out;
}

struct Received {
  json::value frame;
  std::int64_t at_ms = 0;
};

// The next "reminder.due" frame (other frames are skipped) and when it was read.
std::optional<Received> next_reminder(client::WebSocket& ws, std::chrono::milliseconds timeout) {
  auto v = next_frame(ws, "reminder.due", timeout);
  if (v.is_null()) return std::nullopt;
  return Received{std::move(v), now_ms()};
}

class Reminders : public SharedSystem {};

TEST_F(Reminders, BookingPlansTheDefaultOffsetsInTheClientsZone) {
  // A client in Berlin booked three days ahead at 13:00 UTC (14:00 in Berlin): the
  // 24 h and 2 h reminders are both outside Berlin's 21:00-08:00 quiet hours.
  Practice p(*sys_);
  json::value zone = {{"time_zone", "Europe/Berlin"}};
  ASSERT_TRUE(p.client->call_json("PUT", "/v1/users/me/time-zone", &zone));
  auto start = slot_after(72h);
  start = start - start % (24 * 3600 * 1000LL) + 13 * 3600 * 1000LL;  // 13:00 UTC that day
  auto id = p.book(p.client_id, start);
  auto planned = p.wait_for(id, 2, "planned");
  ASSERT_EQ(planned.size(), 2u);
  std::set<std::pair<std::int64_t, std::string>> got;
  for (const auto& r : planned) got.insert({r.at("offset_minutes").as_int64(), str(r, "due_at")});
  EXPECT_EQ(got, (std::set<std::pair<std::int64_t, std::string>>{{1440, rfc3339(start - 24 * 3600 * 1000LL)},
                                                                 {120, rfc3339(start - 2 * 3600 * 1000LL)}}));
  // Booked 3 h ahead: only the 2 h reminder. Without quiet hours, so that it does not
  // depend on the time of day the test runs at (in them it would be moved, or sent at once).
  p.set_policy(json::value{{"offsets_minutes", json::array{1440, 120}}, {"quiet_start", ""}, {"quiet_end", ""}});
  auto soon = p.book(p.client2_id, slot_after(3h));
  auto only = p.wait_for(soon, 1, "planned");
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0].at("offset_minutes").as_int64(), 120);
}

TEST_F(Reminders, DueReminderReachesEverySocketOnTimeAndAnAckOverTheSocketEndsIt) {
  Practice p(*sys_);
  auto start = slot_after(50h);
  auto id = p.book(p.client_id, start);
  auto planned = p.wait_for(id, 2, "planned");
  ASSERT_EQ(planned.size(), 2u);
  auto phone = push_socket(*p.client);
  auto tablet = push_socket(*p.client);
  auto other = push_socket(*p.client2);
  const auto reminder_id = ids_in(planned, "planned").front();
  const auto due = now_ms() + 1500;
  make_due(*sys_, {reminder_id}, due);

  auto a = next_reminder(*phone, 10s);
  auto b = next_reminder(*tablet, 10s);
  ASSERT_TRUE(a && b);
  EXPECT_GE(a->at_ms, due);
  EXPECT_LT(a->at_ms - due, 1000) << "late by " << a->at_ms - due << " ms";
  EXPECT_EQ(str(a->frame, "id"), reminder_id);
  EXPECT_EQ(str(b->frame, "id"), reminder_id);
  const auto& body = a->frame.at("body");
  EXPECT_EQ(str(body, "reminder_id"), reminder_id);
  EXPECT_EQ(str(body, "appointment_id"), id);
  EXPECT_EQ(str(body, "practice_name"), "Practice " + p.slug);
  EXPECT_EQ(str(body, "start_time"), rfc3339(start));
  EXPECT_EQ(str(body, "time_zone"), "UTC");  // no zone set: the therapist's
  EXPECT_EQ(str(body, "therapist_name"), "");  // the default policy does not name the therapist
  EXPECT_FALSE(body.at("confirmed").as_bool());
  EXPECT_EQ(body.at("actions"), (json::array{"confirm", "cancel"}));
  const auto text = str(body, "text");
  EXPECT_NE(text.find("Practice " + p.slug), std::string::npos) << text;
  EXPECT_EQ(text.find("Couples"), std::string::npos) << "the appointment type is on the lock screen: " << text;
  EXPECT_EQ(text.find("kim@"), std::string::npos) << text;
  EXPECT_FALSE(next_reminder(*other, 500ms)) << "another client got it";

  phone->send_text(R"({"type":"ack","id":")" + reminder_id + R"("})");
  std::optional<json::value> answer;
  for (int i = 0; i < 5 && !answer; ++i) {
    auto t = phone->read_text(3s);
    if (!t) break;
    auto v = json::parse(*t);
    if (v.at("type") == "ack.ok") answer = v;
  }
  ASSERT_TRUE(answer);
  EXPECT_EQ(str(*answer, "id"), reminder_id);
  auto after = p.wait_for(id, 1, "acknowledged");
  ASSERT_FALSE(after.empty());
  for (const auto& r : after) {
    if (str(r, "id") != reminder_id) continue;
    EXPECT_EQ(r.at("deliveries").as_int64(), 1);
    EXPECT_FALSE(str(r, "sent_at").empty());
    EXPECT_FALSE(str(r, "acknowledged_at").empty());
  }
  // Acknowledged: a new connection does not get it again.
  auto later = push_socket(*p.client);
  EXPECT_FALSE(next_reminder(*later, 1500ms));
}

TEST_F(Reminders, ASocketFrameThatIsNotUnderstoodGetsAnErrorAndTheSocketStays) {
  Practice p(*sys_);
  auto ws = push_socket(*p.client);
  ws->send_text("not json");
  auto e1 = ws->read_text(3s);
  ASSERT_TRUE(e1);
  EXPECT_EQ(json::parse(*e1).at("type"), "error");
  ws->send_text(R"({"type":"ack"})");
  auto e2 = ws->read_text(3s);
  ASSERT_TRUE(e2);
  auto v = json::parse(*e2);
  EXPECT_EQ(v.at("type"), "ack.error");
  EXPECT_NE(str(v.at("error"), "message").find("id"), std::string::npos);
  ws->send_text(R"({"type":"ack","id":"nope"})");
  auto e3 = ws->read_text(3s);
  ASSERT_TRUE(e3);
  EXPECT_EQ(str(json::parse(*e3).at("error"), "code"), "not_found");
  EXPECT_FALSE(ws->closed());
}

TEST_F(Reminders, OfflineClientGetsItOnEachNewConnectionUntilAcknowledged) {
  Practice p(*sys_);
  auto id = p.book(p.client_id, slot_after(30h));
  auto planned = p.wait_for(id, 2, "planned");
  ASSERT_EQ(planned.size(), 2u);
  const auto reminder_id = ids_in(planned, "planned").front();
  make_due(*sys_, {reminder_id}, now_ms());
  ASSERT_FALSE(p.wait_for(id, 1, "sent").empty());

  auto pending = p.client->get_json("/v1/reminders");
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->at("reminders").as_array().size(), 1u);
  EXPECT_EQ(str(pending->at("reminders").as_array()[0], "reminder_id"), reminder_id);
  for (int round = 0; round < 2; ++round) {
    auto ws = push_socket(*p.client);
    auto got = next_reminder(*ws, 5s);
    ASSERT_TRUE(got) << "round " << round;
    EXPECT_EQ(str(got->frame, "id"), reminder_id);
  }
  // Nobody else's list shows it, and nobody else may acknowledge it.
  EXPECT_TRUE(p.client2->get_json("/v1/reminders")->at("reminders").as_array().empty());
  auto theirs = p.client2->post_json("/v1/reminders/" + reminder_id + "/ack", json::object{});
  ASSERT_FALSE(theirs);
  EXPECT_EQ(theirs.error().code, Code::kNotFound);
  auto ack = p.client->post_json("/v1/reminders/" + reminder_id + "/ack", json::object{});
  ASSERT_TRUE(ack) << ack.error().message;
  EXPECT_EQ(str(ack->at("reminder"), "state"), "acknowledged");
  EXPECT_TRUE(p.client->post_json("/v1/reminders/" + reminder_id + "/ack", json::object{}));  // twice is fine
  EXPECT_TRUE(p.client->get_json("/v1/reminders")->at("reminders").as_array().empty());
  auto ws = push_socket(*p.client);
  EXPECT_FALSE(next_reminder(*ws, 1500ms));
  for (const auto& r : p.reminders_of(id))
    if (str(r, "id") == reminder_id) {
      EXPECT_EQ(r.at("deliveries").as_int64(), 3);  // live (nobody listening) + 2 reconnects
    }
}

TEST_F(Reminders, RescheduleAndCancellationNeverLetAStaleReminderOut) {
  Practice p(*sys_);
  auto id = p.book(p.client_id, slot_after(30h));
  auto first = p.wait_for(id, 2, "planned");
  ASSERT_EQ(first.size(), 2u);
  auto ws = push_socket(*p.client);
  auto moved_to = slot_after(40h);
  ASSERT_TRUE(p.admin->post_json("/v1/appointments/" + id + "/reschedule",
                                 json::value{{"new_start_time", rfc3339(moved_to)}}));
  auto after_move = p.wait_for(id, 2, "cancelled");
  ASSERT_EQ(after_move.size(), 4u);
  for (const auto& r : after_move) {
    if (str(r, "state") == "cancelled") {
      EXPECT_EQ(str(r, "cancel_reason"), "rescheduled");
    } else {
      EXPECT_EQ(str(r, "state"), "planned");
      EXPECT_EQ(str(r, "appointment_start_time"), rfc3339(moved_to));
    }
  }
  // The old reminders can never be sent, even once their instant comes.
  make_due(*sys_, ids_in(after_move, "cancelled"), now_ms());
  EXPECT_FALSE(next_reminder(*ws, 2s));
  ASSERT_TRUE(p.admin->post_json("/v1/appointments/" + id + "/cancel", json::value{{"reason", "unwell"}}));
  auto after_cancel = p.wait_for(id, 4, "cancelled");
  ASSERT_EQ(after_cancel.size(), 4u);
  std::size_t by_cancel = 0;
  for (const auto& r : after_cancel) by_cancel += str(r, "cancel_reason") == "cancelled";
  EXPECT_EQ(by_cancel, 2u);
  make_due(*sys_, ids_in(after_cancel, "cancelled"), now_ms());
  EXPECT_FALSE(next_reminder(*ws, 2s));
}

TEST_F(Reminders, AfterConfirmingTheNextReminderSaysConfirmedAndOffersNoConfirm) {
  Practice p(*sys_);
  auto id = p.book(p.client_id, slot_after(30h));
  auto planned = p.wait_for(id, 2, "planned");
  ASSERT_EQ(planned.size(), 2u);
  ASSERT_TRUE(p.client->post_json("/v1/appointments/" + id + "/confirm", json::object{}));
  // Confirming changes nothing in the plan.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(ids_in(p.reminders_of(id), "planned").size(), 2u);
  auto ws = push_socket(*p.client);
  make_due(*sys_, {ids_in(planned, "planned").back()}, now_ms() + 300);
  auto got = next_reminder(*ws, 5s);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->frame.at("body").at("confirmed").as_bool());
  EXPECT_EQ(got->frame.at("body").at("actions"), (json::array{"cancel"}));
  EXPECT_NE(str(got->frame.at("body"), "text").find("You have confirmed it."), std::string::npos);
}

TEST_F(Reminders, PolicyNamesTheTherapistAndAClientWhoTurnedRemindersOffGetsNone) {
  Practice p(*sys_);
  p.set_policy(json::value{{"offsets_minutes", json::array{1440, 60}},
                           {"quiet_start", "22:00"},
                           {"quiet_end", "07:00"},
                           {"show_therapist_name", true}});
  auto shown = p.client->get_json("/v1/reminders/policy");
  ASSERT_TRUE(shown);
  EXPECT_EQ(shown->at("policy").at("offsets_minutes"), (json::array{1440, 60}));
  json::value no_offsets = {{"offsets_minutes", json::array{}}};
  auto bad = p.admin->call_json("PUT", "/v1/reminders/policy", &no_offsets);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "offsets_minutes");
  json::value by_desk = {{"offsets_minutes", json::array{60}}};
  auto refused = p.desk->call_json("PUT", "/v1/reminders/policy", &by_desk);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kPermissionDenied);

  auto id = p.book(p.client_id, slot_after(30h));
  auto planned = p.wait_for(id, 2, "planned");
  ASSERT_EQ(planned.size(), 2u);
  std::set<std::int64_t> offsets;
  for (const auto& r : planned) offsets.insert(r.at("offset_minutes").as_int64());
  EXPECT_EQ(offsets, (std::set<std::int64_t>{1440, 60}));
  auto ws = push_socket(*p.client);
  auto ids = ids_in(planned, "planned");
  make_due(*sys_, {ids[0]}, now_ms() + 200);
  auto got = next_reminder(*ws, 5s);
  ASSERT_TRUE(got);
  EXPECT_EQ(str(got->frame.at("body"), "therapist_name"), "kim@" + p.slug + ".example");

  json::value off = {{"enabled", false}};
  auto pref = p.client->call_json("PUT", "/v1/reminders/preference", &off);
  ASSERT_TRUE(pref);
  EXPECT_FALSE(pref->at("enabled").as_bool());
  make_due(*sys_, {ids[1]}, now_ms() + 200);
  EXPECT_FALSE(next_reminder(*ws, 2s));
  bool opted_out = false;
  for (const auto& r : p.wait_for(id, 1, "cancelled"))
    if (str(r, "id") == ids[1]) opted_out = str(r, "cancel_reason") == "opted_out";
  EXPECT_TRUE(opted_out);
}

TEST_F(Reminders, OnlyTheClientTheirTherapistAndStaffSeeAnAppointmentsReminders) {
  Practice p(*sys_);
  Practice elsewhere(*sys_);
  auto id = p.book(p.client_id, slot_after(30h));
  ASSERT_EQ(p.wait_for(id, 2, "planned").size(), 2u);
  const std::string path = "/v1/appointments/" + id + "/reminders";
  EXPECT_EQ(p.client->get_json(path)->at("reminders").as_array().size(), 2u);
  EXPECT_EQ(p.therapist->get_json(path)->at("reminders").as_array().size(), 2u);
  EXPECT_EQ(p.desk->get_json(path)->at("reminders").as_array().size(), 2u);
  for (auto* outsider : {p.client2.get(), p.therapist2.get(), elsewhere.admin.get(), elsewhere.client.get()}) {
    auto r = outsider->get_json(path);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::kNotFound);
  }
}

// Events survive Redis: scheduling keeps them, reminders reads them from there.
TEST_F(Reminders, RedisFlushedAndRestartedEmptyWhileBookingsFlowLosesNoPlan) {
  Practice p(*sys_);
  std::vector<std::string> ids;
  ids.push_back(p.book(p.client_id, slot_after(30h)));
  sys_->redis().cli({"FLUSHALL"});
  ids.push_back(p.book(p.client_id, slot_after(31h)));
  sys_->redis().stop();
  ids.push_back(p.book(p.client2_id, slot_after(32h)));
  sys_->redis().restart();
  ids.push_back(p.book(p.client2_id, slot_after(33h)));
  for (const auto& id : ids) EXPECT_EQ(p.wait_for(id, 2, "planned", 20s).size(), 2u) << id;
}


// Two instances share one database. Instance 0 leases every reminder well ahead of
// its due instant (a long lookahead) and is killed with SIGKILL before the instant;
// instance 1 must take them over once the leases run out and deliver each exactly
// once, within 2 s of the due instant.
TEST(RemindersFailover, AKilledInstancesRemindersAreDeliveredByTheOtherExactlyOnceWithinTwoSeconds) {
  SystemOptions options;
  options.reminders = {{{"lookahead", "20s"}, {"lease", "1s"}},
                       {{"lookahead", "0s"}, {"lease", "1s"}, {"rescan", "200ms"}}};
  options.gateway_reminders = 1;
  System sys(options);
  Practice p(sys);
  std::vector<std::string> due_ids;
  const auto first = slot_after(30h, 10 * 30min);  // ten half-hours on one day
  for (int i = 0; i < 10; ++i) {
    for (const auto& [client, therapist] : std::array<std::pair<std::string, std::string>, 2>{
             {{p.client_id, p.therapist_id}, {p.client2_id, p.therapist2_id}}}) {
      auto id = p.book(client, first + i * 30 * 60 * 1000LL, therapist);
      auto planned = p.wait_for(id, 2, "planned");
      ASSERT_EQ(planned.size(), 2u);
      due_ids.push_back(ids_in(planned, "planned").front());
    }
  }
  auto ws1 = push_socket(*p.client);
  auto ws2 = push_socket(*p.client2);
  const auto due = now_ms() + 4000;
  make_due(sys, due_ids, due);
  // Wait until instance 0 holds every one of them.
  ASSERT_TRUE(wait_until(
      [&] {
        auto c = store::Connection::open(sys.reminders_database(), {.read_only = true});
        auto held = store::query_one(
            *c, "SELECT COUNT(*) FROM reminders WHERE due_ms = ?1 AND lease_owner = 'reminders-0'",
            [](store::Statement& s) { return s.column_int(0); }, due);
        return held && *held == static_cast<std::int64_t>(due_ids.size());
      },
      3s));
  sys.kill_reminders(0);

  // Each client expects its 10; read both sockets until they have them.
  std::map<std::string, int> seen;
  std::int64_t last_at = 0;
  for (auto* ws : {ws1.get(), ws2.get()}) {
    std::size_t on_this = 0;
    while (on_this < due_ids.size() / 2) {
      auto got = next_reminder(*ws, 6s);
      if (!got) break;
      if (seen[str(got->frame, "id")]++ == 0) ++on_this;
      last_at = std::max(last_at, got->at_ms);
    }
  }
  for (auto* ws : {ws1.get(), ws2.get()})
    while (auto extra = next_reminder(*ws, 1s)) ++seen[str(extra->frame, "id")];
  EXPECT_EQ(seen.size(), due_ids.size()) << "lost reminders";
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id << " seen " << n << " times";
  EXPECT_LE(last_at - due, 2000) << "takeover took " << last_at - due << " ms after the due instant";
}

// Reminders is stopped (by default for 2 minutes) while appointments are booked,
// moved and cancelled; started again it catches up from scheduling's outbox: the
// reminder that came due meanwhile goes out at once, nothing cancelled or moved
// away is ever sent, and the moved appointment has a fresh plan.
TEST(RemindersOutage, StoppedWhileBookingsChangeItCatchesUpAndSendsOnlyWhatIsStillDue) {
  const auto outage = std::chrono::seconds(std::getenv("ALLIANCE_REMINDERS_OUTAGE_S")
                                               ? std::atoi(std::getenv("ALLIANCE_REMINDERS_OUTAGE_S"))
                                               : 120);
  System sys;
  Practice p(sys);
  // An offset that comes due about a minute after booking, and no quiet hours, so
  // the test does not depend on the time of day it runs at.
  const auto start_a = slot_after(3h);
  const int offset = static_cast<int>((start_a - now_ms()) / 60000) - 1;
  p.set_policy(json::value{{"offsets_minutes", json::array{offset, 1440}}, {"quiet_start", ""}, {"quiet_end", ""}});
  auto ws1 = push_socket(*p.client);
  auto ws2 = push_socket(*p.client2);
  const auto stopped_at = now_ms();
  sys.stop_reminders(0);

  auto a = p.book(p.client_id, start_a);                       // its `offset` reminder comes due meanwhile
  auto b = p.book(p.client_id, slot_after(30h));                // moved: its first plan must never go out
  ASSERT_TRUE(p.admin->post_json("/v1/appointments/" + b + "/reschedule",
                                 json::value{{"new_start_time", rfc3339(slot_after(40h))}}));
  auto c = p.book(p.client2_id, slot_after(30h));               // cancelled: nothing may go out
  ASSERT_TRUE(p.admin->post_json("/v1/appointments/" + c + "/cancel", json::value{{"reason", "moved away"}}));
  const auto a_due = start_a - static_cast<std::int64_t>(offset) * 60000;
  const auto resume_at = std::max(stopped_at + outage.count() * 1000, a_due + 2000);
  // Keep both sockets read meanwhile (the SDK answers the gateway's pings only
  // while reading); nothing may arrive while reminders is down.
  while (now_ms() < resume_at) {
    EXPECT_FALSE(next_reminder(*ws1, 500ms));
    EXPECT_FALSE(next_reminder(*ws2, 500ms));
  }
  sys.start_reminders(0);

  auto got = next_reminder(*ws1, 15s);
  ASSERT_TRUE(got) << "the reminder that came due during the outage was not sent: "
                   << json::serialize(p.reminders_of(a));
  EXPECT_EQ(str(got->frame.at("body"), "appointment_id"), a);
  EXPECT_EQ(got->frame.at("body").at("offset_minutes").as_int64(), offset);
  EXPECT_FALSE(next_reminder(*ws1, 3s)) << "more than the one reminder still due was sent";
  EXPECT_FALSE(next_reminder(*ws2, 1s)) << "a reminder of a cancelled appointment was sent";

  auto ra = p.reminders_of(a);
  ASSERT_EQ(ra.size(), 1u) << "the 24 h offset was already past at booking";
  EXPECT_EQ(str(ra[0], "state"), "sent");
  auto rb = p.wait_for(b, 2, "cancelled");
  ASSERT_EQ(rb.size(), 4u);
  EXPECT_EQ(ids_in(rb, "planned").size(), 2u);
  for (const auto& r : rb)
    if (str(r, "state") == "cancelled") {
      EXPECT_EQ(str(r, "cancel_reason"), "rescheduled");
    }
  auto rc = p.reminders_of(c);
  EXPECT_EQ(ids_in(rc, "cancelled").size(), rc.size());
}

}  // namespace
}  // namespace alliance::testing
