// An admin sets the practice's reminder policy with alliancectl, a client sets her
// time zone with it, and when her appointment's reminder comes due her
// `alliancectl watch --count 1` prints its text once, in her zone, and acknowledges
// it: afterwards `reminders list` shows nothing pending and staff see each
// reminder's state with `reminders list --appointment`. All against real processes.
//
// A reminder is planned hours ahead; to see one fire now the test moves its due
// instant in the reminders database and wakes the service, as reminders_test.cpp does.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "alliance/core/ids.hpp"
#include "alliance/store/connection.hpp"
#include "alliance/store/query.hpp"
#include "reminders_support.hpp"
#include "system.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// One row of `reminders list --appointment`: ID, BEFORE, DUE (two words), STATE, then the rest.
struct Row {
  std::string id, before, state, line;
};
std::vector<Row> rows_of(const std::string& out) {
  std::vector<Row> rows;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    Row r;
    std::string day, time;
    if (!(words >> r.id >> r.before >> day >> time >> r.state)) continue;
    if (r.id.size() != 32 || r.id.find_first_not_of("0123456789abcdef") != std::string::npos) continue;
    r.line = line;
    rows.push_back(std::move(r));
  }
  return rows;
}
std::size_t count_state(const std::vector<Row>& rows, const std::string& state) {
  return static_cast<std::size_t>(std::count_if(rows.begin(), rows.end(), [&](const Row& r) { return r.state == state; }));
}

class AlliancectlReminders : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { sys_ = new System(); }
  static void TearDownTestSuite() {
    delete sys_;
    sys_ = nullptr;
  }

  // A practice of its own for each test: admin, front desk, a therapist and a
  // client on her care team, each logged in with alliancectl (a session file each);
  // the therapist open around the clock (UTC) and a 30-minute type bookable at any notice.
  void SetUp() override {
    slug_ = "c" + new_id().substr(0, 12);
    pw_ = sys_->dir() / ("pw-" + slug_);
    std::ofstream(pw_) << System::kPassword;
    sys_->create_practice(slug_);
    sys_->create_user(slug_, email("desk"), "front_desk");
    therapist_id_ = sys_->create_user(slug_, email("kim"), "therapist");
    client_id_ = sys_->create_user(slug_, email("jo"), "client");
    for (const char* who : {"admin", "desk", "kim", "jo"}) {
      auto in = ctl(who, {"login", "--practice", slug_, "--email", email(who), "--password-file", pw_.string()});
      ASSERT_EQ(in.exit_code, 0) << who << ": " << in.out;
    }
    auto link = ctl("admin", {"care-team", "add", "--client", client_id_, "--therapist", therapist_id_});
    ASSERT_EQ(link.exit_code, 0) << link.out;

    admin_ = sys_->login(slug_, email("admin"));
    open_around_the_clock(*admin_, therapist_id_);
    type_id_ = quick_type(*admin_, "Individual therapy");
  }

  std::string email(const std::string& who) const { return who + "@" + slug_ + ".example"; }

  // alliancectl as `who` (their own session file); stdout only.
  CommandOutput ctl(const std::string& who, std::vector<std::string> args) {
    return run_command(binary("tools/alliancectl/alliancectl"), with_common(who, std::move(args)), 20s);
  }
  // The same with stderr too (where watch reports the server's answers to its acks).
  CommandOutput ctl_both(const std::string& who, std::vector<std::string> args) {
    std::string line = "exec 2>&1; exec '" + binary("tools/alliancectl/alliancectl").string() + "'";
    for (const auto& a : with_common(who, std::move(args))) line += " '" + a + "'";
    return run_command("/bin/sh", {"-c", line}, 30s);
  }
  std::vector<std::string> with_common(const std::string& who, std::vector<std::string> args) const {
    std::vector<std::string> all = {"--gateway", "https://127.0.0.1:" + std::to_string(sys_->gateway_port()),
                                    "--ca",      dev_certs().ca().string(),
                                    "--session", (sys_->dir() / (slug_ + "-" + who + ".json")).string()};
    all.insert(all.end(), args.begin(), args.end());
    return all;
  }

  // Books the client with the therapist; the appointment as scheduling answered.
  json::value book(std::int64_t start_ms) {
    json::value body = {{"idempotency_key", "k-" + new_id()}, {"therapist_id", therapist_id_},
                        {"client_id", client_id_},             {"type_id", type_id_},
                        {"start_time", rfc3339(start_ms)}};
    auto r = admin_->post_json("/v1/appointments", body);
    if (!r) throw std::runtime_error("book: " + r.error().message);
    return r->at("appointment");
  }

  // `reminders list --appointment ID` as `who` once `n` rows are in `state` (empty on timeout).
  std::vector<Row> wait_for(const std::string& who, const std::string& appointment_id, std::size_t n,
                            const std::string& state) {
    std::vector<Row> rows;
    wait_until(
        [&] {
          auto out = ctl(who, {"reminders", "list", "--appointment", appointment_id});
          if (out.exit_code != 0) return false;
          auto all = rows_of(out.out);
          if (count_state(all, state) < n) return false;
          rows = std::move(all);
          return true;
        },
        20s);
    return rows;
  }

  // Moves a planned reminder's due instant in the service's database and wakes it.
  void make_due(const std::string& reminder_id, std::int64_t due_ms) {
    ASSERT_EQ(testing::make_due(*sys_, {reminder_id}, due_ms), 1);
  }

  static System* sys_;
  std::string slug_, therapist_id_, client_id_, type_id_;
  std::filesystem::path pw_;
  std::unique_ptr<client::AllianceClient> admin_;
};
System* AlliancectlReminders::sys_ = nullptr;

