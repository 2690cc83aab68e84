#pragma once
// Access tokens: JWT (RFC 7519) in compact JWS form, signed with Ed25519 ("EdDSA")
// and nothing else. Pure functions; safe from any thread. Verifying costs one Ed25519
// verify (~0.1 ms): callers on a hot path cache the result per token until it expires.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"
#include "alliance/crypto/ed25519.hpp"

namespace alliance::crypto {

struct AccessClaims {
  std::string issuer;           // iss
  std::string audience;         // aud
  std::string subject;          // sub: user id
  std::string session_id;       // sid
  std::string practice_id;      // pid
  std::string role;             // role
  std::string token_id;         // jti
  std::int64_t issued_at = 0;   // iat, seconds since the Unix epoch
  std::int64_t expires_at = 0;  // exp, seconds since the Unix epoch
};

// Longest token verify_access_token will look at.
inline constexpr std::size_t kMaxAccessTokenSize = 4096;

// header.payload.signature with header {"alg":"EdDSA","typ":"JWT","kid":<kid>}.
std::string sign_access_token(const AccessClaims& claims, const Ed25519PrivateKey& key,
                              std::string_view kid);

struct VerifyOptions {
  std::string issuer;              // iss must equal this (and be non-empty)
  std::string audience;            // aud must equal this (and be non-empty)
  std::int64_t now_seconds = 0;    // the verifier's clock, seconds since the Unix epoch
  std::int64_t leeway_seconds = 30;  // clock skew tolerated on exp, iat and nbf
};

// kid -> 32-byte raw Ed25519 public key.
using KeySet = std::map<std::string, std::string, std::less<>>;

// The claims of a valid token, or kUnauthenticated with a short reason that is safe to
// log and never echoes the token: "token too large", "malformed token",
// "unsupported alg", "unsupported header", "unknown key id", "bad signature",
// "missing claim: <name>", "wrong issuer", "wrong audience", "token expired",
// "token not yet valid". Only alg "EdDSA" is accepted; header members other than
// alg/typ/kid (crit, jku, jwk, ...) are rejected; the signature is checked before any
// claim is read. Expired means now - leeway >= exp (RFC 7519: valid only before exp);
// iat or nbf later than now + leeway is "token not yet valid".
Result<AccessClaims> verify_access_token(std::string_view token, const KeySet& keys,
                                         const VerifyOptions& options);

}  // namespace alliance::crypto
