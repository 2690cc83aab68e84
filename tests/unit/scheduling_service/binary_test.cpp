// The real alliance-scheduling binary: a bad config value stops it with a message
// that names the key; a good config serves RPC on the port its ready file reports,
// to allowed peers only, and exits 0 on SIGTERM.
#include <gtest/gtest.h>

#include "alliance/core/asio.hpp"
#include "alliance/net/rpc_client.hpp"
#include "alliance/net/tls.hpp"
#include "alliance/scheduling/v1/scheduling.pb.h"
#include "process.hpp"
#include "redis_server.hpp"

namespace alliance::scheduling {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace pb = ::alliance::scheduling::v1;

const fs::path kExe = ALLIANCE_BINARY_DIR "/services/scheduling/alliance-scheduling";

class SchedulingBinaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_dir_ = new testing::TempDir();
    auto r = testing::run_command(ALLIANCE_SOURCE_DIR "/scripts/dev-certs", {certs().string()}, 60s);
    if (r.exit_code != 0) throw std::runtime_error("scripts/dev-certs failed");
  }
  static void TearDownTestSuite() {
    delete certs_dir_;
    certs_dir_ = nullptr;
  }
  static fs::path certs() { return certs_dir_->path() / "certs"; }

  std::vector<std::string> args(const std::string& redis, const std::string& window = "24h") const {
    const auto c = certs();
    return {"--listen", "127.0.0.1:0", "--tls_ca", (c / "ca.pem").string(), "--tls_cert",
            (c / "scheduling.pem").string(), "--tls_key", (c / "scheduling.key").string(), "--database",
            (dir_.path() / "scheduling.db").string(), "--redis", redis, "--identity", "127.0.0.1:1",
            "--cancellation_window", window, "--allowed_peers", "gateway", "--ready_file",
            (dir_.path() / "ready.json").string()};
  }

  testing::Process start(std::vector<std::string> a) {
    return testing::Process::start({.exe = kExe, .args = std::move(a), .log_file = dir_.path() / "scheduling.log"});
  }

  static inline testing::TempDir* certs_dir_ = nullptr;
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

  asio::io_context io;
  auto call_as = [&](const std::string& peer) {
    auto tls = net::make_rpc_client_context(
        {certs() / "ca.pem", certs() / (peer + ".pem"), certs() / (peer + ".key")});
    net::RpcClient client(io.get_executor(), tls, {.host = "127.0.0.1", .port = port, .server_name = "scheduling"});
    rpc::v1::Caller caller;
    caller.set_user_id("admin-1");
    caller.set_practice_id("practice-1");
    caller.set_role("admin");
    std::optional<Result<pb::ListAppointmentTypesResponse>> out;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          pb::ListAppointmentTypesRequest req;
          out.emplace(co_await client.call<pb::ListAppointmentTypesResponse>(
              "alliance.scheduling.v1.Scheduling/ListAppointmentTypes", req, caller));
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!out && std::chrono::steady_clock::now() < deadline) io.run_one_for(50ms);
    if (!out) throw std::runtime_error("no answer");
    return std::move(*out);
  };

  auto from_gateway = call_as("gateway");
  ASSERT_TRUE(from_gateway.ok()) << from_gateway.error().message;
  EXPECT_EQ(from_gateway->types_size(), 0);
  auto from_messaging = call_as("messaging");  // a valid certificate, but not on allowed_peers
  ASSERT_FALSE(from_messaging.ok());
  EXPECT_EQ(from_messaging.error().code, Code::kPermissionDenied);

  p.terminate();
  EXPECT_EQ(p.exit_code(), 0) << p.log();
}

}  // namespace
}  // namespace alliance::scheduling
