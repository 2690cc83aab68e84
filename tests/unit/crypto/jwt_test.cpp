#include "alliance/crypto/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "alliance/crypto/encoding.hpp"

namespace alliance::crypto {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::string_view kKid = "2026-01";

AccessClaims sample_claims() {
  AccessClaims c;
  c.issuer = "https://identity.alliance.test";
  c.audience = "alliance-gateway";
  c.subject = "u_7f3a";
  c.session_id = "s_19bc";
  c.practice_id = "p_0042";
  c.role = "client";
  c.token_id = "t_5d2e";
  c.issued_at = kNow - 60;
  c.expires_at = kNow + 540;
  return c;
}

VerifyOptions options_at(std::int64_t now) {
  return VerifyOptions{"https://identity.alliance.test", "alliance-gateway", now, 30};
}

class AccessTokenTest : public ::testing::Test {
 protected:
  AccessTokenTest() { keys_.emplace(std::string(kKid), key_.public_key_raw()); }

  Result<AccessClaims> verify(std::string_view token, std::int64_t now = kNow) const {
    return verify_access_token(token, keys_, options_at(now));
  }
  // Asserts rejection as kUnauthenticated with `reason`, and that the reason does not
  // echo the token back (it ends up in logs).
  void expect_rejected(std::string_view token, std::string_view reason, std::int64_t now = kNow) const {
    auto result = verify(token, now);
    ASSERT_FALSE(result.ok()) << "accepted: " << token;
    EXPECT_EQ(result.error().code, Code::kUnauthenticated);
    EXPECT_EQ(result.error().message, reason) << token;
    if (token.size() > 8) {
      EXPECT_EQ(result.error().message.find(token), std::string::npos);
    }
  }
  // A compact JWS from raw JSON texts, signed with `key` like a real token.
  static std::string hand_signed(std::string_view header, std::string_view payload,
                                 const Ed25519PrivateKey& key) {
    std::string input = base64url_encode(header) + "." + base64url_encode(payload);
    return input + "." + base64url_encode(key.sign(input));
  }
  static std::string payload_of(std::string_view token) {
    auto first = token.find('.');
    auto second = token.find('.', first + 1);
    return *base64url_decode(token.substr(first + 1, second - first - 1));
  }
  static std::string replace(std::string text, std::string_view from, std::string_view to) {
    auto pos = text.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    if (pos != std::string::npos) text.replace(pos, from.size(), to);
    return text;
  }

  Ed25519PrivateKey key_ = Ed25519PrivateKey::generate();
  KeySet keys_;
  const std::string header_ = R"({"alg":"EdDSA","typ":"JWT","kid":"2026-01"})";
};

TEST_F(AccessTokenTest, RoundTripKeepsEveryClaim) {
  AccessClaims claims = sample_claims();
  std::string token = sign_access_token(claims, key_, kKid);
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
  EXPECT_EQ(*base64url_decode(token.substr(0, token.find('.'))), header_);

  auto result = verify(token);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->issuer, claims.issuer);
  EXPECT_EQ(result->audience, claims.audience);
  EXPECT_EQ(result->subject, claims.subject);
  EXPECT_EQ(result->session_id, claims.session_id);
  EXPECT_EQ(result->practice_id, claims.practice_id);
  EXPECT_EQ(result->role, claims.role);
  EXPECT_EQ(result->token_id, claims.token_id);
  EXPECT_EQ(result->issued_at, claims.issued_at);
  EXPECT_EQ(result->expires_at, claims.expires_at);
}

TEST_F(AccessTokenTest, KeySetWithSeveralKeysPicksByKid) {
  auto old_key = Ed25519PrivateKey::generate();
  keys_.emplace("2025-12", old_key.public_key_raw());
  EXPECT_TRUE(verify(sign_access_token(sample_claims(), old_key, "2025-12")).ok());
  EXPECT_TRUE(verify(sign_access_token(sample_claims(), key_, kKid)).ok());
  expect_rejected(sign_access_token(sample_claims(), old_key, kKid), "bad signature");
}

