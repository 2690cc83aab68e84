// The front desk books an appointment for a client: the client's access log shows the
// front desk's role and name against that booking, another client's log shows nothing
// of it, an admin finds it in the practice's audit log (the front desk may not read
// that), alliancectl access-log shows the client the same, and the audit.db the running system wrote verifies with alliancectl.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>

#include "process.hpp"
#include "scheduling_practice.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class AuditLog : public SchedulingPractice {
 protected:
  // The entries of `who`'s access log about `appointment_id`.
  std::vector<json::object> access_to(client::AllianceClient& who, const std::string& appointment_id) {
    std::vector<json::object> out;
    auto log = who.get_json("/v1/me/access-log?limit=200");
    EXPECT_TRUE(log) << log.error().message;
    if (!log) return out;
    if (const auto* entries = log->as_object().if_contains("entries"))
      for (const auto& e : entries->as_array())
        if (str(e, "object_id") == appointment_id) out.push_back(e.as_object());
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

}  // namespace
}  // namespace alliance::testing
