#include <gtest/gtest.h>

#include "alliance/crypto/ed25519.hpp"
#include "alliance/crypto/jwt.hpp"
#include "src/token_verifier.hpp"

namespace alliance::gateway {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

struct Fixture : ::testing::Test {
  crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::generate();
  TokenVerifier verifier{"alliance", "alliance-api", 4};

  void SetUp() override { verifier.set_keys({{"k1", key.public_key_raw()}}); }

  std::string token(std::string session, std::int64_t exp = kNow + 900) {
    crypto::AccessClaims c;
    c.issuer = "alliance";
    c.audience = "alliance-api";
    c.subject = "user-1";
    c.session_id = std::move(session);
    c.practice_id = "p1";
    c.role = "client";
    c.token_id = "t-" + c.session_id + std::to_string(exp);
    c.issued_at = kNow - 10;
    c.expires_at = exp;
    return crypto::sign_access_token(c, key, "k1");
  }
};

TEST_F(Fixture, AcceptsValidTokenAndServesRepeatsFromCache) {
  auto t = token("s1");
  auto first = verifier.verify(t, kNow);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->subject, "user-1");
  EXPECT_EQ(verifier.cached(), 1u);
  EXPECT_TRUE(verifier.verify(t, kNow + 1));
  EXPECT_EQ(verifier.cached(), 1u);
}

// The cache buckets tokens by their tail: a token whose payload was changed and whose
// signature was kept shares a cached token's bucket, and is still refused.
TEST_F(Fixture, ATamperedTokenWithACachedTokensSignatureIsRefused) {
  auto t = token("s1");
  ASSERT_TRUE(verifier.verify(t, kNow));
  const auto first_dot = t.find('.');
  ASSERT_NE(first_dot, std::string::npos);
  std::string tampered = t;
  tampered[first_dot + 5] = tampered[first_dot + 5] == 'A' ? 'B' : 'A';  // the payload, not the signature
  ASSERT_EQ(TokenTailHash{}(tampered), TokenTailHash{}(t));
  auto r = verifier.verify(tampered, kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kUnauthenticated);
  EXPECT_TRUE(verifier.verify(t, kNow));
}

TEST_F(Fixture, CachedTokenStillExpires) {
  auto t = token("s1", kNow + 60);
  ASSERT_TRUE(verifier.verify(t, kNow));
  auto later = verifier.verify(t, kNow + 61);
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code, Code::kUnauthenticated);
}

TEST_F(Fixture, RevokedSessionIsRefusedEvenWhenCached) {
  auto t = token("s1");
  ASSERT_TRUE(verifier.verify(t, kNow));
  verifier.revoke_session("s1", (kNow + 900) * 1000, kNow * 1000);
  auto r = verifier.verify(t, kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kUnauthenticated);
  EXPECT_TRUE(verifier.verify(token("s2"), kNow));
}

TEST_F(Fixture, TokenFromAnotherKeyIsRefused) {
  auto other = crypto::Ed25519PrivateKey::generate();
  crypto::AccessClaims c;
  c.issuer = "alliance";
  c.audience = "alliance-api";
  c.subject = "user-1";
  c.session_id = "s1";
  c.practice_id = "p1";
  c.role = "admin";
  c.token_id = "x";
  c.issued_at = kNow;
  c.expires_at = kNow + 900;
  auto forged = crypto::sign_access_token(c, other, "k1");
  EXPECT_FALSE(verifier.verify(forged, kNow));
  EXPECT_EQ(verifier.cached(), 0u);
}

TEST_F(Fixture, CacheStaysBounded) {
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(verifier.verify(token("s" + std::to_string(i)), kNow));
  EXPECT_LE(verifier.cached(), 4u);
}

TEST_F(Fixture, ReplacingKeysDropsTheCache) {
  auto t = token("s1");
  ASSERT_TRUE(verifier.verify(t, kNow));
  verifier.set_keys({{"k2", crypto::Ed25519PrivateKey::generate().public_key_raw()}});
  EXPECT_FALSE(verifier.verify(t, kNow));
}

}  // namespace
}  // namespace alliance::gateway
