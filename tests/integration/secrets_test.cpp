// Nothing secret leaks: after logins, failed logins, refreshes and logouts, no
// password, token or email appears in any service log, in Redis (including its
// dump file) or in the metrics.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "system.hpp"

namespace alliance::testing {
namespace {

using namespace std::chrono_literals;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(Secrets, NoPasswordTokenOrEmailInLogsRedisOrMetrics) {
  System sys;
  sys.create_practice("canary");
  const std::string email = "canary.person@example.org";
  const std::string wrong_password = "canary-wrong-password-7f3a";
  sys.create_user("canary", email, "client");
  auto c = sys.login("canary", email);
  auto first = c->tokens();
  ASSERT_TRUE(c->refresh());
  auto second = c->tokens();
  client::AllianceClient attacker(sys.endpoint());
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(attacker.login("canary", email, wrong_password));
  auto socket = c->open_push_socket();
  ASSERT_TRUE(socket);
  ASSERT_TRUE(c->logout());
  ASSERT_TRUE((*socket)->wait_closed(2s));

  client::HttpsClient http(sys.operator_endpoint());
  auto metrics = http.request("GET", "/metrics");
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  ASSERT_EQ(sys.redis().cli({"SAVE"}), "OK\n");
  std::string redis_dump = read_file(sys.redis().dir() / "dump.rdb");
  ASSERT_FALSE(redis_dump.empty());
  std::string redis_keys = sys.redis().cli({"--scan"});

  struct Place {
    std::string name, text;
  };
  std::vector<Place> places = {{"identity log", sys.identity().log()},
                               {"gateway log", sys.gateway_process(0).log()},
                               {"redis dump", redis_dump},
                               {"redis keys", redis_keys},
                               {"metrics", metrics->body}};
  std::vector<std::string> secrets = {System::kPassword, wrong_password,     first.access_token,
                                      first.refresh_token, second.access_token, second.refresh_token,
                                      email};
  for (const auto& place : places) {
    for (const auto& secret : secrets) {
      ASSERT_FALSE(secret.empty());
      EXPECT_EQ(place.text.find(secret), std::string::npos) << place.name << " holds a secret";
    }
  }
  // The logs are not empty (the check above would pass vacuously otherwise).
  EXPECT_NE(sys.identity().log().find("\"msg\""), std::string::npos);
  EXPECT_NE(sys.gateway_process(0).log().find("\"msg\""), std::string::npos);
  EXPECT_NE(redis_keys.find("identity:loginfail"), std::string::npos) << redis_keys;
}

}  // namespace
}  // namespace alliance::testing
