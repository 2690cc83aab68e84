// The admin CLI bootstraps a practice through the public API of real processes.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <sstream>

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
  CommandOutput ctl(std::vector<std::string> args) { return ctl_as("session.json", std::move(args)); }
  // The same CLI with another session file (another person at another machine).
  CommandOutput ctl_as(const std::string& session, std::vector<std::string> args) {
    std::vector<std::string> all = {"--gateway", "https://127.0.0.1:" + std::to_string(sys_->gateway_port()),
                                    "--ca", dev_certs().ca().string(), "--session", (sys_->dir() / session).string()};
    all.insert(all.end(), args.begin(), args.end());
    return run_command(binary("tools/alliancectl/alliancectl"), all, 20s);
  }
  static std::string file_text(const std::filesystem::path& p) {
    std::stringstream ss;
    ss << std::ifstream(p).rdbuf();
    return ss.str();
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

// A client and her therapist, each with their own session file, register devices
// with the CLI; the client opens their conversation and sends a message; the
// therapist's sync prints the same text, decrypted on their side, and a second
// sync prints nothing new.
TEST_F(AllianceCtl, ClientAndTherapistExchangeAnEncryptedMessage) {
  ASSERT_EQ(ctl({"practice", "create", "--name", "Ash Therapy", "--slug", "ash", "--admin-email", "admin@ash.example",
                 "--admin-name", "Ash", "--operator-token-file", dev_certs().operator_token_file().string(),
                 "--admin-password-file", pw_.string()})
                .exit_code,
            0);
  ASSERT_EQ(ctl({"login", "--practice", "ash", "--email", "admin@ash.example", "--password-file", pw_.string()})
                .exit_code,
            0);
  auto therapist = ctl({"user", "create", "--role", "therapist", "--email", "kim@ash.example", "--name", "Dr Kim",
                        "--password-file", pw_.string()});
  auto client = ctl({"user", "create", "--role", "client", "--email", "ana@ash.example", "--name", "Ana",
                     "--password-file", pw_.string()});
  auto kim_id = id_after(therapist.out, "created therapist");
  auto ana_id = id_after(client.out, "created client");
  ASSERT_EQ(kim_id.size(), 32u) << therapist.out;
  ASSERT_EQ(ana_id.size(), 32u) << client.out;
  ASSERT_EQ(ctl({"care-team", "add", "--client", ana_id, "--therapist", kim_id}).exit_code, 0);

  // Sending before a device exists says what to do.
  ASSERT_EQ(ctl_as("ana.json", {"login", "--practice", "ash", "--email", "ana@ash.example", "--password-file",
                                pw_.string()})
                .exit_code,
            0);
  auto opened = ctl_as("ana.json", {"conversation", "open", "--client", ana_id, "--therapist", kim_id});
  ASSERT_EQ(opened.exit_code, 0) << opened.out;
  std::string conversation = opened.out.substr(0, opened.out.find('\n'));
  ASSERT_FALSE(conversation.empty());
  ASSERT_EQ(opened.out, conversation + "\n") << "only the id, for CONV=$(...)";

  auto message = sys_->dir() / "message.txt";
  const std::string text = "Could we move Thursday's session to Friday? \xe2\x80\x94 Ana";
  std::ofstream(message) << text << "\n";
  auto early = ctl_as("ana.json", {"message", "send", "--conversation", conversation, "--text-file", message.string()});
  EXPECT_EQ(early.exit_code, 1) << early.out;

  auto ana_device = ctl_as("ana.json", {"device", "register", "--name", "Ana's laptop"});
  ASSERT_EQ(ana_device.exit_code, 0) << ana_device.out;
  EXPECT_NE(ana_device.out.find("registered device "), std::string::npos) << ana_device.out;
  ASSERT_EQ(ctl_as("kim.json", {"login", "--practice", "ash", "--email", "kim@ash.example", "--password-file",
                                pw_.string()})
                .exit_code,
            0);
  auto kim_device = ctl_as("kim.json", {"device", "register"});
  ASSERT_EQ(kim_device.exit_code, 0) << kim_device.out;
  auto devices = ctl_as("kim.json", {"device", "list"});
  ASSERT_EQ(devices.exit_code, 0);
  EXPECT_NE(devices.out.find("* "), std::string::npos) << "this session's device is marked: " << devices.out;

  auto sent = ctl_as("ana.json", {"message", "send", "--conversation", conversation, "--text-file", message.string()});
  ASSERT_EQ(sent.exit_code, 0) << sent.out;
  EXPECT_EQ(sent.out.rfind("sent seq 1 message ", 0), 0u) << sent.out;

  auto first = ctl_as("kim.json", {"message", "sync", "--conversation", conversation});
  ASSERT_EQ(first.exit_code, 0) << first.out;
  EXPECT_EQ(first.out.rfind("#1 ", 0), 0u) << first.out;
  EXPECT_NE(first.out.find(ana_id + ": " + text + "\n"), std::string::npos) << first.out;
  auto second = ctl_as("kim.json", {"message", "sync", "--conversation", conversation});
  ASSERT_EQ(second.exit_code, 0) << second.out;
  EXPECT_EQ(second.out, "") << "the cursor in the session file holds: nothing new";

  // The sender's own device reads it too; read receipts go through.
  auto own = ctl_as("ana.json", {"message", "sync", "--conversation", conversation});
  EXPECT_NE(own.out.find("#1 "), std::string::npos) << own.out;
  EXPECT_NE(own.out.find("you: " + text), std::string::npos) << own.out;
  EXPECT_EQ(ctl_as("kim.json", {"message", "read", "--conversation", conversation, "--seq", "1"}).out,
            "read up to seq 1\n");

  // The keys stay in owner-only files; the message text is in none of them.
  for (const char* name : {"ana.json", "kim.json"}) {
    struct stat st {};
    ASSERT_EQ(::stat((sys_->dir() / name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
    auto content = file_text(sys_->dir() / name);
    EXPECT_NE(content.find("\"agreement_private\""), std::string::npos) << name;
    EXPECT_EQ(content.find("Thursday"), std::string::npos) << name;
  }

  // A conversation that is not theirs: the server's refusal, exit 1.
  auto foreign = ctl_as("kim.json", {"message", "send", "--conversation", "0123456789abcdef0123456789abcdef",
                                     "--text-file", message.string()});
  EXPECT_EQ(foreign.exit_code, 1) << foreign.out;
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
