// Session check-ins end to end with real processes: redis-server, identity,
// scheduling, messaging, alliance-reminders and the gateway over TLS, driven with the
// client SDK as a phone and a therapist's app would be.
//
// Completing an appointment needs it to have started; to avoid waiting, a test books
// one a little ahead and moves it a day back in scheduling's database (the file the
// service uses) before the therapist completes it through the public API.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <thread>

#include "alliance/client/checkins.hpp"
#include "alliance/client/device.hpp"
#include "alliance/client/messenger.hpp"
#include "alliance/client/web_socket.hpp"
#include "alliance/core/ids.hpp"
#include "alliance/store/connection.hpp"
#include "alliance/store/query.hpp"
#include "dev_certs.hpp"
#include "process.hpp"
#include "reminders_support.hpp"
#include "shared_system.hpp"
#include "system.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string str(const json::value& v, std::string_view key) { return std::string(v.at(key).as_string()); }

// The shared practice (reminders_support.hpp), plus completed sessions and waiting for check-ins.
struct Practice : TwoTherapistPractice {
  int booked = 0;
  explicit Practice(System& s) : TwoTherapistPractice(s, "c") {}

  // Books a session for `client` with the first therapist, moves it a day into the
  // past and has the therapist complete it; the appointment id.
  std::string completed_session(const std::string& client) {
    const auto start = slot_after(std::chrono::hours(1 + booked++));
    json::value body = {{"idempotency_key", "k-" + new_id()}, {"therapist_id", therapist_id},
                        {"client_id", client},              {"type_id", type_id},
                        {"start_time", rfc3339(start)}};
    auto r = admin->post_json("/v1/appointments", body);
    if (!r) throw std::runtime_error("book: " + r.error().message);
    const auto id = str(r->at("appointment"), "id");
    sys.move_appointment_back(id, std::chrono::days(1));
    auto done = therapist->post_json("/v1/appointments/" + id + "/complete", json::object{});
    if (!done) throw std::runtime_error("complete: " + done.error().message);
    return id;
  }

  // The client's open check-in for `appointment_id` once the reminders service made it.
  json::value wait_checkin(client::AllianceClient& who, const std::string& appointment_id) {
    json::value found;
    wait_until(
        [&] {
          auto r = who.get_json("/v1/me/check-ins");
          if (!r) return false;
          for (const auto& c : r->at("checkins").as_array())
            if (str(c, "appointment_id") == appointment_id) {
              found = c;
              return true;
            }
          return false;
        },
        15s);
    return found;
  }
};

json::value ratings(int relationship, int goals, int approach, int overall) {
  return json::object{{"relationship", relationship}, {"goals", goals}, {"approach", approach}, {"overall", overall}};
}

Code code_of(const Result<json::value>& r) { return r ? Code::kOk : r.error().code; }

class Checkins : public SharedSystem {};

TEST_F(Checkins, CompletedSessionPushesACheckInLiveAndOnEachConnectUntilAcknowledged) {
  Practice p(*sys_);
  auto online = push_socket(*p.client);
  const auto appointment = p.completed_session(p.client_id);
  auto frame = next_frame(*online, "checkin.due", 15s);
  ASSERT_TRUE(frame.is_object()) << "no checkin.due reached the online client";
  const auto& body = frame.at("body");
  EXPECT_EQ(str(body, "appointment_id"), appointment);
  EXPECT_EQ(str(body, "therapist_id"), p.therapist_id);
  EXPECT_EQ(body.at("questions").as_array().size(), 4u);
  const auto checkin_id = str(body, "checkin_id");
  EXPECT_EQ(str(frame, "id"), checkin_id);

  // Not acknowledged: every new socket gets it again.
  online.reset();
  for (int i = 0; i < 2; ++i) {
    auto again = push_socket(*p.client);
    auto f = next_frame(*again, "checkin.due", 5s);
    ASSERT_TRUE(f.is_object()) << "connect " << i << " got no checkin.due";
    EXPECT_EQ(str(f.at("body"), "checkin_id"), checkin_id);
  }
  // Acknowledged over the socket: no more pushes, still open to answer.
  {
    auto ws = push_socket(*p.client);
    (void)next_frame(*ws, "checkin.due", 5s);
    ws->send_text(R"({"type":"ack","id":")" + checkin_id + R"("})");
    auto ok = next_frame(*ws, "ack.ok", 5s);
    ASSERT_TRUE(ok.is_object()) << "no ack.ok for the check-in";
  }
  auto after = push_socket(*p.client);
  EXPECT_TRUE(next_frame(*after, "checkin.due", 1500ms).is_null()) << "an acknowledged check-in was pushed again";
  auto open = p.client->get_json("/v1/me/check-ins");
  ASSERT_TRUE(open) << open.error().message;
  ASSERT_EQ(open->at("checkins").as_array().size(), 1u);

  // Another client of the practice gets none of it.
  auto other = p.client2->get_json("/v1/me/check-ins");
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_TRUE(other->at("checkins").as_array().empty());
}

