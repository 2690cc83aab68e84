// The front desk books an appointment for a client: the client's access log shows the
// front desk's role and name against that booking, another client's log shows nothing
// of it, an admin finds it in the practice's audit log (the front desk may not read
// that), alliancectl access-log shows the client the same, and the audit.db the running system wrote verifies with alliancectl.
// The therapist opens, reads and lists the client's conversation, the front desk reads
// the reminders of the client's appointment and an admin erases the conversation: the
// client's access log shows each of them and another client's shows none; the other
// client's try to read the conversation is in the practice's log as a refusal.
// The therapist and the front desk open calendars, a client's waitlist entry and a
// series: each client shown finds it in their own access log, and no other client does.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <set>

#include "alliance/audit/audit_file.hpp"
#include "alliance/core/ids.hpp"
#include "process.hpp"
#include "system.hpp"
#include "scheduling_practice.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class AuditLog : public SchedulingPractice {
 protected:
  // The entries of `who`'s access log with `key` = `value`.
  std::vector<json::object> access_log(client::AllianceClient& who, std::string_view key, const std::string& value) {
    std::vector<json::object> out;
    auto log = who.get_json("/v1/me/access-log?limit=200");
    EXPECT_TRUE(log) << log.error().message;
    if (!log) return out;
    if (const auto* entries = log->as_object().if_contains("entries"))
      for (const auto& e : entries->as_array())
        if (str(e, key) == value) out.push_back(e.as_object());
    return out;
  }
  // The entries of `who`'s access log about `object_id`.
  std::vector<json::object> access_to(client::AllianceClient& who, const std::string& object_id) {
    return access_log(who, "object_id", object_id);
  }

  // The actions in `entries` by `role`.
  static std::set<std::string> actions_by(const std::vector<json::object>& entries, const std::string& role) {
    std::set<std::string> out;
    for (const auto& e : entries)
      if (str(e, "actor_role") == role) out.insert(str(e, "action"));
    return out;
  }

  // The front desk books the client into the therapist's first (or last) open slot; the
  // appointment's id, "" if that failed (the failure is reported).
  std::string desk_books(bool last = false) {
    auto open = slots(therapist_id_);
    EXPECT_FALSE(open.empty());
    if (open.empty()) return {};
    auto r = post(*desk_, "/v1/appointments", booking(last ? open.back() : open[0], client_id_));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? str(json::parse(r.body).at("appointment"), "id") : std::string();
  }
};

