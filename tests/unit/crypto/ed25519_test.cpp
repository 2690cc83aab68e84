#include "alliance/crypto/ed25519.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "alliance/core/ids.hpp"
#include "test_util.hpp"

namespace alliance::crypto {
namespace {

using test_support::from_hex;
using test_support::TempDir;

// RFC 8032 section 7.1, TEST 1 (empty message).
constexpr std::string_view kRfcSeed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view kRfcPublic = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr std::string_view kRfcSignature =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

// Made once with `openssl genpkey -algorithm ed25519`; its public key printed by
// `openssl pkey -pubout -outform DER | tail -c 32 | xxd -p`.
constexpr std::string_view kPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIDe9DjAvCYZRPXm3Dz0tvx4xcAWKU3mwarFRyRE4PD7R\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kPemPublic = "1fda3d5b13a596844abf5ff6b903cfd409cbd9ca3703305266b64a2f575a8404";

// The same tool with -aes256 -pass pass:secret.
constexpr std::string_view kEncryptedPem =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhYVjXEfc7GrAICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEJZbmoEd78sNfkD3l+jGq2UEQI97\n"
    "ryq7fGkQTqdVN24Ixe5uOnSwGtwuGmCZpp8eSgbu0nybLndnQE8sfzUAfg6Ry2oN\n"
    "9uEs23td35PpF+JBCEg=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`: a key of the wrong type.
constexpr std::string_view kP256Pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQghnr6s+nEOxX48Rk+\n"
    "Zw9BEo3Utk+2zvSMn8CrqihtSMKhRANCAARY6k9vBmV23CqGx6Xie+toHKp+qF7N\n"
    "u5A193I9PSMx6mgNhmxzbIPd7r2b3graGVVbvLU/k+dJpoftbOCOCQPH\n"
    "-----END PRIVATE KEY-----\n";

TEST(Ed25519, Rfc8032Test1KnownAnswer) {
  auto key = Ed25519PrivateKey::from_raw_seed(from_hex(kRfcSeed));
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(to_hex(key->public_key_raw()), kRfcPublic);
  std::string signature = key->sign("");
  EXPECT_EQ(to_hex(signature), kRfcSignature);
  EXPECT_TRUE(ed25519_verify(from_hex(kRfcPublic), "", from_hex(kRfcSignature)));
}

TEST(Ed25519, VerifyRejectsAnyChange) {
  auto key = Ed25519PrivateKey::generate();
  std::string message = "appointment 42 confirmed";
  std::string signature = key.sign(message);
  std::string pub = key.public_key_raw();
  ASSERT_EQ(signature.size(), 64u);
  ASSERT_EQ(pub.size(), 32u);
  EXPECT_TRUE(ed25519_verify(pub, message, signature));

  EXPECT_FALSE(ed25519_verify(pub, "appointment 43 confirmed", signature));
  std::string bad_sig = signature;
  bad_sig[10] ^= 1;
  EXPECT_FALSE(ed25519_verify(pub, message, bad_sig));
  EXPECT_FALSE(ed25519_verify(Ed25519PrivateKey::generate().public_key_raw(), message, signature));
  EXPECT_FALSE(ed25519_verify(pub, message, signature.substr(0, 63)));
  EXPECT_FALSE(ed25519_verify(pub, message, signature + "x"));
  EXPECT_FALSE(ed25519_verify(pub.substr(0, 31), message, signature));
  EXPECT_FALSE(ed25519_verify("", message, ""));
}

TEST(Ed25519, GeneratedKeysDiffer) {
  EXPECT_NE(Ed25519PrivateKey::generate().public_key_raw(), Ed25519PrivateKey::generate().public_key_raw());
}

TEST(Ed25519, MovedKeyKeepsSigning) {
  auto key = Ed25519PrivateKey::generate();
  std::string pub = key.public_key_raw();
  Ed25519PrivateKey moved = std::move(key);
  EXPECT_TRUE(ed25519_verify(pub, "m", moved.sign("m")));
}

TEST(Ed25519, OneKeySignsFromSeveralThreadsAtOnce) {
  const auto key = Ed25519PrivateKey::generate();
  const std::string pub = key.public_key_raw();
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::string message = std::to_string(t) + ":" + std::to_string(i);
        if (!ed25519_verify(pub, message, key.sign(message))) ++bad;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(Ed25519, SeedMustBe32Bytes) {
  auto key = Ed25519PrivateKey::from_raw_seed(std::string(31, 'x'));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, Code::kInvalidArgument);
}

TEST(Ed25519, LoadsPemWrittenByOpensslGenpkey) {
  TempDir dir;
  auto key = Ed25519PrivateKey::from_pem_file(dir.write("signing.pem", kPem));
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(to_hex(key->public_key_raw()), kPemPublic);
  EXPECT_TRUE(ed25519_verify(from_hex(kPemPublic), "hello", key->sign("hello")));
}

TEST(Ed25519, MissingPemFileIsNotFoundAndNamesThePath) {
  TempDir dir;
  auto path = dir.path() / "no-such-key.pem";
  auto key = Ed25519PrivateKey::from_pem_file(path);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, Code::kNotFound);
  EXPECT_NE(key.error().message.find(path.string()), std::string::npos) << key.error().message;

  auto in_dir = Ed25519PrivateKey::from_pem_file(dir.path());
  ASSERT_FALSE(in_dir.ok());
  EXPECT_EQ(in_dir.error().code, Code::kInvalidArgument);
}

TEST(Ed25519, BadPemFilesAreRefusedWithoutEchoingContents) {
  TempDir dir;
  struct Case {
    const char* name;
    std::string_view contents;
  };
  const Case cases[] = {
      {"encrypted.pem", kEncryptedPem},  // must not prompt for a passphrase
      {"p256.pem", kP256Pem},
      {"garbage.pem", "not a key at all SECRETSTUFF"},
      {"empty.pem", ""},
      {"truncated.pem", kPem.substr(0, 50)},
  };
  for (const auto& c : cases) {
    auto path = dir.write(c.name, c.contents);
    auto key = Ed25519PrivateKey::from_pem_file(path);
    ASSERT_FALSE(key.ok()) << c.name;
    EXPECT_EQ(key.error().code, Code::kInvalidArgument) << c.name;
    EXPECT_NE(key.error().message.find(path.string()), std::string::npos) << key.error().message;
    EXPECT_EQ(key.error().message.find("MC4CAQ"), std::string::npos) << key.error().message;
    EXPECT_EQ(key.error().message.find("MIG"), std::string::npos) << key.error().message;
    EXPECT_EQ(key.error().message.find("SECRETSTUFF"), std::string::npos) << key.error().message;
  }
}

}  // namespace
}  // namespace alliance::crypto