TEST_F(AlliancectlReminders, AdminSetsThePolicyEveryoneSeesItAndOthersCannotChangeIt) {
  auto defaults = ctl("jo", {"reminders", "policy", "show"});
  ASSERT_EQ(defaults.exit_code, 0) << defaults.out;
  EXPECT_NE(defaults.out.find("reminders 24h (1440 min), 2h (120 min) before the start\n"), std::string::npos)
      << defaults.out;
  EXPECT_NE(defaults.out.find("quiet hours: 21:00-08:00"), std::string::npos) << defaults.out;
  EXPECT_NE(defaults.out.find("no admin has set a policy: these are the defaults"), std::string::npos) << defaults.out;

  auto set = ctl("admin", {"reminders", "policy", "set", "--offsets", "1440,120,30", "--quiet", "none",
                           "--show-therapist", "yes"});
  ASSERT_EQ(set.exit_code, 0) << set.out;
  const std::string offsets_line = "reminders 24h (1440 min), 2h (120 min), 30m (30 min) before the start\n";
  EXPECT_NE(set.out.find(offsets_line), std::string::npos) << set.out;
  EXPECT_NE(set.out.find("quiet hours: none\n"), std::string::npos) << set.out;
  EXPECT_NE(set.out.find("therapist named in reminders: yes\n"), std::string::npos) << set.out;

  // The client sees the same policy; who set it instead of "the defaults".
  auto shown = ctl("jo", {"reminders", "policy", "show"});
  ASSERT_EQ(shown.exit_code, 0) << shown.out;
  EXPECT_NE(shown.out.find(offsets_line), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("quiet hours: none\n"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("therapist named in reminders: yes\n"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("set by "), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find("these are the defaults"), std::string::npos) << shown.out;

  // The front desk may not change it, and offsets out of range are refused; it stays.
  auto desk = ctl("desk", {"reminders", "policy", "set", "--offsets", "60", "--quiet", "none", "--show-therapist",
                           "no"});
  EXPECT_EQ(desk.exit_code, 1) << desk.out;
  auto bad = ctl("admin", {"reminders", "policy", "set", "--offsets", "1440,1"});
  EXPECT_NE(bad.exit_code, 0) << bad.out;
  auto after = ctl("admin", {"reminders", "policy", "show"});
  EXPECT_NE(after.out.find(offsets_line), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("therapist named in reminders: yes\n"), std::string::npos) << after.out;
}

TEST_F(AlliancectlReminders, UserSetTimeZoneForOneselfAndByStaffWhoMay) {
  auto mine = ctl("jo", {"user", "set-time-zone", "Europe/Berlin"});
  ASSERT_EQ(mine.exit_code, 0) << mine.out;
  EXPECT_EQ(mine.out, "time zone of " + email("jo") + " (" + client_id_ + ") is now Europe/Berlin\n");

  // The front desk may set a client's zone; a therapist may not (as if there were no such user).
  auto by_desk = ctl("desk", {"user", "set-time-zone", "--user", client_id_, "America/New_York"});
  ASSERT_EQ(by_desk.exit_code, 0) << by_desk.out;
  EXPECT_EQ(by_desk.out, "time zone of " + email("jo") + " (" + client_id_ + ") is now America/New_York\n");
  auto by_therapist = ctl("kim", {"user", "set-time-zone", "--user", client_id_, "Asia/Tokyo"});
  EXPECT_EQ(by_therapist.exit_code, 1) << by_therapist.out;

  // A name the zone database does not know is refused by the server; one that is not
  // even shaped like a zone name, by alliancectl itself.
  EXPECT_EQ(ctl("jo", {"user", "set-time-zone", "Mars/Olympus_Mons"}).exit_code, 1);
  EXPECT_EQ(ctl("jo", {"user", "set-time-zone", "not a zone"}).exit_code, 2);
  auto back = ctl("jo", {"user", "set-time-zone", "Europe/Berlin"});
  EXPECT_EQ(back.out, "time zone of " + email("jo") + " (" + client_id_ + ") is now Europe/Berlin\n");
}

TEST_F(AlliancectlReminders, WatchPrintsADueReminderOnceAndAcknowledgesIt) {
  ASSERT_EQ(ctl("admin", {"reminders", "policy", "set", "--offsets", "1440,120,30", "--quiet", "none",
                          "--show-therapist", "yes"})
                .exit_code,
            0);
  ASSERT_EQ(ctl("jo", {"user", "set-time-zone", "Europe/Berlin"}).exit_code, 0);
  const auto start = slot_after(50h);
  const auto appointment = book(start);
  const std::string appointment_id(appointment.at("id").as_string());
  const std::string local_start(appointment.at("client_local_start").as_string());  // "2030-01-08T14:00"
  ASSERT_GE(local_start.size(), 16u) << local_start;

  // The front desk sees three planned reminders; the client sees them too.
  auto planned = wait_for("desk", appointment_id, 3, "planned");
  ASSERT_EQ(planned.size(), 3u);
  EXPECT_EQ(planned[0].before, "24h");
  EXPECT_EQ(planned[1].before, "2h");
  EXPECT_EQ(planned[2].before, "30m");
  auto own = ctl("jo", {"reminders", "list", "--appointment", appointment_id});
  ASSERT_EQ(own.exit_code, 0) << own.out;
  EXPECT_EQ(rows_of(own.out).size(), 3u) << own.out;
  EXPECT_EQ(own.out.rfind("appointment " + appointment_id + " starts " + rfc3339(start).substr(0, 10) + " " +
                              rfc3339(start).substr(11, 5) + "Z\n",
                          0),
            0u)
      << own.out;
  auto none_yet = ctl("jo", {"reminders", "list"});
  EXPECT_EQ(none_yet.out, "no pending reminders\n");

  // The client watches; meanwhile the 30-minute reminder comes due.
  const std::string reminder_id = planned[2].id;
  CommandOutput watched;
  std::thread watcher([&] { watched = ctl_both("jo", {"watch", "--count", "1", "--seconds", "20"}); });
  make_due(reminder_id, now_unix_ms() + 1000);
  watcher.join();
  ASSERT_EQ(watched.exit_code, 0) << watched.out;
  std::string when = local_start.substr(0, 16);
  when[10] = ' ';
  EXPECT_EQ(occurrences(watched.out, "reminder " + reminder_id + ": " + when + " Europe/Berlin (UTC+0"), 1u)
      << watched.out;
  const std::string text_start = "  Practice " + slug_ + ": reminder of your appointment on ";
  EXPECT_EQ(occurrences(watched.out, text_start), 1u) << watched.out;
  EXPECT_NE(watched.out.find(" at " + local_start.substr(11, 5) + " (Europe/Berlin) with " + email("kim") +
                             ". Please confirm it.\n"),
            std::string::npos)
      << watched.out;
  EXPECT_NE(watched.out.find("actions: confirm, cancel"), std::string::npos) << watched.out;
  EXPECT_EQ(watched.out.find("Individual therapy"), std::string::npos) << "the appointment type was shown";
  EXPECT_NE(watched.out.find("acknowledged reminder " + reminder_id + "\n"), std::string::npos)
      << "the server's answer to the ack was not shown: " << watched.out;

  // Acknowledged: nothing pending for the client, and staff see why.
  auto pending = ctl("jo", {"reminders", "list"});
  ASSERT_EQ(pending.exit_code, 0) << pending.out;
  EXPECT_EQ(pending.out, "no pending reminders\n");
  auto states = ctl("desk", {"reminders", "list", "--appointment", appointment_id});
  ASSERT_EQ(states.exit_code, 0) << states.out;
  auto rows = rows_of(states.out);
  ASSERT_EQ(rows.size(), 3u) << states.out;
  for (const auto& r : rows) EXPECT_EQ(r.state, r.id == reminder_id ? "acknowledged" : "planned") << r.line;

  // A second watch has nothing to show: the acknowledged reminder is not pushed again.
  auto again = ctl("jo", {"watch", "--count", "1", "--seconds", "2"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(again.out.find(reminder_id), std::string::npos) << again.out;

  // Cancelled: the rest show as cancelled, with the reason.
  auto cancel = admin_->post_json("/v1/appointments/" + appointment_id + "/cancel",
                                  json::value{{"reason", "schedule change"}});
  ASSERT_TRUE(cancel) << cancel.error().message;
  auto after = wait_for("desk", appointment_id, 2, "cancelled");
  ASSERT_EQ(after.size(), 3u);
  for (const auto& r : after) {
    if (r.id == reminder_id) {
      EXPECT_EQ(r.state, "acknowledged") << r.line;
    } else {
      EXPECT_EQ(r.state, "cancelled") << r.line;
      EXPECT_NE(r.line.find("reason: cancelled"), std::string::npos) << r.line;
    }
  }
}

}  // namespace
}  // namespace alliance::testing
