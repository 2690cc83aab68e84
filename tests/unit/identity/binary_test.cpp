// The real alliance-identity binary: a bad config value stops it with a message that
// names the key; a good config serves RPC on the port its ready file reports, each
// method to its peers only.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "alliance/identity/v1/identity.pb.h"
#include "dev_certs.hpp"
#include "process.hpp"
#include "redis_server.hpp"
#include "service_call.hpp"

namespace alliance::identity {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace pb = ::alliance::identity::v1;

const fs::path kExe = ALLIANCE_BINARY_DIR "/services/identity/alliance-identity";

class IdentityBinaryTest : public ::testing::Test {
 protected:
  static fs::path certs() { return testing::dev_certs().dir; }

  // Tests hash at a cost below the production floor, through the test-only key.
  std::vector<std::string> args(const std::string& redis,
                                const std::string& cost_key = "insecure_scrypt_log2_n_for_tests",
                                const std::string& scrypt_log2_n = "10") const {
    const auto c = certs();
    return {"--listen",
            "127.0.0.1:0",
            "--tls_ca",
            (c / "ca.pem").string(),
            "--tls_cert",
            (c / "identity.pem").string(),
            "--tls_key",
            (c / "identity.key").string(),
            "--database",
            (dir_.path() / "identity.db").string(),
            "--redis",
            redis,
            "--token_signing_key",
            (c / "token-signing.pem").string(),
            "--operator_token_file",
            (c / "operator.token").string(),
            "--kek_file",
            (c / "data.kek").string(),
            "--" + cost_key,
            scrypt_log2_n,
            "--allowed_peers",
            "gateway",
            "--ready_file",
            (dir_.path() / "ready.json").string()};
  }

  testing::Process start(std::vector<std::string> a) {
    return testing::Process::start(
        {.exe = kExe, .args = std::move(a), .log_file = dir_.path() / "identity.log"});
  }

  testing::TempDir dir_;
};

TEST_F(IdentityBinaryTest, BadConfigValueExitsOneNamingTheKey) {
  auto p = start(args("127.0.0.1:1", "scrypt_log2_n", "99"));
  ASSERT_TRUE(p.wait_exit(10s)) << p.log();
  EXPECT_EQ(p.exit_code(), 1);
  EXPECT_NE(p.log().find("scrypt_log2_n"), std::string::npos) << p.log();
  EXPECT_FALSE(fs::exists(dir_.path() / "ready.json"));
}

// The password hashing cost has a floor of 2^15; only the test-only key goes below it.
TEST_F(IdentityBinaryTest, ScryptCostBelowTheFloorIsRefusedNamingTheKey) {
  auto p = start(args("127.0.0.1:1", "scrypt_log2_n", "14"));
  ASSERT_TRUE(p.wait_exit(10s)) << p.log();
  EXPECT_EQ(p.exit_code(), 1);
  EXPECT_NE(p.log().find("\"key\":\"scrypt_log2_n\""), std::string::npos) << p.log();
  EXPECT_NE(p.log().find("between 15 and 18"), std::string::npos) << p.log();
  EXPECT_FALSE(fs::exists(dir_.path() / "ready.json"));
}

TEST_F(IdentityBinaryTest, UnknownKeyIsRefused) {
  auto a = args("127.0.0.1:1");
  a.insert(a.end(), {"--acess_token_ttl", "5m"});
  auto p = start(a);
  ASSERT_TRUE(p.wait_exit(10s)) << p.log();
  EXPECT_EQ(p.exit_code(), 1);
  EXPECT_NE(p.log().find("acess_token_ttl"), std::string::npos) << p.log();
}

// Started with the usual umask of 022, the service still keeps what it writes to its
// own user: the database, its -wal and -shm (the newest records live there) and the
// ready file are 0600.
TEST_F(IdentityBinaryTest, FilesItCreatesAreReadableByItsUserOnly) {
  const mode_t before = ::umask(022);
  auto p = start(args("127.0.0.1:1"));
  ::umask(before);
  testing::wait_for_ready_file(dir_.path() / "ready.json", 10s, &p);
  for (const char* name : {"identity.db", "identity.db-wal", "identity.db-shm", "ready.json"}) {
    const auto file = dir_.path() / name;
    ASSERT_TRUE(fs::exists(file)) << file;
    EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms(0600)) << file;
  }
  p.terminate();
  EXPECT_EQ(p.exit_code(), 0) << p.log();
}

TEST_F(IdentityBinaryTest, ServesAllowedPeersOnTheReadyPort) {
  testing::RedisServer redis;
  auto p = start(args(redis.host_port()));
  auto ready = testing::wait_for_ready_file(dir_.path() / "ready.json", 10s, &p);
  ASSERT_GT(ready["rpc_port"], 0);
  // The test-only scrypt cost never goes unnoticed.
  EXPECT_NE(p.log().find("INSECURE: insecure_scrypt_log2_n_for_tests is set"), std::string::npos) << p.log();
  const auto port = static_cast<std::uint16_t>(ready["rpc_port"]);

  auto call = [&](const std::string& peer, const std::string& method, const auto& req, auto response_type) {
    return testing::call_service<decltype(response_type)>(port, "identity", peer,
                                                          "alliance.identity.v1.Identity/" + method, req);
  };
  auto call_as = [&](const std::string& peer) {
    pb::LoginRequest req;
    req.set_practice("nosuch");
    req.set_email("someone@example.org");
    req.set_password("a password that is wrong");
    return call(peer, "Login", req, pb::TokenResponse{});
  };

  auto from_gateway = call_as("gateway");
  ASSERT_FALSE(from_gateway.ok());
  EXPECT_EQ(from_gateway.error().code, Code::kUnauthenticated) << from_gateway.error().message;
  EXPECT_EQ(from_gateway.error().message, "invalid email or password");

  auto from_messaging = call_as("messaging");  // a valid certificate, but not on allowed_peers
  ASSERT_FALSE(from_messaging.ok());
  EXPECT_EQ(from_messaging.error().code, Code::kPermissionDenied);

  // The device directory is messaging's: served to it (its own validation answers),
  // refused to the gateway although the gateway may call the user-facing methods.
  auto devices = call("messaging", "ListActiveDevices", pb::ListActiveDevicesRequest{},
                      pb::ListActiveDevicesResponse{});
  ASSERT_FALSE(devices.ok());
  EXPECT_EQ(devices.error().code, Code::kInvalidArgument) << devices.error().message;
  EXPECT_EQ(devices.error().field, "practice_id");
  devices = call("gateway", "ListActiveDevices", pb::ListActiveDevicesRequest{}, pb::ListActiveDevicesResponse{});
  ASSERT_FALSE(devices.ok());
  EXPECT_EQ(devices.error().code, Code::kPermissionDenied) << devices.error().message;

  p.terminate();
  EXPECT_EQ(p.exit_code(), 0) << p.log();
}

}  // namespace
}  // namespace alliance::identity
