// HOTP and TOTP against the published vectors (RFC 4226 appendix D, RFC 6238 appendix B,
// HMAC-SHA-1), and what a sign-in step needs of them.
#include "alliance/crypto/totp.hpp"

#include <gtest/gtest.h>

namespace alliance::crypto {
namespace {

const std::string kSecret = "12345678901234567890";  // the RFCs' ASCII secret

TEST(Hotp, Rfc4226AppendixD) {
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (std::uint64_t counter = 0; counter < 10; ++counter) EXPECT_EQ(hotp(kSecret, counter), expected[counter]);
}

TEST(Totp, Rfc6238AppendixBSha1) {
  struct Vector {
    std::int64_t time;
    const char* eight_digits;
  };
  for (const Vector& v : {Vector{59, "94287082"}, Vector{1111111109, "07081804"}, Vector{1111111111, "14050471"},
                          Vector{1234567890, "89005924"}, Vector{2000000000, "69279037"},
                          Vector{20000000000, "65353130"}}) {
    EXPECT_EQ(totp(kSecret, v.time, 8), v.eight_digits) << v.time;
    EXPECT_EQ(totp(kSecret, v.time), std::string(v.eight_digits).substr(2)) << "6 digits: the last 6 of 8";
  }
}

TEST(Totp, OneStepOfSkewEitherSideAndEachCodeOnlyOnce) {
  const std::int64_t now = 1'764'000'015;  // in step 58'800'000
  const std::int64_t step = totp_step(now);
  EXPECT_EQ(totp_check(kSecret, totp(kSecret, now), now, 0), step);
  EXPECT_EQ(totp_check(kSecret, totp(kSecret, now - 30), now, 0), step - 1);
  EXPECT_EQ(totp_check(kSecret, totp(kSecret, now + 30), now, 0), step + 1);
  EXPECT_FALSE(totp_check(kSecret, totp(kSecret, now - 60), now, 0)) << "two steps old";
  EXPECT_FALSE(totp_check(kSecret, totp(kSecret, now + 60), now, 0));
  // Once the current step's code was used, it and every older one are refused.
  EXPECT_FALSE(totp_check(kSecret, totp(kSecret, now), now, step));
  EXPECT_FALSE(totp_check(kSecret, totp(kSecret, now - 30), now, step));
  EXPECT_EQ(totp_check(kSecret, totp(kSecret, now + 30), now, step), step + 1);
  for (const char* bad : {"", "12345", "1234567", "abcdef"}) EXPECT_FALSE(totp_check(kSecret, bad, now, 0)) << bad;
}

TEST(Totp, SecretsAreFreshAndTheUriIsWhatAuthenticatorAppsRead) {
  EXPECT_EQ(totp_secret().size(), kTotpSecretSize);
  EXPECT_NE(totp_secret(), totp_secret());
  EXPECT_EQ(base32("12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");  // RFC 4648 section 10 style
  EXPECT_EQ(base32("f"), "MY");
  EXPECT_EQ(base32("fooba"), "MZXW6YTB");
  EXPECT_EQ(otpauth_uri("Riverside Therapy", "kim@riverside.example", kSecret),
            "otpauth://totp/Riverside%20Therapy:kim@riverside.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&issuer=Riverside%20Therapy&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace alliance::crypto