TEST_F(Checkins, AClientAnswersOnceWithASealedCommentOnlyTheTherapistsDeviceOpens) {
  Practice p(*sys_);
  auto client_device = client::register_device(*p.client, "jo's phone");
  ASSERT_TRUE(client_device) << client_device.error().message;
  auto therapist_device = client::register_device(*p.therapist, "kim's laptop");
  ASSERT_TRUE(therapist_device) << therapist_device.error().message;
  client::Messenger client_messenger(*p.client, *client_device);
  client::Messenger therapist_messenger(*p.therapist, *therapist_device);
  auto conversation = client_messenger.open_conversation(p.client_id, p.therapist_id);
  ASSERT_TRUE(conversation) << conversation.error().message;

  const auto appointment = p.completed_session(p.client_id);
  auto due = p.wait_checkin(*p.client, appointment);
  ASSERT_TRUE(due.is_object()) << "no check-in for the completed session";
  const auto checkin_id = str(due, "checkin_id");

  // Every bad field is named.
  const std::string target = "/v1/check-ins/" + checkin_id;
  auto bad = p.client->post_json(target, json::object{{"ratings", ratings(5, 11, 5, 5)}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("ratings.goals"), std::string::npos) << bad.error().message;
  auto missing = p.client->post_json(target, json::object{{"ratings", json::object{{"relationship", 5}}}});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("ratings.goals"), std::string::npos) << missing.error().message;
  auto negative = p.client->post_json(target, json::object{{"ratings", ratings(-1, 5, 5, 5)}});
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.error().message.find("ratings.relationship"), std::string::npos) << negative.error().message;
  // Somebody else's check-in is not found; staff cannot answer.
  EXPECT_EQ(code_of(p.client2->post_json(target, json::object{{"ratings", ratings(5, 5, 5, 5)}})), Code::kNotFound);
  EXPECT_EQ(code_of(p.desk->post_json(target, json::object{{"ratings", ratings(5, 5, 5, 5)}})),
            Code::kPermissionDenied);

  const std::string words = "The homework felt rushed today.";
  auto sealed = client::seal_checkin_comment(client_messenger, conversation->id, p.therapist_id, checkin_id, words);
  ASSERT_TRUE(sealed) << sealed.error().message;
  json::value answer = {{"ratings", ratings(9, 7, 8, 9)}, {"comment", client::checkin_comment_to_json(*sealed)}};
  auto first = p.client->post_json(target, answer);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->at("checkin").at("total").as_int64(), 33);
  EXPECT_FALSE(first->at("replayed").as_bool());
  // The same answer again (a retry) is answered as before; another answer is refused.
  auto retry = p.client->post_json(target, answer);
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_TRUE(retry->at("replayed").as_bool());
  auto second = p.client->post_json(target, json::object{{"ratings", ratings(1, 1, 1, 1)}});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Code::kAlreadyExists);
  // Answered: no longer open.
  auto open = p.client->get_json("/v1/me/check-ins");
  ASSERT_TRUE(open);
  EXPECT_TRUE(open->at("checkins").as_array().empty());

  // The database holds ciphertext, never the words.
  {
    auto db = store::Connection::open(sys_->reminders_database(), {.read_only = true});
    auto stored = store::query_one(*db, "SELECT comment_ciphertext FROM checkins WHERE id = ?",
                                   [](store::Statement& s) { return s.column_blob(0); }, checkin_id);
    ASSERT_TRUE(stored);
    EXPECT_EQ(*stored, sealed->ciphertext);
    EXPECT_EQ(stored->find("homework"), std::string::npos);
  }

  // The therapist sees the scores over time and opens the comment on their device.
  auto list = p.therapist->get_json("/v1/therapists/" + p.therapist_id + "/check-ins");
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->at("checkins").as_array().size(), 1u);
  const auto& seen = list->at("checkins").as_array()[0];
  EXPECT_EQ(str(seen, "client_id"), p.client_id);
  EXPECT_EQ(seen.at("ratings").at("goals").as_int64(), 7);
  auto comment = client::checkin_comment_from_json(seen.at("comment"));
  ASSERT_TRUE(comment) << comment.error().message;
  auto opened = client::open_checkin_comment(therapist_messenger, conversation->id, checkin_id, *comment);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(*opened, words);
  // Bound to its check-in: under another id it does not open.
  EXPECT_FALSE(client::open_checkin_comment(therapist_messenger, conversation->id, "another-id", *comment));

  // Nobody else reads the scores: another therapist, the front desk, an admin, the client.
  const std::string scores = "/v1/therapists/" + p.therapist_id + "/check-ins";
  EXPECT_EQ(code_of(p.therapist2->get_json(scores)), Code::kPermissionDenied);
  EXPECT_EQ(code_of(p.desk->get_json(scores)), Code::kPermissionDenied);
  EXPECT_EQ(code_of(p.admin->get_json(scores)), Code::kPermissionDenied);
  EXPECT_EQ(code_of(p.client->get_json(scores)), Code::kPermissionDenied);

  // The client's access log shows that their therapist read the check-in; the other client's does not.
  auto reads_of = [&](client::AllianceClient& who) {
    std::vector<json::object> out;
    auto log = who.get_json("/v1/me/access-log?limit=200");
    if (!log) return out;
    for (const auto& e : log->at("entries").as_array())
      if (str(e, "object_id") == checkin_id && str(e, "action") == "checkin.read") out.push_back(e.as_object());
    return out;
  };
  std::vector<json::object> reads;
  ASSERT_TRUE(wait_until([&] { return !(reads = reads_of(*p.client)).empty(); }, 10s))
      << "the therapist's read is not in the client's access log";
  EXPECT_EQ(str(reads[0], "actor_role"), "therapist");
  EXPECT_TRUE(reads_of(*p.client2).empty());
}

