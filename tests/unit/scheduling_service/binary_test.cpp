// The real alliance-scheduling binary: a bad config value stops it with a message
// that names the key; a good config serves RPC on the port its ready file reports,
// to allowed peers only (the reminders service: the event feed and nothing else),
// and exits 0 on SIGTERM.
#include <gtest/gtest.h>

#include <algorithm>

#include "alliance/scheduling/v1/scheduling.pb.h"
#include "dev_certs.hpp"
#include "process.hpp"
#include "redis_server.hpp"
#include "service_call.hpp"

namespace alliance::scheduling {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace pb = ::alliance::scheduling::v1;

const fs::path kExe = ALLIANCE_BINARY_DIR "/services/scheduling/alliance-scheduling";

class SchedulingBinaryTest : public ::testing::Test {
 protected:
  static fs::path certs() { return testing::dev_certs().dir; }

  std::vector<std::string> args(const std::string& redis, const std::string& window = "24h") const {
    const auto c = certs();
    return {"--listen", "127.0.0.1:0", "--tls_ca", (c / "ca.pem").string(), "--tls_cert",
            (c / "scheduling.pem").string(), "--tls_key", (c / "scheduling.key").string(), "--database",
            (dir_.path() / "scheduling.db").string(), "--kek_file", (c / "data.kek").string(), "--redis", redis, "--identity", "127.0.0.1:1",
            "--cancellation_window", window, "--allowed_peers", "gateway", "--ready_file",
            (dir_.path() / "ready.json").string()};
  }

  testing::Process start(std::vector<std::string> a) {
    return testing::Process::start({.exe = kExe, .args = std::move(a), .log_file = dir_.path() / "scheduling.log"});
  }

  // One call to the binary on `port`, presenting `peer`'s certificate, as an admin.
  template <class Resp, class Req>
  Result<Resp> call_as(std::uint16_t port, const std::string& peer, const std::string& method, const Req& req) {
    rpc::v1::Caller caller;
    caller.set_user_id("admin-1");
    caller.set_practice_id("practice-1");
    caller.set_role("admin");
    return testing::call_service<Resp>(port, "scheduling", peer, "alliance.scheduling.v1.Scheduling/" + method, req,
                                       caller);
  }

  testing::TempDir dir_;
};

TEST_F(SchedulingBinaryTest, BadConfigValueExitsOneNamingTheKey) {
  auto p = start(args("127.0.0.1:1", "40d"));
  ASSERT_TRUE(p.wait_exit(10s)) << p.log();
  EXPECT_EQ(p.exit_code(), 1);
  EXPECT_NE(p.log().find("cancellation_window"), std::string::npos) << p.log();
  EXPECT_FALSE(fs::exists(dir_.path() / "ready.json"));
}

TEST_F(SchedulingBinaryTest, UnknownKeyIsRefused) {
  auto a = args("127.0.0.1:1");
  a.insert(a.end(), {"--cancelation_window", "1h"});
  auto p = start(a);
  ASSERT_TRUE(p.wait_exit(10s)) << p.log();
  EXPECT_EQ(p.exit_code(), 1);
  EXPECT_NE(p.log().find("cancelation_window"), std::string::npos) << p.log();
}

TEST_F(SchedulingBinaryTest, ServesAllowedPeersOnTheReadyPortAndStopsCleanly) {
  testing::RedisServer redis;
  auto p = start(args(redis.host_port()));
  auto ready = testing::wait_for_ready_file(dir_.path() / "ready.json", 10s, &p);
  ASSERT_GT(ready["rpc_port"], 0);
  const auto port = static_cast<std::uint16_t>(ready["rpc_port"]);

  pb::ListAppointmentTypesRequest types;
  auto from_gateway = call_as<pb::ListAppointmentTypesResponse>(port, "gateway", "ListAppointmentTypes", types);
  ASSERT_TRUE(from_gateway.ok()) << from_gateway.error().message;
  EXPECT_EQ(from_gateway->types_size(), 0);
  // A valid certificate, but not on allowed_peers.
  auto from_messaging = call_as<pb::ListAppointmentTypesResponse>(port, "messaging", "ListAppointmentTypes", types);
  ASSERT_FALSE(from_messaging.ok());
  EXPECT_EQ(from_messaging.error().code, Code::kPermissionDenied);

  p.terminate();
  EXPECT_EQ(p.exit_code(), 0) << p.log();
}

TEST_F(SchedulingBinaryTest, EventRetentionOutsideOneHourToAYearExitsOneNamingTheKey) {
  for (const char* retention : {"30m", "400d"}) {
    auto a = args("127.0.0.1:1");
    a.insert(a.end(), {"--event_retention", retention});
    auto p = start(a);
    ASSERT_TRUE(p.wait_exit(10s)) << p.log();
    EXPECT_EQ(p.exit_code(), 1) << retention;
    EXPECT_NE(p.log().find("event_retention"), std::string::npos) << p.log();
  }
}

TEST_F(SchedulingBinaryTest, ByDefaultTheGatewayCallsForUsersAndRemindersReadsOnlyTheEventFeed) {
  testing::RedisServer redis;
  auto a = args(redis.host_port());
  auto flag = std::find(a.begin(), a.end(), "--allowed_peers");
  ASSERT_NE(flag, a.end());
  a.erase(flag, flag + 2);  // the default allowed_peers
  auto p = start(a);
  auto ready = testing::wait_for_ready_file(dir_.path() / "ready.json", 10s, &p);
  const auto port = static_cast<std::uint16_t>(ready["rpc_port"]);

  pb::ListAppointmentTypesRequest types;
  pb::ListEventsSinceRequest events;
  auto gateway_types = call_as<pb::ListAppointmentTypesResponse>(port, "gateway", "ListAppointmentTypes", types);
  EXPECT_TRUE(gateway_types.ok()) << gateway_types.error().message;
  auto gateway_events = call_as<pb::ListEventsSinceResponse>(port, "gateway", "ListEventsSince", events);
  ASSERT_FALSE(gateway_events.ok());
  EXPECT_EQ(gateway_events.error().code, Code::kPermissionDenied);
  auto reminders_events = call_as<pb::ListEventsSinceResponse>(port, "reminders", "ListEventsSince", events);
  ASSERT_TRUE(reminders_events.ok()) << reminders_events.error().message;
  EXPECT_EQ(reminders_events->last_seq(), 0);
  auto reminders_types = call_as<pb::ListAppointmentTypesResponse>(port, "reminders", "ListAppointmentTypes", types);
  ASSERT_FALSE(reminders_types.ok());
  EXPECT_EQ(reminders_types.error().code, Code::kPermissionDenied);

  p.terminate();
  EXPECT_EQ(p.exit_code(), 0) << p.log();
}

}  // namespace
}  // namespace alliance::scheduling
