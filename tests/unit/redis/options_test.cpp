// redis_user / redis_password_file as every service reads them: the password comes from
// a file only its user can read, and a bad file stops the service naming the key
// without showing the password.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "alliance/redis/types.hpp"
#include "process.hpp"

namespace alliance::redis {
namespace {

namespace fs = std::filesystem;

class RedisOptionsTest : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, const std::string& text, fs::perms mode) {
    auto p = dir_.path() / name;
    std::ofstream(p) << text;
    fs::permissions(p, mode);
    return p;
  }

  static Options load(const std::string& text) { return load_options(Config::from_text("messaging", text), "messaging"); }

  // The ConfigError's key and message for `text`.
  static std::pair<std::string, std::string> refusal(const std::string& text) {
    try {
      load(text);
    } catch (const ConfigError& e) {
      return {e.key(), e.what()};
    }
    return {"", "accepted"};
  }

  testing::TempDir dir_;
};

TEST_F(RedisOptionsTest, PasswordComesFromAPrivateFileAndTheUserDefaultsToTheService) {
  auto file = write("pw", "  s3cret-password\n", fs::perms(0600));
  auto o = load("redis = 10.0.0.5:6380\nredis_password_file = " + file.string() + "\n");
  EXPECT_EQ(o.host, "10.0.0.5");
  EXPECT_EQ(o.port, 6380);
  EXPECT_EQ(o.user, "messaging");
  EXPECT_EQ(o.password, "s3cret-password");
  EXPECT_EQ(load("redis_user = messaging-eu\n").user, "messaging-eu");
  EXPECT_EQ(load("").password, "");  // no file: no AUTH
}

TEST_F(RedisOptionsTest, AFileOthersCanReadAnEmptyFileOrNoFileIsRefusedNamingTheKey) {
  auto shared = write("shared", "s3cret-password\n", fs::perms(0644));
  auto [key, what] = refusal("redis_password_file = " + shared.string());
  EXPECT_EQ(key, "redis_password_file");
  EXPECT_NE(what.find("readable by other users"), std::string::npos) << what;
  EXPECT_EQ(what.find("s3cret-password"), std::string::npos) << what;

  auto empty = write("empty", "\n", fs::perms(0600));
  std::tie(key, what) = refusal("redis_password_file = " + empty.string());
  EXPECT_EQ(key, "redis_password_file");
  EXPECT_NE(what.find("is empty"), std::string::npos) << what;

  std::tie(key, what) = refusal("redis_password_file = " + (dir_.path() / "missing").string());
  EXPECT_EQ(key, "redis_password_file");

  std::tie(key, what) = refusal("redis_user =\n");
  EXPECT_EQ(key, "redis_user");
}

}  // namespace
}  // namespace alliance::redis
