// Two-factor sign-in's pure pieces: the sealed secret, what a typed code is, recovery
// codes and the enrolment's QR code.
#include "two_factor.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "alliance/crypto/random.hpp"
#include "qr_text.hpp"

namespace alliance::identity {
namespace {

TEST(TwoFactorSeal, OpensOnlyForTheSameUserAndKey) {
  const std::string key = crypto::random_bytes(32);
  TwoFactorSeal seal(key);
  const std::string secret = crypto::random_bytes(20);
  auto sealed = seal.seal("user-a", secret);
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->find(secret), std::string::npos);
  EXPECT_NE(*sealed, *seal.seal("user-a", secret));  // a fresh nonce each time
  auto opened = seal.open("user-a", *sealed);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, secret);
  // Another user's row moved onto this user does not open, nor under another key.
  EXPECT_FALSE(seal.open("user-b", *sealed));
  EXPECT_FALSE(TwoFactorSeal(crypto::random_bytes(32)).open("user-a", *sealed));
  EXPECT_FALSE(seal.open("user-a", sealed->substr(0, 10)));
}

TEST(TwoFactorCodes, SixDigitsAreTotpSixteenBase32LettersARecoveryCodeAnythingElseNeither) {
  EXPECT_EQ(parse_typed_code("123456").kind, TypedCode::Kind::kTotp);
  EXPECT_EQ(parse_typed_code("123 456").value, "123456");
  auto recovery = parse_typed_code("abcd-efgh-ijkl-mn23");
  EXPECT_EQ(recovery.kind, TypedCode::Kind::kRecovery);
  EXPECT_EQ(recovery.value, "ABCDEFGHIJKLMN23");
  for (const char* bad : {"", "12345", "1234567", "12345a", "ABCD-EFGH-IJKL-MN01", "ABCDEFGHIJKLMNOPQ", "\xff\xfe"})
    EXPECT_EQ(parse_typed_code(bad).kind, TypedCode::Kind::kNeither) << bad;
}

TEST(TwoFactorCodes, TenDistinctRecoveryCodesStoredAsTheDigestOfTheirNormalForm) {
  auto codes = new_recovery_codes();
  ASSERT_EQ(codes.size(), static_cast<std::size_t>(kRecoveryCodeCount));
  std::set<std::string> distinct(codes.begin(), codes.end());
  EXPECT_EQ(distinct.size(), codes.size());
  for (const auto& c : codes) {
    EXPECT_TRUE(std::regex_match(c, std::regex("[A-Z2-7]{4}(-[A-Z2-7]{4}){3}"))) << c;
    auto typed = parse_typed_code(c);
    ASSERT_EQ(typed.kind, TypedCode::Kind::kRecovery);
    EXPECT_EQ(recovery_code_digest(typed.value).size(), 32u);
    EXPECT_EQ(recovery_code_digest(typed.value), recovery_code_digest(parse_typed_code(c).value));
  }
}

TEST(QrText, DrawsASquareCodeWithAQuietZone) {
  auto qr = qr_text("otpauth://totp/Practice%20elm:tess%40elm.example?secret=JBSWY3DPEHPK3PXP&issuer=Practice%20elm",
                    "otpauth_uri");
  ASSERT_TRUE(qr);
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = qr->find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(qr->substr(start, nl - start));
  ASSERT_GE(lines.size(), 12u);
  // The first line is quiet zone: light blocks only (3 bytes each in UTF-8).
  EXPECT_EQ(lines[0].find(' '), std::string::npos);
  EXPECT_EQ(lines[0].size() % 3, 0u);
  // Dark modules (spaces or half blocks) inside.
  EXPECT_NE(lines[lines.size() / 2].find(' '), std::string::npos);
  EXPECT_FALSE(qr_text(std::string(8000, 'x'), "otpauth_uri"));
}

}  // namespace
}  // namespace alliance::identity