TEST_F(AuditLog, TheFrontDesksBookingShowsInTheClientsAccessLogAndNowhereElse) {
  const std::string id = desk_books();
  ASSERT_FALSE(id.empty());
  // The client looks at it themselves: their own actions are not what the log is for.
  ASSERT_TRUE(client_->get_json("/v1/appointments/" + id));

  std::vector<json::object> seen;
  ASSERT_TRUE(wait_until([&] { return !(seen = access_to(*client_, id)).empty(); }, 10s))
      << "the booking never reached the client's access log";
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(str(seen[0], "action"), "appointment.book");
  EXPECT_EQ(str(seen[0], "actor_role"), "front_desk");
  EXPECT_EQ(str(seen[0], "actor_name"), "desk@" + slug_ + ".example");
  EXPECT_EQ(str(seen[0], "outcome"), "ok");
  EXPECT_EQ(str(seen[0], "at").size(), 20u);

  // The same view from alliancectl, signed in as the client.
  const auto pw = sys_->dir() / ("pw-" + slug_);
  std::ofstream(pw) << System::kPassword;
  auto ctl = [&](std::vector<std::string> args) {
    std::vector<std::string> all = {"-c", "exec \"$0\" \"$@\" 2>&1", binary("tools/alliancectl/alliancectl").string(),
                                    "--gateway", "https://127.0.0.1:" + std::to_string(sys_->gateway_port()),
                                    "--ca", dev_certs().ca().string(), "--session",
                                    (sys_->dir() / ("jo-" + slug_ + ".json")).string()};
    all.insert(all.end(), args.begin(), args.end());
    return run_command("/bin/sh", all, 20s);
  };
  auto login = ctl({"login", "--practice", slug_, "--email", "jo@" + slug_ + ".example", "--password-file", pw.string()});
  ASSERT_EQ(login.exit_code, 0) << login.out;
  auto shown = ctl({"access-log"});
  EXPECT_EQ(shown.exit_code, 0) << shown.out;
  EXPECT_NE(shown.out.find("desk@" + slug_ + ".example"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("front_desk"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("appointment.book"), std::string::npos) << shown.out;

  auto other = sys_->login(slug_, "sam@" + slug_ + ".example");
  EXPECT_TRUE(access_to(*other, id).empty());

  auto all = admin_->get_json("/v1/audit?client_id=" + client_id_ + "&limit=500");
  ASSERT_TRUE(all) << all.error().message;
  bool found = false;
  for (const auto& rec : all->at("records").as_array())
    found = found || (str(rec, "object_id") == id && str(rec, "actor_user_id") == desk_id_ &&
                      str(rec, "action") == "appointment.book" && str(rec, "service") == "scheduling");
  EXPECT_TRUE(found) << json::serialize(*all);
  auto refused = desk_->get_json("/v1/audit");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kPermissionDenied) << refused.error().message;

  const auto out = run_command(ALLIANCE_BINARY_DIR "/tools/alliancectl/alliancectl",
                               {"audit", "verify", "--database", (sys_->dir() / "audit.db").string(), "--public-key",
                                (sys_->dir() / "audit_signing_key.pem.pub").string()});
  EXPECT_EQ(out.exit_code, 0) << out.out;
  EXPECT_NE(out.out.find("audit log intact"), std::string::npos) << out.out;
}

// A staff note is part of the client's record: the client sees that their therapist
// wrote and read one (never what it says), and no other client does.
TEST_F(AuditLog, AStaffNoteWrittenAndReadShowsInItsClientsAccessLogWithoutItsText) {
  const std::string id = desk_books();
  ASSERT_FALSE(id.empty());
  auto kim = sys_->login(slug_, "kim@" + slug_ + ".example");
  ASSERT_TRUE(kim->put_json("/v1/appointments/" + id + "/note", json::value{{"note", "Quillfeather worries"}}));
  auto read = kim->get_json("/v1/appointments/" + id + "/note");
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(str(read->at("note"), "client_id"), client_id_);

  std::set<std::string> by_therapist;
  ASSERT_TRUE(wait_until([&] {
    by_therapist = actions_by(access_to(*client_, id), "therapist");
    return by_therapist.contains("appointment_note.read");
  }, 10s)) << "the note's reading never reached the client's access log";
  EXPECT_TRUE(by_therapist.contains("appointment_note.change"));
  auto log = client_->get_json("/v1/me/access-log?limit=200");
  ASSERT_TRUE(log);
  EXPECT_EQ(json::serialize(*log).find("Quillfeather"), std::string::npos);
  auto other = sys_->login(slug_, "sam@" + slug_ + ".example");
  EXPECT_TRUE(access_to(*other, id).empty());
}

TEST_F(AuditLog, MessagingAndRemindersAccessShowsInTheClientsAccessLogAndNeverAnotherClients) {
  auto kim = sys_->login(slug_, "kim@" + slug_ + ".example");
  auto opened = kim->post_json("/v1/conversations", json::value{{"client_id", client_id_}, {"therapist_id", therapist_id_}});
  ASSERT_TRUE(opened) << opened.error().message;
  const std::string conversation = str(opened->at("conversation"), "id");
  ASSERT_TRUE(kim->get_json("/v1/conversations/" + conversation));
  ASSERT_TRUE(kim->get_json("/v1/conversations"));
  // Another client of the practice tries the conversation: hidden (404) and recorded.
  auto sam = sys_->login(slug_, "sam@" + slug_ + ".example");
  auto peek = sam->get_json("/v1/conversations/" + conversation);
  ASSERT_FALSE(peek);
  EXPECT_EQ(peek.error().code, Code::kNotFound);

  // The front desk books for the client and reads the reminders planned for it.
  const std::string appointment = desk_books(/*last=*/true);
  ASSERT_FALSE(appointment.empty());
  ASSERT_TRUE(wait_until(
      [&] {
        auto planned = desk_->get_json("/v1/appointments/" + appointment + "/reminders");
        return planned && !planned->at("reminders").as_array().empty();
      },
      15s))
      << "no reminders were planned for the booking";

  auto erased = admin_->post_json("/v1/conversations/" + conversation + "/erase",
                                  json::value{{"reason", "the client asked"}});
  ASSERT_TRUE(erased) << erased.error().message;

  const std::set<std::string> therapist_did = {"conversation.open", "conversation.read", "conversation.list"};
  std::vector<json::object> seen;
  ASSERT_TRUE(wait_until(
      [&] {
        seen = access_to(*client_, conversation);
        return actions_by(seen, "therapist") == therapist_did && actions_by(seen, "admin").count("conversation.erase");
      },
      10s))
      << "the conversation's access never reached the client's access log";
  for (const auto& e : seen) {
    EXPECT_EQ(str(e, "outcome"), "ok");
    if (str(e, "actor_role") == "therapist") {
      EXPECT_EQ(str(e, "actor_name"), "kim@" + slug_ + ".example");
    }
  }
  std::vector<json::object> reminders;
  ASSERT_TRUE(wait_until([&] { return !(reminders = access_to(*client_, appointment)).empty() &&
                                      actions_by(reminders, "front_desk").count("reminder.list"); },
                         10s))
      << "the front desk's reading of the reminders never reached the client's access log";

  // Nothing of it in the other client's log; their refused try is in the practice's.
  EXPECT_TRUE(access_to(*sam, conversation).empty());
  EXPECT_TRUE(access_to(*sam, appointment).empty());
  auto theirs = admin_->get_json("/v1/audit?user_id=" + client2_id_ + "&limit=500");
  ASSERT_TRUE(theirs) << theirs.error().message;
  bool refused = false;
  for (const auto& rec : theirs->at("records").as_array())
    refused = refused || (str(rec, "object_id") == conversation && str(rec, "service") == "messaging" &&
                          str(rec, "action") == "conversation.read" && str(rec, "outcome") == "not_found" &&
                          str(rec, "subject_user_id").empty());
  EXPECT_TRUE(refused) << json::serialize(*theirs);
}

TEST_F(AuditLog, ACalendarViewShowsInTheAccessLogOfEachClientOnItAndNoOtherClients) {
  // Jo sees Kim twice, Sam sees Lee, on the same New York day (from 12:00 UTC on is that
  // UTC date in New York, winter or summer).
  const std::string date = day_from_now(2).substr(0, 10);
  auto open = slots(therapist_id_, date + "T12:00:00Z", day_from_now(3));
  ASSERT_GE(open.size(), 2u);
  ASSERT_EQ(post(*desk_, "/v1/appointments", booking(open[0], client_id_)).status, 201);
  ASSERT_EQ(post(*desk_, "/v1/appointments", booking(open[1], client_id_)).status, 201);
  ASSERT_EQ(post(*desk_, "/v1/appointments", booking(open[0], client2_id_, "", therapist2_id_)).status, 201);

  // Kim opens her own day: Jo's two appointments are on it, Sam's is not.
  auto kim = sys_->login(slug_, "kim@" + slug_ + ".example");
  auto day = kim->get_json("/v1/calendar?date=" + date);
  ASSERT_TRUE(day) << day.error().message;
  auto sam = sys_->login(slug_, "sam@" + slug_ + ".example");
  std::vector<json::object> jos;
  ASSERT_TRUE(wait_until([&] { return !(jos = access_log(*client_, "action", "calendar.read")).empty(); }, 10s))
      << "the therapist's calendar view never reached the client's access log";
  ASSERT_EQ(jos.size(), 1u) << "one record per client on the calendar, not per appointment";
  EXPECT_EQ(str(jos[0], "actor_role"), "therapist");
  EXPECT_EQ(str(jos[0], "actor_name"), "kim@" + slug_ + ".example");
  EXPECT_EQ(str(jos[0], "object_type"), "calendar");
  EXPECT_EQ(str(jos[0], "object_id"), therapist_id_);
  EXPECT_EQ(str(jos[0], "outcome"), "ok");

  // The front desk opens Lee's day only: Sam's log shows it, Jo's does not.
  auto lees = desk_->get_json("/v1/calendar?date=" + date + "&therapist_ids=" + therapist2_id_);
  ASSERT_TRUE(lees) << lees.error().message;
  std::vector<json::object> sams;
  ASSERT_TRUE(wait_until([&] { return !(sams = access_log(*sam, "action", "calendar.read")).empty(); }, 10s))
      << "the front desk's calendar view never reached the other client's access log";
  ASSERT_EQ(sams.size(), 1u) << "Sam was shown a record of Kim's calendar";
  EXPECT_EQ(str(sams[0], "actor_role"), "front_desk");
  EXPECT_EQ(str(sams[0], "object_id"), therapist2_id_);
  EXPECT_EQ(access_log(*client_, "action", "calendar.read").size(), 1u) << "Jo was shown the view of Lee's calendar";
}

TEST_F(AuditLog, WaitlistEntriesReadAndChangedByStaffShowInTheirClientsAccessLogOnly) {
  json::value join = {{"therapist_id", therapist_id_}, {"client_id", client_id_}, {"type_id", type_id_},
                      {"from_date", day_from_now(1).substr(0, 10)}, {"to_date", day_from_now(20).substr(0, 10)}};
  auto joined = desk_->post_json("/v1/waitlist", join);
  ASSERT_TRUE(joined) << joined.error().message;
  const std::string entry = str(joined->at("entry"), "id");
  auto kim = sys_->login(slug_, "kim@" + slug_ + ".example");
  auto listed = kim->get_json("/v1/waitlist");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->at("entries").as_array().size(), 1u);
  auto offers = desk_->get_json("/v1/waitlist/offers?client_id=" + client_id_);
  ASSERT_TRUE(offers) << offers.error().message;
  // Another client tries to take Jo off the list: hidden (404), and recorded without Jo as its subject.
  auto sam = sys_->login(slug_, "sam@" + slug_ + ".example");
  auto theirs = sam->call_json("DELETE", "/v1/waitlist/" + entry, nullptr);
  ASSERT_FALSE(theirs);
  EXPECT_EQ(theirs.error().code, Code::kNotFound);
  auto left = desk_->call_json("DELETE", "/v1/waitlist/" + entry, nullptr);
  ASSERT_TRUE(left) << left.error().message;

  std::vector<json::object> seen;
  ASSERT_TRUE(wait_until(
      [&] {
        seen = access_to(*client_, entry);
        return actions_by(seen, "front_desk") == std::set<std::string>{"waitlist.join", "waitlist.leave"} &&
               actions_by(seen, "therapist") == std::set<std::string>{"waitlist.read"};
      },
      10s))
      << "the waitlist's access never reached the client's access log";
  for (const auto& e : seen) EXPECT_EQ(str(e, "object_type"), "waitlist_entry");
  EXPECT_TRUE(access_to(*sam, entry).empty());
  bool refused = false;
  ASSERT_TRUE(wait_until(
      [&] {
        auto all = admin_->get_json("/v1/audit?user_id=" + client2_id_ + "&limit=500");
        if (!all) return false;
        for (const auto& rec : all->at("records").as_array())
          refused = refused || (str(rec, "action") == "waitlist.leave" && str(rec, "outcome") == "not_found" &&
                                str(rec, "service") == "scheduling" && str(rec, "subject_user_id").empty());
        return refused;
      },
      10s))
      << "the other client's refused try is not in the practice's audit log";
}

