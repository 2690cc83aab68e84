// The admin CLI bootstraps a practice through the public API of real processes.
#include <gtest/gtest.h>

#include <fstream>

#include "system.hpp"

namespace alliance::testing {
namespace {

using namespace std::chrono_literals;

class AllianceCtl : public ::testing::Test {
 protected:
  void SetUp() override {
    sys_ = std::make_unique<System>();
    pw_ = sys_->dir() / "pw";
    std::ofstream(pw_) << System::kPassword;
  }
  CommandOutput ctl(std::vector<std::string> args) {
    std::vector<std::string> all = {"--gateway", "https://127.0.0.1:" + std::to_string(sys_->gateway_port()),
                                    "--ca", dev_certs().ca().string(), "--session",
                                    (sys_->dir() / "session.json").string()};
    all.insert(all.end(), args.begin(), args.end());
    return run_command(binary("tools/alliancectl/alliancectl"), all, 20s);
  }
  static std::string id_after(const std::string& out, const std::string& marker) {
    auto at = out.find(marker);
    if (at == std::string::npos) return {};
    auto id = out.find(" id ", at);
    return out.substr(id + 4, 32);
  }
  std::unique_ptr<System> sys_;
  std::filesystem::path pw_;
};

TEST_F(AllianceCtl, AdminBootstrapsPracticeUsersAndCareTeam) {
  auto created = ctl({"practice", "create", "--name", "Oak Counselling", "--slug", "oak", "--admin-email",
                      "admin@oak.example", "--admin-name", "Olive", "--operator-token-file",
                      dev_certs().operator_token_file().string(), "--admin-password-file", pw_.string()});
  ASSERT_EQ(created.exit_code, 0) << created.out;
  ASSERT_EQ(ctl({"login", "--practice", "oak", "--email", "admin@oak.example", "--password-file", pw_.string()})
                .exit_code,
            0);
  auto therapist = ctl({"user", "create", "--role", "therapist", "--email", "t@oak.example", "--name", "Tess",
                        "--password-file", pw_.string()});
  auto client = ctl({"user", "create", "--role", "client", "--email", "c@oak.example", "--name", "Cleo",
                     "--password-file", pw_.string()});
  ASSERT_EQ(therapist.exit_code, 0) << therapist.out;
  ASSERT_EQ(client.exit_code, 0) << client.out;
  auto therapist_id = id_after(therapist.out, "created therapist");
  auto client_id = id_after(client.out, "created client");
  ASSERT_EQ(therapist_id.size(), 32u) << therapist.out;
  ASSERT_EQ(client_id.size(), 32u) << client.out;

  auto link = ctl({"care-team", "add", "--client", client_id, "--therapist", therapist_id});
  ASSERT_EQ(link.exit_code, 0) << link.out;
  auto list = ctl({"user", "list"});
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("t@oak.example"), std::string::npos);
  EXPECT_NE(list.out.find("c@oak.example"), std::string::npos);

  // What the CLI did is real: the client can log in and sees their therapist.
  auto cleo = sys_->login("oak", "c@oak.example");
  auto team = cleo->get_json("/v1/care-team");
  ASSERT_TRUE(team);
  EXPECT_EQ(team->at("links").as_array()[0].at("therapist_id").as_string(), therapist_id);
}

TEST_F(AllianceCtl, BadInputExitsNonZeroNamingTheField) {
  ASSERT_EQ(ctl({"practice", "create", "--name", "Elm", "--slug", "elm", "--admin-email", "admin@elm.example",
                 "--admin-name", "E", "--operator-token-file", dev_certs().operator_token_file().string(),
                 "--admin-password-file", pw_.string()})
                .exit_code,
            0);
  ASSERT_EQ(ctl({"login", "--practice", "elm", "--email", "admin@elm.example", "--password-file", pw_.string()})
                .exit_code,
            0);
  auto bad = ctl({"user", "create", "--role", "client", "--email", "nope", "--name", "N", "--password-file",
                  pw_.string()});
  EXPECT_EQ(bad.exit_code, 1);
  auto wrong_operator = run_command(
      binary("tools/alliancectl/alliancectl"),
      {"--gateway", "https://127.0.0.1:" + std::to_string(sys_->gateway_port()), "--ca", dev_certs().ca().string(),
       "--session", (sys_->dir() / "s2.json").string(), "practice", "create", "--name", "X", "--slug", "xx",
       "--admin-email", "a@x.example", "--admin-name", "A", "--operator-token-file", pw_.string(),
       "--admin-password-file", pw_.string()},
      20s);
  EXPECT_EQ(wrong_operator.exit_code, 1);
}

TEST(GatewayBinary, BadConfigurationStopsItNamingTheKey) {
  // Every key valid but one: the message names exactly that key.
  TempDir dir;
  const auto& c = dev_certs();
  std::map<std::string, std::string> good = {
      {"listen", "127.0.0.1:0"},           {"tls_cert", c.public_cert().string()},
      {"tls_key", c.public_key().string()}, {"rpc_ca", c.ca().string()},
      {"rpc_cert", c.cert("gateway").string()}, {"rpc_key", c.key("gateway").string()}};
  struct Case {
    std::string key, value, expect;
  };
  for (const auto& bad : {Case{"tls_cert", "/nonexistent/cert.pem", "/nonexistent/cert.pem"},
                          Case{"listen", "not-an-address", "host:port"},
                          Case{"ws_idle_timeout", "soon", "duration"},
                          Case{"body_limitt", "10", "unknown key"}}) {
    auto flags = good;
    flags[bad.key] = bad.value;
    std::vector<std::string> args;
    for (auto& [k, v] : flags) {
      args.push_back("--" + k);
      args.push_back(v);
    }
    auto log = dir.path() / (bad.key + ".log");
    auto p = Process::start(Process::Options{binary("services/gateway/alliance-gateway"), args, {}, log, {}});
    ASSERT_TRUE(p.wait_exit(10s)) << bad.key;
    EXPECT_EQ(p.exit_code(), 1) << bad.key;
    EXPECT_NE(p.log().find("\"" + bad.key + "\""), std::string::npos) << p.log();
    EXPECT_NE(p.log().find(bad.expect), std::string::npos) << p.log();
  }
}

TEST(GatewayBinary, ShippedExampleConfigIsAccepted) {
  // deploy/config/gateway.conf sets every key; only machine-specific paths are overridden.
  TempDir dir;
  const auto& c = dev_certs();
  auto ready = dir.path() / "gw.ready";
  auto p = Process::start(Process::Options{
      binary("services/gateway/alliance-gateway"),
      {"--config", std::string(ALLIANCE_SOURCE_DIR) + "/deploy/config/gateway.conf", "--listen", "127.0.0.1:0",
       "--tls_cert", c.public_cert().string(), "--tls_key", c.public_key().string(), "--rpc_ca", c.ca().string(),
       "--rpc_cert", c.cert("gateway").string(), "--rpc_key", c.key("gateway").string(), "--ready_file",
       ready.string()},
      {},
      dir.path() / "gw.log",
      {}});
  EXPECT_NO_THROW(wait_for_ready_file(ready, 10s, &p)) << p.log();
}

}  // namespace
}  // namespace alliance::testing
