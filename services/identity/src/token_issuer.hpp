#pragma once
// TokenIssuer: signs access tokens (JWT, EdDSA) with identity's Ed25519 key and
// makes refresh tokens. Read-only after construction: safe from any thread.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "alliance/crypto/ed25519.hpp"
#include "identity_domain.hpp"

namespace alliance::identity {

class TokenIssuer {
 public:
  struct Options {
    std::string issuer = "alliance";
    std::string audience = "alliance-api";
    std::chrono::milliseconds access_ttl = std::chrono::minutes(15);
  };
  TokenIssuer(crypto::Ed25519PrivateKey key, Options options);

  // An access token for `user` in `session_id`, valid until now + access_ttl.
  std::string issue_access_token(const User& user, std::string_view session_id,
                                 std::int64_t now_unix_ms) const;

  // A 32-byte key only the holder of the signing key can compute, the same on every
  // start: sha256(label || the Ed25519 signature over label), signatures being
  // deterministic (RFC 8032). Replacing the signing key changes it.
  std::string derive_key(std::string_view label) const;

  const std::string& kid() const { return kid_; }
  const std::string& public_key_raw() const { return public_key_; }  // 32 bytes
  const Options& options() const { return options_; }

  // hex of the first 8 bytes of sha256(public key).
  static std::string key_id(std::string_view public_key_raw);

 private:
  crypto::Ed25519PrivateKey key_;
  Options options_;
  std::string public_key_;
  std::string kid_;
};

// A fresh refresh token: base64url of 32 random bytes. Only its sha256 is stored.
std::string new_refresh_token();
// The stored form of a refresh token (32 raw bytes).
std::string refresh_token_digest(std::string_view token);

}  // namespace alliance::identity