TEST_F(AuditLog, ASeriesBookedMovedAndCancelledByTheFrontDeskShowsInItsClientsAccessLogOnly) {
  auto open = slots(therapist_id_);
  ASSERT_GE(open.size(), 3u);
  json::value body = {{"idempotency_key", new_id()}, {"therapist_id", therapist_id_}, {"client_id", client_id_},
                      {"type_id", type_id_},         {"first_start_time", open[0]},   {"interval_weeks", 1},
                      {"count", 2},                  {"on_conflict", "skip"}};
  auto r = post(*desk_, "/v1/appointment-series", body);
  ASSERT_EQ(r.status, 201) << r.body;
  auto booked = json::parse(r.body);
  const std::string series = str(booked, "series_id");
  std::vector<std::string> ids;
  for (const auto& o : booked.at("occurrences").as_array())
    if (str(o, "outcome") == "booked") ids.push_back(str(o.at("appointment"), "id"));
  ASSERT_EQ(ids.size(), 2u) << r.body;
  auto moved = post(*desk_, "/v1/appointment-series/" + series + "/reschedule",
                    json::value{{"from_appointment_id", ids[0]}, {"new_start_time", open[2]}, {"on_conflict", "skip"}});
  ASSERT_EQ(moved.status, 200) << moved.body;
  auto cancelled = post(*desk_, "/v1/appointment-series/" + series + "/cancel", json::value{{"reason", "moving away"}});
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;

  const std::set<std::string> desk_did = {"series.book", "series.reschedule", "series.cancel"};
  for (const auto& id : ids) {
    std::vector<json::object> seen;
    ASSERT_TRUE(wait_until([&] { return actions_by(seen = access_to(*client_, id), "front_desk") == desk_did; }, 10s))
        << "the series' changes of " << id << " never reached the client's access log";
    for (const auto& e : seen) EXPECT_EQ(str(e, "object_type"), "appointment");
  }
  auto sam = sys_->login(slug_, "sam@" + slug_ + ".example");
  for (const auto& id : ids) EXPECT_TRUE(access_to(*sam, id).empty());
}

