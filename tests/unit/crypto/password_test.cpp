#include "alliance/crypto/password.hpp"

#include <gtest/gtest.h>

#include "alliance/core/ids.hpp"
#include "alliance/crypto/encoding.hpp"

namespace alliance::crypto {
namespace {

// Cheap parameters for tests that are about the encoding, not the cost.
constexpr ScryptParams kFast{1u << 10, 8, 1};

TEST(ScryptKdf, MatchesRfc7914TestVector) {
  auto key = scrypt_kdf("password", "NaCl", ScryptParams{1024, 8, 16}, 64);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(to_hex(*key),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
            "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
}

TEST(ScryptKdf, RefusesParametersOutsideTheLimits) {
  EXPECT_EQ(scrypt_kdf("pw", "salt", ScryptParams{1000, 8, 1}, 32).error().code, Code::kInvalidArgument);
  // 512 MiB of working memory, twice kScryptMaxMemory.
  EXPECT_EQ(scrypt_kdf("pw", "salt", ScryptParams{1u << 22, 1, 1}, 32).error().code, Code::kInvalidArgument);
  EXPECT_EQ(scrypt_kdf("pw", "salt", ScryptParams{1u << 10, 0, 1}, 32).error().code, Code::kInvalidArgument);
  EXPECT_EQ(scrypt_kdf("pw", "salt", ScryptParams{1u << 10, 8, 0}, 32).error().code, Code::kInvalidArgument);
  EXPECT_EQ(scrypt_kdf("pw", "salt", ScryptParams{1u << 10, 8, 65}, 32).error().code, Code::kInvalidArgument);
  // 2 GiB of working memory: refused before OpenSSL allocates anything.
  EXPECT_EQ(scrypt_kdf("pw", "salt", ScryptParams{1u << 20, 16, 1}, 32).error().field, "params");
  EXPECT_EQ(scrypt_kdf("pw", "salt", kFast, 0).error().field, "length");
}

// The default cost (N = 2^17, r = 8: 128 MiB) runs within the memory OpenSSL is allowed.
TEST(Password, DefaultHashHasDocumentedFormatAndVerifies) {
  std::string encoded = hash_password("correct horse battery staple");
  ASSERT_EQ(encoded.rfind("$scrypt$ln=17,r=8,p=1$", 0), 0u) << encoded;
  auto salt_start = encoded.find('$', 9) + 1;
  auto hash_start = encoded.find('$', salt_start) + 1;
  EXPECT_EQ(base64url_decode(encoded.substr(salt_start, hash_start - 1 - salt_start))->size(), 16u);
  EXPECT_EQ(base64url_decode(encoded.substr(hash_start))->size(), 32u);
  EXPECT_EQ(encoded.find("correct"), std::string::npos);

  EXPECT_TRUE(verify_password("correct horse battery staple", encoded));
  EXPECT_FALSE(password_needs_rehash(encoded));
}

TEST(Password, WrongPasswordIsRejected) {
  std::string encoded = hash_password("hunter2", kFast);
  EXPECT_TRUE(verify_password("hunter2", encoded));
  EXPECT_FALSE(verify_password("hunter3", encoded));
  EXPECT_FALSE(verify_password("Hunter2", encoded));
  EXPECT_FALSE(verify_password("hunter2 ", encoded));
  EXPECT_FALSE(verify_password("hunter", encoded));
  EXPECT_FALSE(verify_password("", encoded));
}

TEST(Password, SamePasswordHashesDifferentlyEachTime) {
  std::string a = hash_password("same password", kFast);
  std::string b = hash_password("same password", kFast);
  EXPECT_NE(a, b);
  EXPECT_TRUE(verify_password("same password", a));
  EXPECT_TRUE(verify_password("same password", b));
}

TEST(Password, HashRecordsItsOwnParameters) {
  std::string encoded = hash_password("pw", ScryptParams{1u << 11, 4, 2});
  EXPECT_EQ(encoded.rfind("$scrypt$ln=11,r=4,p=2$", 0), 0u) << encoded;
  EXPECT_TRUE(verify_password("pw", encoded));
  EXPECT_TRUE(password_needs_rehash(encoded));
  EXPECT_FALSE(password_needs_rehash(encoded, ScryptParams{1u << 11, 4, 2}));
}

// HMAC pads its key with zeros, so "pw" and "pw\0" would hash alike: NUL is refused.
TEST(Password, NulInAPasswordIsRefused) {
  using namespace std::string_literals;
  EXPECT_THROW((void)hash_password("abc\0def"s, kFast), std::invalid_argument);
  EXPECT_THROW((void)hash_password("abc\0"s, kFast), std::invalid_argument);
  std::string encoded = hash_password("abc", kFast);
  ASSERT_TRUE(verify_password("abc", encoded));
  EXPECT_FALSE(verify_password("abc\0"s, encoded));
  EXPECT_FALSE(verify_password("abc\0def"s, encoded));
}

TEST(Password, HashingWithAbsurdParametersIsABug) {
  EXPECT_THROW((void)hash_password("pw", ScryptParams{3, 8, 1}), std::invalid_argument);
  EXPECT_THROW((void)hash_password("pw", ScryptParams{1u << 30, 8, 1}), std::invalid_argument);
}

TEST(Password, MalformedOrAbsurdEncodingsAreFalseWithoutCrashing) {
  std::string good = hash_password("pw", kFast);
  ASSERT_TRUE(verify_password("pw", good));
  auto tail = good.substr(good.find("$", 9));  // "$<salt>$<hash>"
  const std::string salt16 = base64url_encode(std::string(16, 's'));
  const std::string hash32 = base64url_encode(std::string(32, 'h'));
  const std::string cases[] = {
      "",
      "$",
      "$scrypt$",
      "scrypt$ln=10,r=8,p=1" + tail,
      "$argon2id$ln=10,r=8,p=1" + tail,
      "$scrypt$ln=10,r=8" + tail,
      "$scrypt$ln=10,r=8,p=1,x=1" + tail,
      "$scrypt$r=8,ln=10,p=1" + tail,
      "$scrypt$ln=10,r=8,p=1",
      "$scrypt$ln=10,r=8,p=1$" + salt16,
      "$scrypt$ln=10,r=8,p=1" + tail + "$extra",
      "$scrypt$ln=10,r=8,p=1" + tail + "=",
      "$scrypt$ln=10,r=8,p=1$$" + hash32,
      "$scrypt$ln=10,r=8,p=1$" + salt16 + "$",
      "$scrypt$ln=10,r=8,p=1$" + salt16 + "$!!!!",
      "$scrypt$ln=10,r=8,p=1$" + salt16 + "$" + base64url_encode("short"),
      "$scrypt$ln=10,r=8,p=1$" + base64url_encode("tiny") + "$" + hash32,
      "$scrypt$ln=10,r=8,p=1$" + salt16 + "$" + base64url_encode(std::string(65, 'h')),
      "$scrypt$ln=0,r=8,p=1" + tail,
      "$scrypt$ln=-1,r=8,p=1" + tail,
      "$scrypt$ln=+10,r=8,p=1" + tail,
      "$scrypt$ln=010,r=8,p=1" + tail,
      "$scrypt$ln=10 ,r=8,p=1" + tail,
      "$scrypt$ln=,r=8,p=1" + tail,
      "$scrypt$ln=21,r=8,p=1" + tail,
      "$scrypt$ln=64,r=8,p=1" + tail,
      "$scrypt$ln=4294967306,r=8,p=1" + tail,
      "$scrypt$ln=99999999999999999999999,r=8,p=1" + tail,
      "$scrypt$ln=10,r=0,p=1" + tail,
      "$scrypt$ln=10,r=17,p=1" + tail,
      "$scrypt$ln=10,r=8,p=0" + tail,
      "$scrypt$ln=10,r=8,p=5" + tail,
      "$scrypt$ln=20,r=16,p=4" + tail,  // 2 GiB of working memory
      "$scrypt$ln=20,r=8,p=1" + tail,   // 1 GiB
      std::string(100000, '$'),
      "$scrypt$ln=10,r=8,p=1$" + std::string(1000, 'A') + "$" + hash32,
  };
  for (const auto& encoded : cases) {
    EXPECT_FALSE(verify_password("pw", encoded)) << encoded;
    EXPECT_TRUE(password_needs_rehash(encoded)) << encoded;
  }
  // A flipped bit anywhere in the stored hash is a mismatch, not an error.
  std::string flipped = good;
  flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_password("pw", flipped));
}

}  // namespace
}  // namespace alliance::crypto