TEST_F(AccessTokenTest, ExpiredTokenIsRejectedAfterLeeway) {
  std::string token = sign_access_token(sample_claims(), key_, kKid);  // exp = kNow + 540
  EXPECT_TRUE(verify(token, kNow + 540 + 29).ok());
  expect_rejected(token, "token expired", kNow + 540 + 30);
  expect_rejected(token, "token expired", kNow + 86400);
}

TEST_F(AccessTokenTest, TokenIssuedInTheFutureIsRejectedBeyondLeeway) {
  AccessClaims claims = sample_claims();
  claims.issued_at = kNow + 29;
  EXPECT_TRUE(verify(sign_access_token(claims, key_, kKid)).ok());
  claims.issued_at = kNow + 31;
  expect_rejected(sign_access_token(claims, key_, kKid), "token not yet valid");
  claims.issued_at = kNow + 3600;
  expect_rejected(sign_access_token(claims, key_, kKid), "token not yet valid");
}

TEST_F(AccessTokenTest, NotBeforeInTheFutureIsRejected) {
  std::string payload = payload_of(sign_access_token(sample_claims(), key_, kKid));
  payload.back() = ',';
  payload += "\"nbf\":" + std::to_string(kNow + 300) + "}";
  expect_rejected(hand_signed(header_, payload, key_), "token not yet valid");
}

TEST_F(AccessTokenTest, SignedByAnotherKeyUnderTheSameKidIsRejected) {
  auto attacker = Ed25519PrivateKey::generate();
  expect_rejected(sign_access_token(sample_claims(), attacker, kKid), "bad signature");
}

TEST_F(AccessTokenTest, UnknownKidIsRejected) {
  expect_rejected(sign_access_token(sample_claims(), key_, "2099-01"), "unknown key id");
  expect_rejected(sign_access_token(sample_claims(), key_, ""), "unknown key id");
  std::string payload = payload_of(sign_access_token(sample_claims(), key_, kKid));
  expect_rejected(hand_signed(R"({"alg":"EdDSA","typ":"JWT"})", payload, key_), "unknown key id");
  expect_rejected(hand_signed(R"({"alg":"EdDSA","typ":"JWT","kid":7})", payload, key_), "unknown key id");
}

TEST_F(AccessTokenTest, AlgNoneWithEmptySignatureIsRejected) {
  std::string payload = payload_of(sign_access_token(sample_claims(), key_, kKid));
  for (std::string_view alg : {"none", "None", "NONE", "nOnE"}) {
    std::string header = R"({"alg":")" + std::string(alg) + R"(","typ":"JWT","kid":"2026-01"})";
    expect_rejected(base64url_encode(header) + "." + base64url_encode(payload) + ".", "unsupported alg");
  }
}

TEST_F(AccessTokenTest, Hs256WithThePublicKeyAsSecretIsRejected) {
  // The classic confusion attack: the verifier's public key used as an HMAC secret.
  std::string payload = payload_of(sign_access_token(sample_claims(), key_, kKid));
  std::string input = base64url_encode(R"({"alg":"HS256","typ":"JWT","kid":"2026-01"})") + "." +
                      base64url_encode(payload);
  std::string secret = keys_.at(std::string(kKid));
  unsigned char mac[32];
  std::size_t mac_len = 0;
  ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                      reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                      sizeof mac, &mac_len),
            nullptr);
  std::string token = input + "." + base64url_encode(std::string_view(reinterpret_cast<char*>(mac), mac_len));
  expect_rejected(token, "unsupported alg");
}

