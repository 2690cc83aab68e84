// The wrapped-keys blob a message row keeps: round trips, and a damaged blob is
// refused at every byte with an error saying so, never read out of bounds.
#include <gtest/gtest.h>

#include "wrapped_keys_blob.hpp"

namespace alliance::messaging {
namespace {

std::vector<StoredKey> sample_keys() {
  return {{"phone", std::string(80, 'p')}, {"archive", std::string(80, 'a')}, {"laptop", std::string(80, '\0')}};
}

std::string sample_blob() {
  auto blob = encode_wrapped_keys(sample_keys());
  EXPECT_TRUE(blob) << blob.error().message;
  return blob ? *blob : std::string();
}

TEST(WrappedKeysBlob, RoundTripsInDeviceOrder) {
  auto keys = decode_wrapped_keys(sample_blob());
  ASSERT_TRUE(keys) << keys.error().message;
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0].device_id, "archive");
  EXPECT_EQ((*keys)[1].device_id, "laptop");
  EXPECT_EQ((*keys)[1].wrapped, std::string(80, '\0'));
  EXPECT_EQ((*keys)[2].device_id, "phone");
  EXPECT_EQ((*keys)[2].wrapped, std::string(80, 'p'));
}

TEST(WrappedKeysBlob, FindsOneDevicesKey) {
  const auto blob = sample_blob();
  auto laptop = wrapped_key_of(blob, "laptop");
  ASSERT_TRUE(laptop);
  ASSERT_TRUE(*laptop);
  EXPECT_EQ(**laptop, std::string(80, '\0'));
  auto nobody = wrapped_key_of(blob, "tablet");
  ASSERT_TRUE(nobody);
  EXPECT_FALSE(*nobody);
}

TEST(WrappedKeysBlob, EveryTruncationIsRefused) {
  const auto blob = sample_blob();
  for (std::size_t n = 0; n < blob.size(); ++n) {
    auto cut = std::string_view(blob).substr(0, n);
    auto all = decode_wrapped_keys(cut);
    ASSERT_FALSE(all) << "accepted the first " << n << " bytes";
    EXPECT_EQ(all.error().code, Code::kInternal);
    EXPECT_NE(all.error().message.find("wrapped keys: "), std::string::npos) << all.error().message;
    EXPECT_FALSE(wrapped_key_of(cut, "archive")) << "found a key in the first " << n << " bytes";
  }
}

TEST(WrappedKeysBlob, EveryDamagedLengthOrVersionIsRefusedOrReadsInBounds) {
  const auto blob = sample_blob();
  // Any single byte changed either still decodes (it was inside an id or a key, or
  // made a valid shorter reading impossible) or is refused; never a crash.
  for (std::size_t i = 0; i < blob.size(); ++i) {
    for (int v : {0x00, 0x01, 0x7f, 0xff}) {
      auto damaged = blob;
      damaged[i] = static_cast<char>(v);
      auto keys = decode_wrapped_keys(damaged);
      if (keys) {
        std::size_t total = 3;
        for (const auto& k : *keys) total += 3 + k.device_id.size() + k.wrapped.size();
        EXPECT_EQ(total, damaged.size()) << "byte " << i;
      }
    }
  }
  auto wrong_version = blob;
  wrong_version[0] = 2;
  auto refused = decode_wrapped_keys(wrong_version);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "wrapped keys: unknown version 2");
  auto extra = decode_wrapped_keys(blob + "x");
  ASSERT_FALSE(extra);
  EXPECT_EQ(extra.error().message, "wrapped keys: bytes after the last key");
}

TEST(WrappedKeysBlob, RepeatedOrUnorderedDevicesAreRefused) {
  // version 1, 2 keys: "b" then "a", each with a 1-byte key.
  const std::string unordered("\x01\x00\x02\x01" "b" "\x00\x01" "k" "\x01" "a" "\x00\x01" "k", 14);
  auto keys = decode_wrapped_keys(unordered);
  ASSERT_FALSE(keys);
  EXPECT_NE(keys.error().message.find("out of order or repeated"), std::string::npos) << keys.error().message;
  const std::string repeated("\x01\x00\x02\x01" "a" "\x00\x01" "k" "\x01" "a" "\x00\x01" "k", 14);
  EXPECT_FALSE(decode_wrapped_keys(repeated));
}

TEST(WrappedKeysBlob, KeysThatDoNotFitAreRefusedNamingTheField) {
  auto empty_id = encode_wrapped_keys({{"phone", "k"}, {"", "k"}});
  ASSERT_FALSE(empty_id);
  EXPECT_EQ(empty_id.error().field, "keys[1].device_id");
  auto long_id = encode_wrapped_keys({{std::string(256, 'd'), "k"}});
  ASSERT_FALSE(long_id);
  EXPECT_EQ(long_id.error().field, "keys[0].device_id");
  auto empty_key = encode_wrapped_keys({{"phone", ""}});
  ASSERT_FALSE(empty_key);
  EXPECT_EQ(empty_key.error().field, "keys[0].wrapped_key");
  auto twice = encode_wrapped_keys({{"phone", "k"}, {"phone", "j"}});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().field, "keys");
}

}  // namespace
}  // namespace alliance::messaging
