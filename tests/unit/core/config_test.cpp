#include <gtest/gtest.h>

#include "alliance/core/config.hpp"

namespace alliance {
namespace {

Config::EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.key() + "|" + e.what();
  }
  return "no error";
}

TEST(Config, FileEnvironmentAndFlagsOverrideInThatOrder) {
  auto c = Config::from_text("gateway", "listen = 127.0.0.1:1\nidle_timeout = 30s # comment\nthreads=2\n",
                             {{"threads", "3"}}, env_of({{"ALLIANCE_GATEWAY_LISTEN", "127.0.0.1:2"}}));
  EXPECT_EQ(c.host_port("listen").port, 2);
  EXPECT_EQ(c.duration("idle_timeout", {}), std::chrono::seconds(30));
  EXPECT_EQ(c.integer("threads", 1, 1, 64), 3);
  EXPECT_NO_THROW(c.reject_unknown());
}

TEST(Config, BadValuesNameTheKey) {
  auto c = Config::from_text("gateway", "listen = nowhere\nthreads = many\nidle = 5 parsecs\n", {}, env_of({}));
  EXPECT_EQ(error_of([&] { c.host_port("listen"); }).substr(0, 7), "listen|");
  auto threads = error_of([&] { c.integer("threads", 1, 1, 64); });
  EXPECT_NE(threads.find("threads|"), std::string::npos);
  EXPECT_NE(threads.find("gateway.conf:2"), std::string::npos);
  EXPECT_NE(error_of([&] { c.duration("idle", {}); }).find("idle|"), std::string::npos);
}

TEST(Config, RpcAddressesAreHostPortOrAUnixSocketPath) {
  auto c = Config::from_text("gateway",
                             "identity = 10.0.0.5:7101\nmessaging = unix:/run/alliance/messaging.sock\n"
                             "scheduling = unix:run/scheduling.sock\nreminders = unix:/" +
                                 std::string(120, 'r') + "\nlisten_unix = /no-such-alliance-folder/gateway.sock\n"
                                 "bad_listen = relative.sock\n",
                             {}, env_of({}));
  auto identity = c.rpc_address("identity", "127.0.0.1:1");
  EXPECT_EQ(identity.host, "10.0.0.5");
  EXPECT_EQ(identity.port, 7101);
  EXPECT_EQ(identity.unix_path, "");
  auto messaging = c.rpc_address("messaging", "127.0.0.1:1");
  EXPECT_EQ(messaging.unix_path, "/run/alliance/messaging.sock");
  EXPECT_EQ(messaging.host, "");
  EXPECT_EQ(c.rpc_address("unset", "unix:/tmp/x.sock").unix_path, "/tmp/x.sock");
  EXPECT_EQ(c.rpc_address("unset", "127.0.0.1:9").port, 9);

  auto relative = error_of([&] { c.rpc_address("scheduling", "127.0.0.1:1"); });
  EXPECT_NE(relative.find("scheduling|"), std::string::npos) << relative;
  EXPECT_NE(relative.find("expected an absolute path"), std::string::npos) << relative;
  auto too_long = error_of([&] { c.rpc_address("reminders", "127.0.0.1:1"); });
  EXPECT_NE(too_long.find("at most 107 bytes long, this one is 121"), std::string::npos) << too_long;

  EXPECT_EQ(c.unix_socket_path("unset"), "");
  EXPECT_NE(error_of([&] { c.unix_socket_path("bad_listen"); }).find("bad_listen|"), std::string::npos);
  auto no_folder = error_of([&] { c.unix_socket_path("listen_unix"); });
  EXPECT_NE(no_folder.find("folder \"/no-such-alliance-folder\" does not exist"), std::string::npos) << no_folder;
  auto here = Config::from_text("identity", "listen_unix = /tmp/identity.sock\n", {}, env_of({}));
  EXPECT_EQ(here.unix_socket_path("listen_unix"), "/tmp/identity.sock");
}

TEST(Config, MissingRequiredKeyNamesKeyAndEnvironmentVariable) {
  auto c = Config::from_text("identity", "", {}, env_of({}));
  auto err = error_of([&] { c.string("database"); });
  EXPECT_NE(err.find("database|"), std::string::npos);
  EXPECT_NE(err.find("ALLIANCE_IDENTITY_DATABASE"), std::string::npos);
}

TEST(Config, OutOfRangeAndUnknownKeysAreRejected) {
  auto c = Config::from_text("gateway", "threads = 500\nthreds = 2\n", {}, env_of({}));
  EXPECT_NE(error_of([&] { c.integer("threads", 1, 1, 64); }).find("between 1 and 64"), std::string::npos);
  EXPECT_NE(error_of([&] { c.reject_unknown(); }).find("threds|"), std::string::npos);
}

TEST(Config, MalformedLinesAndDuplicateKeysAreRejected) {
  EXPECT_NE(error_of([] { Config::from_text("g", "just words\n", {}, {}); }).find("g.conf:1"), std::string::npos);
  EXPECT_NE(error_of([] { Config::from_text("g", "a = 1\na = 2\n", {}, {}); }).find("a|"), std::string::npos);
  EXPECT_NE(error_of([] { Config::from_text("g", "Bad Key = 1\n", {}, {}); }).find("not a valid key"),
            std::string::npos);
}

TEST(Config, MissingFileNamesThePath) {
  auto c = Config::from_text("gateway", "tls_cert = /nonexistent/cert.pem\n", {}, env_of({}));
  auto err = error_of([&] { c.file("tls_cert"); });
  EXPECT_NE(err.find("tls_cert|"), std::string::npos);
  EXPECT_NE(err.find("/nonexistent/cert.pem"), std::string::npos);
}

TEST(Config, OptionalOutputPathMayBeAbsentButItsFolderMustExist) {
  auto c = Config::from_text("gateway", "", {}, env_of({}));
  EXPECT_TRUE(c.output_path("ready_file", "").empty());
  auto bad = Config::from_text("gateway", "ready_file = /nonexistent/dir/ready\n", {}, env_of({}));
  EXPECT_NE(error_of([&] { bad.output_path("ready_file", ""); }).find("ready_file|"), std::string::npos);
}

TEST(Config, ListsAndLogLevelsNameTheKeyWhenBad) {
  auto c = Config::from_text("identity", "allowed_peers = gateway, scheduling ,,\nlog_level = loud\n", {}, env_of({}));
  EXPECT_EQ(c.list("allowed_peers", "x"), (std::set<std::string, std::less<>>{"gateway", "scheduling"}));
  EXPECT_NE(error_of([&] { c.log_level(); }).find("log_level|"), std::string::npos);
  auto empty = Config::from_text("identity", "allowed_peers = , ,\n", {}, env_of({}));
  EXPECT_NE(error_of([&] { empty.list("allowed_peers", "gateway"); }).find("allowed_peers|"), std::string::npos);
  auto defaults = Config::from_text("identity", "", {}, env_of({}));
  EXPECT_EQ(defaults.log_level(), log::Level::kInfo);
  EXPECT_EQ(defaults.list("allowed_peers", "gateway").size(), 1u);
}

}  // namespace
}  // namespace alliance