TEST_F(Checkins, ALowTotalOrADropAlertsTheTherapistOnlyAndAdminsSeeOnlyAggregatesWhenAllowed) {
  Practice p(*sys_);
  // Every bad policy field is named; only an admin sets it.
  auto bad = p.admin->put_json("/v1/check-ins/policy", json::object{{"alert_below_total", 41}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("alert_below_total"), std::string::npos) << bad.error().message;
  EXPECT_EQ(code_of(p.therapist->put_json("/v1/check-ins/policy", json::object{{"alert_below_total", 30}})),
            Code::kPermissionDenied);
  auto set = p.admin->put_json("/v1/check-ins/policy",
                               json::object{{"alert_below_total", 30}, {"alert_drop_points", 5}});
  ASSERT_TRUE(set) << set.error().message;

  auto therapist_ws = push_socket(*p.therapist);
  auto desk_ws = push_socket(*p.desk);
  auto answer = [&](const json::value& r) {
    const auto appointment = p.completed_session(p.client_id);
    auto due = p.wait_checkin(*p.client, appointment);
    if (!due.is_object()) throw std::runtime_error("no check-in for " + appointment);
    auto done = p.client->post_json("/v1/check-ins/" + str(due, "checkin_id"), json::object{{"ratings", r}});
    if (!done) throw std::runtime_error("submit: " + done.error().message);
    return str(due, "checkin_id");
  };
  answer(ratings(10, 10, 10, 9));  // 39: no alert
  auto none = p.therapist->get_json("/v1/me/check-in-alerts");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->at("alerts").as_array().empty());

  const auto dropped = answer(ratings(8, 8, 8, 8));  // 32: more than 5 below the average of 39
  auto pushed = next_frame(*therapist_ws, "checkin.alert", 10s);
  ASSERT_TRUE(pushed.is_object()) << "the therapist got no checkin.alert";
  EXPECT_EQ(str(pushed.at("body"), "checkin_id"), dropped);
  // Ids and reasons only: the scores do not travel through Redis (zero fields print as 0).
  const auto& pushed_body = pushed.at("body").as_object();
  EXPECT_EQ(pushed_body.contains("total") ? pushed_body.at("total").to_number<std::int64_t>() : 0, 0);
  EXPECT_EQ(pushed_body.contains("previous_average_x100") ? pushed_body.at("previous_average_x100").to_number<int>() : 0, 0);
  auto alerts = p.therapist->get_json("/v1/me/check-in-alerts");
  ASSERT_TRUE(alerts) << alerts.error().message;
  ASSERT_EQ(alerts->at("alerts").as_array().size(), 1u);
  const auto& alert = alerts->at("alerts").as_array()[0];
  EXPECT_EQ(str(alert, "checkin_id"), dropped);
  EXPECT_EQ(alert.at("reasons").as_array(), json::array{"drop"});
  EXPECT_EQ(alert.at("total").as_int64(), 32);
  EXPECT_EQ(alert.at("previous_average_x100").to_number<int>(), 3900);

  answer(ratings(7, 7, 7, 7));  // 28: below 30, and more than 5 below the average of 35.5
  alerts = p.therapist->get_json("/v1/me/check-in-alerts");
  ASSERT_TRUE(alerts);
  ASSERT_EQ(alerts->at("alerts").as_array().size(), 2u);
  EXPECT_EQ(alerts->at("alerts").as_array()[0].at("reasons").as_array(), (json::array{"below_threshold", "drop"}));

  // Never the front desk: no push, no list; nor an admin or another therapist.
  EXPECT_TRUE(next_frame(*desk_ws, "checkin.alert", 1500ms).is_null()) << "the front desk got an alert";
  EXPECT_EQ(code_of(p.desk->get_json("/v1/me/check-in-alerts")), Code::kPermissionDenied);
  EXPECT_EQ(code_of(p.admin->get_json("/v1/me/check-in-alerts")), Code::kPermissionDenied);
  auto other = p.therapist2->get_json("/v1/me/check-in-alerts");
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->at("alerts").as_array().empty());

  // Aggregates: only while the policy allows, only admins, never per client.
  const std::string summary = "/v1/practices/" + p.practice_id + "/check-in-summary";
  EXPECT_EQ(code_of(p.admin->get_json(summary)), Code::kPermissionDenied);
  ASSERT_TRUE(p.admin->put_json("/v1/check-ins/policy", json::object{{"alert_below_total", 30},
                                                                      {"alert_drop_points", 5},
                                                                      {"admin_summary", true}}));
  auto sums = p.admin->get_json(summary);
  ASSERT_TRUE(sums) << sums.error().message;
  ASSERT_EQ(sums->at("therapists").as_array().size(), 1u);
  const auto& t = sums->at("therapists").as_array()[0];
  EXPECT_EQ(str(t, "therapist_id"), p.therapist_id);
  EXPECT_EQ(t.at("submitted").as_int64(), 3);
  EXPECT_EQ(t.at("average_total_x100").to_number<int>(), 3300);
  EXPECT_EQ(json::serialize(*sums).find(p.client_id), std::string::npos) << "a client id in the summary";
  EXPECT_EQ(code_of(p.desk->get_json(summary)), Code::kPermissionDenied);
  EXPECT_EQ(code_of(p.therapist->get_json(summary)), Code::kPermissionDenied);
}

