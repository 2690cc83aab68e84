// The front desk books an appointment for a client: the client's access log shows the
// front desk's role and name against that booking, another client's log shows nothing
// of it, an admin finds it in the practice's audit log (the front desk may not read
// that), alliancectl access-log shows the client the same, and the audit.db the running system wrote verifies with alliancectl.
// The therapist opens, reads and lists the client's conversation, the front desk reads
// the reminders of the client's appointment and an admin erases the conversation: the
// client's access log shows each of them and another client's shows none; the other
// client's try to read the conversation is in the practice's log as a refusal.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <set>

#include "alliance/audit/audit_file.hpp"
#include "process.hpp"
#include "system.hpp"
#include "scheduling_practice.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class AuditLog : public SchedulingPractice {
 protected:
  // The entries of `who`'s access log about `object_id`.
  std::vector<json::object> access_to(client::AllianceClient& who, const std::string& object_id) {
    std::vector<json::object> out;
    auto log = who.get_json("/v1/me/access-log?limit=200");
    EXPECT_TRUE(log) << log.error().message;
    if (!log) return out;
    if (const auto* entries = log->as_object().if_contains("entries"))
      for (const auto& e : entries->as_array())
        if (str(e, "object_id") == object_id) out.push_back(e.as_object());
    return out;
  }

  // The actions in `entries` by `role`.
  static std::set<std::string> actions_by(const std::vector<json::object>& entries, const std::string& role) {
    std::set<std::string> out;
    for (const auto& e : entries)
      if (str(e, "actor_role") == role) out.insert(str(e, "action"));
    return out;
  }
};

TEST_F(AuditLog, TheFrontDesksBookingShowsInTheClientsAccessLogAndNowhereElse) {
  auto open = slots(therapist_id_);
  ASSERT_FALSE(open.empty());
  auto r = post(*desk_, "/v1/appointments", booking(open[0], client_id_));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = str(json::parse(r.body).at("appointment"), "id");
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
  auto open = slots(therapist_id_);
  ASSERT_FALSE(open.empty());
  auto r = post(*desk_, "/v1/appointments", booking(open.back(), client_id_));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string appointment = str(json::parse(r.body).at("appointment"), "id");
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