TEST_F(AccessTokenTest, EveryOtherAlgIsRejectedEvenWithAValidEd25519Signature) {
  // Correctly signed with our key, so only the header check can stop them.
  std::string payload = payload_of(sign_access_token(sample_claims(), key_, kKid));
  for (std::string_view header : {
           R"({"alg":"RS256","typ":"JWT","kid":"2026-01"})",
           R"({"alg":"ES256","typ":"JWT","kid":"2026-01"})",
           R"({"alg":"HS256","typ":"JWT","kid":"2026-01"})",
           R"({"alg":"Ed25519","typ":"JWT","kid":"2026-01"})",
           R"({"alg":"eddsa","typ":"JWT","kid":"2026-01"})",
           R"({"alg":"EdDSA ","typ":"JWT","kid":"2026-01"})",
           R"({"alg":["EdDSA"],"typ":"JWT","kid":"2026-01"})",
           R"({"alg":null,"typ":"JWT","kid":"2026-01"})",
           R"({"typ":"JWT","kid":"2026-01"})",
       }) {
    expect_rejected(hand_signed(header, payload, key_), "unsupported alg");
  }
}

TEST_F(AccessTokenTest, CritAndOtherHeaderParametersAreRejected) {
  std::string payload = payload_of(sign_access_token(sample_claims(), key_, kKid));
  for (std::string_view header : {
           R"({"alg":"EdDSA","typ":"JWT","kid":"2026-01","crit":["exp"]})",
           R"({"alg":"EdDSA","typ":"JWT","kid":"2026-01","jku":"https://evil.test/keys"})",
           R"({"alg":"EdDSA","typ":"JWT","kid":"2026-01","jwk":{}})",
           R"({"alg":"EdDSA","typ":"JWE","kid":"2026-01"})",
       }) {
    expect_rejected(hand_signed(header, payload, key_), "unsupported header");
  }
  // typ is optional; its absence is fine.
  EXPECT_TRUE(verify(hand_signed(R"({"alg":"EdDSA","kid":"2026-01"})", payload, key_)).ok());
}

TEST_F(AccessTokenTest, TamperedPayloadIsRejected) {
  std::string token = sign_access_token(sample_claims(), key_, kKid);
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  std::string payload = payload_of(token);
  std::string forged = replace(payload, R"("role":"client")", R"("role":"admin")");
  expect_rejected(token.substr(0, first + 1) + base64url_encode(forged) + token.substr(second), "bad signature");
  forged = replace(payload, R"("sub":"u_7f3a")", R"("sub":"u_0001")");
  expect_rejected(token.substr(0, first + 1) + base64url_encode(forged) + token.substr(second), "bad signature");
}

TEST_F(AccessTokenTest, AnySingleCharacterChangeIsRejected) {
  std::string token = sign_access_token(sample_claims(), key_, kKid);
  for (std::size_t i = 0; i < token.size(); ++i) {
    std::string mutated = token;
    mutated[i] = token[i] == 'A' ? 'B' : 'A';
    auto result = verify(mutated);
    ASSERT_FALSE(result.ok()) << "position " << i;
    EXPECT_EQ(result.error().code, Code::kUnauthenticated);
  }
}

TEST_F(AccessTokenTest, WrongIssuerIsRejected) {
  AccessClaims claims = sample_claims();
  claims.issuer = "https://identity.other.test";
  expect_rejected(sign_access_token(claims, key_, kKid), "wrong issuer");
  claims.issuer = "";
  expect_rejected(sign_access_token(claims, key_, kKid), "wrong issuer");
}

TEST_F(AccessTokenTest, WrongAudienceIsRejected) {
  AccessClaims claims = sample_claims();
  claims.audience = "alliance-admin";
  expect_rejected(sign_access_token(claims, key_, kKid), "wrong audience");
}

TEST_F(AccessTokenTest, VerifierWithoutIssuerOrAudienceAcceptsNothing) {
  AccessClaims claims = sample_claims();
  claims.issuer = "";
  claims.audience = "";
  auto result = verify_access_token(sign_access_token(claims, key_, kKid), keys_, VerifyOptions{"", "", kNow});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Code::kUnauthenticated);
}

