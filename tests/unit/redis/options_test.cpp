// redis_user / redis_password_file as every service reads them: the password comes from
// a file only its user can read, and a bad file stops the service naming the key
// without showing the password.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "alliance/redis/types.hpp"
#include "dev_certs.hpp"
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

TEST_F(RedisOptionsTest, TlsNeedsTheCaAndAClientCertificateWithItsKeyAndIsRefusedHalfConfigured) {
  const auto& c = testing::dev_certs();
  EXPECT_FALSE(load("").tls);  // plain TCP unless asked
  auto o = load("redis = redis.internal:6380\nredis_tls = true\nredis_ca_file = " + c.ca().string() +
                "\nredis_cert_file = " + c.cert("messaging").string() + "\nredis_key_file = " +
                c.key("messaging").string() + "\nredis_tls_name = redis\n");
  EXPECT_TRUE(o.tls);
  EXPECT_EQ(o.tls_server_name, "redis");
  EXPECT_TRUE(load("redis_tls = yes\nredis_ca_file = " + c.ca().string()).tls);  // no client certificate

  EXPECT_EQ(refusal("redis_tls = true").first, "redis_ca_file");
  EXPECT_EQ(refusal("redis_tls = maybe").first, "redis_tls");
  EXPECT_EQ(refusal("redis_tls = true\nredis_ca_file = " + c.ca().string() + "\nredis_cert_file = " +
                    c.cert("messaging").string())
                .first,
            "redis_key_file");
  EXPECT_EQ(refusal("redis_tls = true\nredis_ca_file = " + (dir_.path() / "missing.pem").string()).first,
            "redis_ca_file");
  // A key that does not belong to the certificate.
  auto [key, what] = refusal("redis_tls = true\nredis_ca_file = " + c.ca().string() + "\nredis_cert_file = " +
                             c.cert("messaging").string() + "\nredis_key_file = " + c.key("gateway").string());
  EXPECT_EQ(key, "redis_key_file");
  EXPECT_NE(what.find("mismatch"), std::string::npos) << what;
  // An operator who set a CA but left TLS off would believe the link is protected.
  std::tie(key, what) = refusal("redis_ca_file = " + c.ca().string());
  EXPECT_EQ(key, "redis_ca_file");
  EXPECT_NE(what.find("redis_tls"), std::string::npos) << what;
}

}  // namespace
}  // namespace alliance::redis