TEST_F(Checkins, AClientWhoTurnsCheckInsOffGetsNoneAndOpenOnesAreWithdrawn) {
  Practice p(*sys_);
  const auto before = p.completed_session(p.client_id);
  auto open = p.wait_checkin(*p.client, before);
  ASSERT_TRUE(open.is_object());
  auto off = p.client->put_json("/v1/me/check-in-preferences", json::object{{"enabled", false}});
  ASSERT_TRUE(off) << off.error().message;
  auto pref = p.client->get_json("/v1/me/check-in-preferences");
  ASSERT_TRUE(pref);
  EXPECT_FALSE(pref->at("enabled").as_bool());
  auto listed = p.client->get_json("/v1/me/check-ins");
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->at("checkins").as_array().empty());
  auto late = p.client->post_json("/v1/check-ins/" + str(open, "checkin_id"),
                                  json::object{{"ratings", ratings(5, 5, 5, 5)}});
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Code::kFailedPrecondition);

  // A session completed while off makes none; another client's, completed after it, does.
  const auto during = p.completed_session(p.client_id);
  const auto others = p.completed_session(p.client2_id);
  ASSERT_TRUE(p.wait_checkin(*p.client2, others).is_object());
  auto db = store::Connection::open(sys_->reminders_database(), {.read_only = true});
  auto made = store::query_one(*db, "SELECT COUNT(*) FROM checkins WHERE appointment_id = ?",
                               [](store::Statement& s) { return s.column_int(0); }, during);
  EXPECT_EQ(made.value_or(-1), 0);
  auto ws = push_socket(*p.client);
  EXPECT_TRUE(next_frame(*ws, "checkin.due", 1500ms).is_null());
}