TEST_F(AccessTokenTest, MissingOrMistypedClaimsAreRejected) {
  std::string payload = payload_of(sign_access_token(sample_claims(), key_, kKid));
  struct Case {
    std::string from, to, reason;
  };
  const Case cases[] = {
      {R"("sub":"u_7f3a",)", "", "missing claim: sub"},
      {R"("sid":"s_19bc",)", "", "missing claim: sid"},
      {R"("role":"client",)", "", "missing claim: role"},
      {R"("role":"client")", R"("role":7)", "missing claim: role"},
      {R"("exp":)", R"("expires":)", "missing claim: exp"},
      {R"("exp":)" + std::to_string(kNow + 540), R"("exp":")" + std::to_string(kNow + 540) + "\"",
       "missing claim: exp"},
      {R"("exp":)" + std::to_string(kNow + 540), R"("exp":1.8e9)", "missing claim: exp"},
      {R"("iat":)", R"("issued":)", "missing claim: iat"},
  };
  for (const auto& c : cases) {
    expect_rejected(hand_signed(header_, replace(payload, c.from, c.to), key_), c.reason);
  }
}

TEST_F(AccessTokenTest, NonObjectJsonIsRejectedEvenWhenSigned) {
  std::string payload = payload_of(sign_access_token(sample_claims(), key_, kKid));
  expect_rejected(hand_signed(header_, "[]", key_), "malformed token");
  expect_rejected(hand_signed(header_, R"("just a string")", key_), "malformed token");
  expect_rejected(hand_signed(header_, "null", key_), "malformed token");
  expect_rejected(hand_signed(header_, payload + "x", key_), "malformed token");
  expect_rejected(hand_signed(header_, "", key_), "malformed token");
  expect_rejected(hand_signed(R"(["EdDSA"])", payload, key_), "malformed token");
  expect_rejected(hand_signed("{", payload, key_), "malformed token");
}

TEST_F(AccessTokenTest, GarbageAndWrongSegmentCountsAreRejected) {
  std::string token = sign_access_token(sample_claims(), key_, kKid);
  std::string two_segments = token.substr(0, token.rfind('.'));
  const std::string cases[] = {
      "",
      ".",
      "..",
      "...",
      "a.b",
      "a.b.c",
      "a.b.c.d",
      "Bearer " + token,
      two_segments,
      two_segments + ".",
      token + ".",
      token + "." + token.substr(token.rfind('.') + 1),
      "." + token,
      token + "=",
      token + "==",
      replace(token, ".", ".+"),
      std::string(100, '\xff'),
      std::string("\0\0.\0\0.\0\0", 8),
  };
  for (const auto& garbage : cases) {
    auto result = verify(garbage);
    ASSERT_FALSE(result.ok()) << garbage;
    EXPECT_EQ(result.error().code, Code::kUnauthenticated) << garbage;
  }
  expect_rejected(two_segments, "malformed token");
  expect_rejected(token + ".x", "malformed token");
  expect_rejected("a.b.c", "malformed token");
}

TEST_F(AccessTokenTest, TokensAreAcceptedUpTo4096BytesAndRejectedAbove) {
  // Grow the jti until the token is as close to the limit as base64 allows.
  AccessClaims claims = sample_claims();
  std::string token;
  for (std::size_t n = 2000;; ++n) {
    claims.token_id = std::string(n, 'j');
    std::string next = sign_access_token(claims, key_, kKid);
    if (next.size() > kMaxAccessTokenSize) break;
    token = std::move(next);
  }
  ASSERT_GE(token.size(), kMaxAccessTokenSize - 2);
  EXPECT_TRUE(verify(token).ok());

  claims.token_id = std::string(payload_of(token).size(), 'j');  // a couple of KB bigger
  std::string oversize = sign_access_token(claims, key_, kKid);
  ASSERT_GT(oversize.size(), kMaxAccessTokenSize);
  expect_rejected(oversize, "token too large");
  expect_rejected(std::string(kMaxAccessTokenSize + 1, 'A'), "token too large");
  expect_rejected(std::string(1'000'000, 'A'), "token too large");
}

TEST_F(AccessTokenTest, DeeplyNestedJsonDoesNotCrash) {
  std::string deep = std::string(1400, '[') + std::string(1400, ']');
  std::string token = hand_signed(deep, "{}", key_);
  ASSERT_LE(token.size(), kMaxAccessTokenSize);
  expect_rejected(token, "malformed token");
}

}  // namespace
}  // namespace alliance::crypto
