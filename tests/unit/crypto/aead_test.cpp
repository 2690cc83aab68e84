#include "alliance/crypto/aead.hpp"

#include <gtest/gtest.h>

#include <set>

#include "alliance/core/ids.hpp"
#include "test_util.hpp"

namespace alliance::crypto {
namespace {

using test_support::from_hex;

// McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13, 14 and 16.
TEST(Aes256Gcm, KnownAnswers) {
  const std::string zero_key(32, '\0');
  const std::string zero_nonce(12, '\0');
  auto tc13 = aes256gcm_seal(zero_key, zero_nonce, "", "");
  ASSERT_TRUE(tc13.ok()) << tc13.error().message;
  EXPECT_EQ(to_hex(*tc13), "530f8afbc74536b9a963b4f1c4cb738b");

  auto tc14 = aes256gcm_seal(zero_key, zero_nonce, "", std::string(16, '\0'));
  ASSERT_TRUE(tc14.ok());
  EXPECT_EQ(to_hex(*tc14), "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");

  const std::string key = from_hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  const std::string nonce = from_hex("cafebabefacedbaddecaf888");
  const std::string aad = from_hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const std::string pt = from_hex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa"
      "0de657ba637b39");
  const std::string expected =
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba"
      "7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b";
  auto tc16 = aes256gcm_seal(key, nonce, aad, pt);
  ASSERT_TRUE(tc16.ok());
  EXPECT_EQ(to_hex(*tc16), expected);
  auto opened = aes256gcm_open(key, nonce, aad, from_hex(expected));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, pt);
}

TEST(Aes256Gcm, RoundTripEmptyAndLarge) {
  const std::string key = random_bytes(32);
  const std::string nonce = random_bytes(12);
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{100000}}) {
    std::string pt = random_bytes(size);
    auto ct = aes256gcm_seal(key, nonce, "aad", pt);
    ASSERT_TRUE(ct.ok());
    EXPECT_EQ(ct->size(), size + 16);
    auto back = aes256gcm_open(key, nonce, "aad", *ct);
    ASSERT_TRUE(back.ok()) << size;
    EXPECT_EQ(*back, pt);
  }
}

void expect_decryption_failed(const Result<std::string>& r, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what;
  EXPECT_EQ(r.error().code, Code::kInvalidArgument) << what;
  EXPECT_EQ(r.error().message, "decryption failed") << what;
}

TEST(Aes256Gcm, AnyChangeFailsToOpen) {
  const std::string key = random_bytes(32);
  const std::string nonce = random_bytes(12);
  const std::string pt = "session notes: Tuesday 10:00";
  auto ct = aes256gcm_seal(key, nonce, "conversation-1", pt);
  ASSERT_TRUE(ct.ok());
  for (std::size_t i = 0; i < ct->size(); ++i) {
    std::string bad = *ct;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    expect_decryption_failed(aes256gcm_open(key, nonce, "conversation-1", bad), "byte " + std::to_string(i));
  }
  expect_decryption_failed(aes256gcm_open(key, nonce, "conversation-2", *ct), "wrong aad");
  expect_decryption_failed(aes256gcm_open(key, nonce, "", *ct), "empty aad");
  expect_decryption_failed(aes256gcm_open(random_bytes(32), nonce, "conversation-1", *ct), "wrong key");
  expect_decryption_failed(aes256gcm_open(key, random_bytes(12), "conversation-1", *ct), "wrong nonce");
  expect_decryption_failed(aes256gcm_open(key, nonce, "conversation-1", ct->substr(0, ct->size() - 1)),
                           "truncated");
  expect_decryption_failed(aes256gcm_open(key, nonce, "conversation-1", *ct + "x"), "extended");
  expect_decryption_failed(aes256gcm_open(key, nonce, "conversation-1", ct->substr(0, 15)), "shorter than tag");
  expect_decryption_failed(aes256gcm_open(key, nonce, "conversation-1", ""), "empty");
}

TEST(Aes256Gcm, WrongSizesNameTheField) {
  auto short_key = aes256gcm_seal(std::string(16, 'k'), std::string(12, 'n'), "", "x");
  ASSERT_FALSE(short_key.ok());
  EXPECT_EQ(short_key.error().field, "key");
  auto long_nonce = aes256gcm_seal(std::string(32, 'k'), std::string(16, 'n'), "", "x");
  ASSERT_FALSE(long_nonce.ok());
  EXPECT_EQ(long_nonce.error().field, "nonce");
  auto open_key = aes256gcm_open("", std::string(12, 'n'), "", std::string(32, 'c'));
  ASSERT_FALSE(open_key.ok());
  EXPECT_EQ(open_key.error().field, "key");
  auto open_nonce = aes256gcm_open(std::string(32, 'k'), "", "", std::string(32, 'c'));
  ASSERT_FALSE(open_nonce.ok());
  EXPECT_EQ(open_nonce.error().field, "nonce");
}

TEST(RandomBytes, SizesAndFreshness) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(1000).size(), 1000u);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(random_bytes(16));
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace alliance::crypto