class CheckinExpiry : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SystemOptions options;
    options.reminders = {{{"checkin_expiry", "3s"}, {"rescan", "200ms"}}};
    sys_ = new System(options);
  }
  static void TearDownTestSuite() {
    delete sys_;
    sys_ = nullptr;
  }
  static System* sys_;
};
System* CheckinExpiry::sys_ = nullptr;

TEST_F(CheckinExpiry, AnUnansweredCheckInExpiresAndCanNoLongerBeAnsweredOrPushed) {
  Practice p(*sys_);
  const auto appointment = p.completed_session(p.client_id);
  auto due = p.wait_checkin(*p.client, appointment);
  ASSERT_TRUE(due.is_object());
  EXPECT_TRUE(wait_until(
      [&] {
        auto r = p.client->get_json("/v1/me/check-ins");
        return r && r->at("checkins").as_array().empty();
      },
      10s));
  auto late = p.client->post_json("/v1/check-ins/" + str(due, "checkin_id"),
                                  json::object{{"ratings", ratings(5, 5, 5, 5)}});
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Code::kFailedPrecondition);
  EXPECT_NE(late.error().message.find("expired"), std::string::npos) << late.error().message;
  EXPECT_TRUE(wait_until(
      [&] {
        auto db = store::Connection::open(sys_->reminders_database(), {.read_only = true});
        auto state = store::query_one(*db, "SELECT state FROM checkins WHERE id = ?",
                                      [](store::Statement& s) { return s.column_text(0); }, str(due, "checkin_id"));
        return state && *state == "expired";
      },
      5s));
  auto ws = push_socket(*p.client);
  EXPECT_TRUE(next_frame(*ws, "checkin.due", 1500ms).is_null());
}