// The operator prunes the audit log of a running system with alliancectl: the old
// records go to an archive beside audit.db that verifies on its own, the log left
// verifies from the kept checkpoint and holds the prune's record, identity goes on
// appending; a wrong operator token or a time with nothing to prune changes nothing.
TEST(AuditRetention, AnOperatorPrunesARunningSystemsLogAndBothPartsStillVerify) {
  System sys(SystemOptions{.identity_flags = {{"audit_checkpoint_every", "1"}}});
  sys.create_practice("prune");
  ASSERT_NE(sys.login("prune", "admin@prune.example"), nullptr);
  const auto token = dev_certs().operator_token_file().string();
  auto ctl = [&](std::vector<std::string> args) {
    std::vector<std::string> all = {"-c", "exec \"$0\" \"$@\" 2>&1", binary("tools/alliancectl/alliancectl").string(),
                                    "--gateway", "https://127.0.0.1:" + std::to_string(sys.gateway_port()), "--ca",
                                    dev_certs().ca().string(), "--session", (sys.dir() / "op.json").string()};
    all.insert(all.end(), args.begin(), args.end());
    return run_command("/bin/sh", all, 20s);
  };
  auto verify = [&](const std::filesystem::path& db) {
    return run_command(binary("tools/alliancectl/alliancectl"),
                       {"audit", "verify", "--database", db.string(), "--public-key",
                        (sys.dir() / "audit_signing_key.pem.pub").string()});
  };

  const auto pw = sys.dir() / "not-the-token";
  std::ofstream(pw) << "not the operator token";
  auto forged = ctl({"audit", "prune", "--before", "2099-01-01T00:00:00Z", "--operator-token-file", pw.string()});
  EXPECT_NE(forged.exit_code, 0) << forged.out;
  auto too_old = ctl({"audit", "prune", "--before", "2020-01-01T00:00:00Z", "--operator-token-file", token});
  EXPECT_NE(too_old.exit_code, 0) << too_old.out;
  EXPECT_NE(too_old.out.find("before"), std::string::npos) << too_old.out;
  EXPECT_EQ(verify(sys.dir() / "audit.db").out.find("pruned"), std::string::npos);

  auto pruned = ctl({"audit", "prune", "--before", "2099-01-01T00:00:00Z", "--operator-token-file", token});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.out;
  EXPECT_NE(pruned.out.find("pruned "), std::string::npos) << pruned.out;
  std::filesystem::path archive;
  for (const auto& e : std::filesystem::directory_iterator(sys.dir()))
    if (e.path().filename().string().rfind("audit-archive-1-", 0) == 0 && e.path().extension() == ".db") archive = e.path();
  ASSERT_FALSE(archive.empty()) << pruned.out;
  auto archived = verify(archive);
  EXPECT_EQ(archived.exit_code, 0) << archived.out;

  // Identity goes on appending after the prune (a sign-in), and the log verifies from the anchor.
  ASSERT_NE(sys.login("prune", "admin@prune.example"), nullptr);
  ASSERT_TRUE(wait_until(
      [&] {
        auto file = audit::read_audit_file(sys.dir() / "audit.db");
        return file && !file->records.empty() && file->records.back().action == "login.ok";
      },
      10s));
  auto left = verify(sys.dir() / "audit.db");
  EXPECT_EQ(left.exit_code, 0) << left.out;
  EXPECT_NE(left.out.find("were pruned"), std::string::npos) << left.out;
  auto file = audit::read_audit_file(sys.dir() / "audit.db");
  ASSERT_TRUE(file);
  bool recorded = false;
  for (const auto& r : file->records) recorded = recorded || (r.action == "audit.prune" && r.actor_role == "operator");
  EXPECT_TRUE(recorded);
}

}  // namespace
}  // namespace alliance::testing
