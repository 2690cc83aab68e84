#include "alliance/crypto/encoding.hpp"

#include <gtest/gtest.h>

#include "alliance/core/ids.hpp"
#include "test_util.hpp"

namespace alliance::crypto {
namespace {

using test_support::from_hex;

TEST(Base64Url, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  // The url-safe alphabet: 0xfb 0xff -> "-_8" (standard base64 would say "+/8=").
  EXPECT_EQ(base64url_encode(from_hex("fbff")), "-_8");
}

TEST(Base64Url, RoundTripsEveryLengthAndByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t len = 0; len <= all.size(); ++len) {
    auto bytes = all.substr(all.size() - len);
    auto decoded = base64url_decode(base64url_encode(bytes));
    ASSERT_TRUE(decoded.has_value()) << "length " << len;
    EXPECT_EQ(*decoded, bytes) << "length " << len;
  }
  for (int i = 0; i < 50; ++i) {
    auto bytes = random_bytes(static_cast<std::size_t>(i) * 7);
    EXPECT_EQ(base64url_decode(base64url_encode(bytes)), bytes);
  }
}

TEST(Base64Url, RejectsPaddingAndForeignCharacters) {
  EXPECT_FALSE(base64url_decode("Zg=="));
  EXPECT_FALSE(base64url_decode("Zm8="));
  EXPECT_FALSE(base64url_decode("+/8"));    // standard alphabet, not url-safe
  EXPECT_FALSE(base64url_decode("Zm9v Yg")); // whitespace
  EXPECT_FALSE(base64url_decode("Zm9v\nYg"));
  EXPECT_FALSE(base64url_decode(std::string_view("Zm\0v", 4)));
  EXPECT_FALSE(base64url_decode("Zm9v.Yg"));
  EXPECT_FALSE(base64url_decode("\xc3\xa9Zm9"));
}

TEST(Base64Url, RejectsImpossibleLengthAndNonCanonicalTrailingBits) {
  EXPECT_FALSE(base64url_decode("Z"));       // 6 bits cannot make a byte
  EXPECT_FALSE(base64url_decode("Zm9vY"));
  EXPECT_FALSE(base64url_decode("Zh"));      // "Zg" with a stray low bit set
  EXPECT_FALSE(base64url_decode("Zm9"));     // "Zm8" with stray bits
  EXPECT_EQ(base64url_decode("Zg"), "f");
  EXPECT_EQ(base64url_decode(""), "");
}

TEST(Sha256, MatchesFips180KnownAnswers) {
  EXPECT_EQ(to_hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256("abc").size(), 32u);
}

TEST(Sha256, PartsGivenOneAtATimeDigestAsTheirJoin) {
  // FIPS 180-2's two-block message, cut at every place, and in three parts.
  const std::string message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  const std::string expected = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
  for (std::size_t cut = 0; cut <= message.size(); ++cut) {
    Sha256 h;
    h.update(std::string_view(message).substr(0, cut)).update(std::string_view(message).substr(cut));
    EXPECT_EQ(to_hex(h.finish()), expected) << cut;
  }
  Sha256 h;
  h.update("abcdbcdecdefdefgefgh").update("").update("fghighijhijkijkljklmklmnlmnomnopnopq");
  EXPECT_EQ(to_hex(h.finish()), expected);
  EXPECT_EQ(to_hex(Sha256().finish()), to_hex(sha256("")));
}

TEST(ConstantTimeEqual, ComparesContentsAndLengths) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secret2"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

}  // namespace
}  // namespace alliance::crypto