TEST_F(Checkins, AnErasureRemovesTheClientsCheckInsAndAlertsFromTheDatabase) {
  Practice p(*sys_);
  ASSERT_TRUE(p.admin->put_json("/v1/check-ins/policy", json::object{{"alert_below_total", 30}}));
  const auto appointment = p.completed_session(p.client_id);
  auto due = p.wait_checkin(*p.client, appointment);
  ASSERT_TRUE(due.is_object());
  const auto checkin_id = str(due, "checkin_id");
  ASSERT_TRUE(p.client->post_json("/v1/check-ins/" + checkin_id, json::object{{"ratings", ratings(2, 2, 2, 2)}}));
  const auto other = p.completed_session(p.client2_id);
  ASSERT_TRUE(p.wait_checkin(*p.client2, other).is_object());

  const std::string erase = "/v1/clients/" + p.client_id + "/check-ins/erase";
  EXPECT_EQ(code_of(p.therapist->post_json(erase, json::object{})), Code::kPermissionDenied);
  EXPECT_EQ(code_of(p.desk->post_json(erase, json::object{})), Code::kPermissionDenied);
  auto erased = p.admin->post_json(erase, json::object{});
  ASSERT_TRUE(erased) << erased.error().message;
  EXPECT_EQ(erased->at("erased").as_int64(), 1);

  auto scores = p.therapist->get_json("/v1/therapists/" + p.therapist_id + "/check-ins");
  ASSERT_TRUE(scores);
  EXPECT_TRUE(scores->at("checkins").as_array().empty());
  auto alerts = p.therapist->get_json("/v1/me/check-in-alerts");
  ASSERT_TRUE(alerts);
  EXPECT_TRUE(alerts->at("alerts").as_array().empty());
  auto db = store::Connection::open(sys_->reminders_database(), {.read_only = true});
  auto count = [&](std::string_view sql, const std::string& id) {
    return store::query_one(*db, sql, [](store::Statement& s) { return s.column_int(0); }, id).value_or(-1);
  };
  EXPECT_EQ(count("SELECT COUNT(*) FROM checkins WHERE client_id = ?", p.client_id), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM checkin_alerts WHERE client_id = ?", p.client_id), 0);
  // The other client's stays.
  EXPECT_EQ(count("SELECT COUNT(*) FROM checkins WHERE client_id = ?", p.client2_id), 1);
}

// alliancectl as each person (a session file each): the admin sets the policy, the client
// lists and answers her check-in, the therapist sees the scores and the alert, the admin
// the summary; --json gives the server's answer.
TEST_F(Checkins, AlliancectlListsAnswersAndShowsScoresAlertsAndTheSummary) {
  Practice p(*sys_);
  const auto pw = sys_->dir() / ("pw-" + p.slug);
  std::ofstream(pw) << System::kPassword;
  auto ctl = [&](const std::string& who, std::vector<std::string> args) {
    std::vector<std::string> all = {"--gateway", "https://127.0.0.1:" + std::to_string(sys_->gateway_port()),
                                    "--ca",      dev_certs().ca().string(),
                                    "--session", (sys_->dir() / (p.slug + "-" + who + ".json")).string()};
    all.insert(all.end(), args.begin(), args.end());
    return run_command(binary("tools/alliancectl/alliancectl"), all, 20s);
  };
  for (const std::string who : {"admin", "kim", "jo"}) {
    auto in = ctl(who, {"login", "--practice", p.slug, "--email", who + "@" + p.slug + ".example", "--password-file",
                        pw.string()});
    ASSERT_EQ(in.exit_code, 0) << who << ": " << in.out;
  }
  auto policy = ctl("admin", {"check-in", "policy", "set", "--below", "30", "--drop", "0", "--admin-summary", "yes"});
  ASSERT_EQ(policy.exit_code, 0) << policy.out;
  EXPECT_NE(policy.out.find("below 30"), std::string::npos) << policy.out;

  const auto appointment = p.completed_session(p.client_id);
  auto due = p.wait_checkin(*p.client, appointment);
  ASSERT_TRUE(due.is_object());
  const auto checkin_id = str(due, "checkin_id");
  auto open = ctl("jo", {"check-ins"});
  ASSERT_EQ(open.exit_code, 0) << open.out;
  EXPECT_NE(open.out.find(checkin_id), std::string::npos) << open.out;
  auto bad = ctl("jo", {"check-in", "submit", "--id", checkin_id, "--relationship", "five", "--goals", "5",
                        "--approach", "5", "--overall", "5"});
  EXPECT_EQ(bad.exit_code, 2);
  auto answered = ctl("jo", {"check-in", "submit", "--id", checkin_id, "--relationship", "6", "--goals", "5",
                             "--approach", "5", "--overall", "4"});
  ASSERT_EQ(answered.exit_code, 0) << answered.out;
  EXPECT_NE(answered.out.find("total 20 of 40"), std::string::npos) << answered.out;

  auto scores = ctl("kim", {"check-in", "scores"});
  ASSERT_EQ(scores.exit_code, 0) << scores.out;
  EXPECT_NE(scores.out.find("6/5/5/4"), std::string::npos) << scores.out;
  auto scores_json = ctl("kim", {"check-in", "scores", "--json"});
  ASSERT_EQ(scores_json.exit_code, 0) << scores_json.out;
  EXPECT_EQ(json::parse(scores_json.out).at("checkins").as_array().at(0).at("total").to_number<int>(), 20);
  auto alerts = ctl("kim", {"check-in", "alerts"});
  ASSERT_EQ(alerts.exit_code, 0) << alerts.out;
  EXPECT_NE(alerts.out.find("below_threshold"), std::string::npos) << alerts.out;
  auto summary = ctl("admin", {"check-in", "summary"});
  ASSERT_EQ(summary.exit_code, 0) << summary.out;
  EXPECT_NE(summary.out.find(p.therapist_id), std::string::npos) << summary.out;
  EXPECT_NE(summary.out.find("20.00"), std::string::npos) << summary.out;
  EXPECT_EQ(summary.out.find(p.client_id), std::string::npos) << summary.out;
  // The admin is not the therapist: no scores.
  EXPECT_EQ(ctl("admin", {"check-in", "scores"}).exit_code, 1);
}

}  // namespace
}  // namespace alliance::testing
