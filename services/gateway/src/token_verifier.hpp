#pragma once
// Verifies access tokens locally with the keys identity publishes, and knows
// which sessions were revoked. An Ed25519 verify costs ~100 us, so a token that
// verified once is remembered until it expires. Owned by the gateway's I/O thread.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "alliance/core/result.hpp"
#include "alliance/core/string_hash.hpp"
#include "alliance/crypto/jwt.hpp"

namespace alliance::gateway {

// A cached token's bucket comes from its last 32 characters, part of its signature,
// which differs between any two tokens identity signed; hashing the whole ~500-byte token
// cost more than the rest of the lookup. Equality still compares the whole token, so a
// token that shares the tail of a cached one only shares its bucket.
struct TokenTailHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view token) const noexcept {
    return std::hash<std::string_view>{}(token.substr(token.size() > 32 ? token.size() - 32 : 0)) ^ token.size();
  }
};

class TokenVerifier {
 public:
  TokenVerifier(std::string issuer, std::string audience, std::size_t max_cached = 100'000);

  void set_keys(crypto::KeySet keys);
  bool has_keys() const { return !keys_.empty(); }

  // kUnauthenticated for a bad, expired or revoked token.
  Result<crypto::AccessClaims> verify(std::string_view token, std::int64_t now_seconds);
  // As verify(), without copying the claims (a request's hot path): the pointer is valid
  // until the next call of verify(), check() or set_keys().
  Result<const crypto::AccessClaims*> check(std::string_view token, std::int64_t now_seconds);

  // Remembers a revoked session until its tokens would have expired anyway.
  void revoke_session(const std::string& session_id, std::int64_t expires_unix_ms, std::int64_t now_unix_ms);
  bool is_revoked(std::string_view session_id) const;

  std::size_t cached() const { return cache_.size(); }

 private:
  std::string issuer_;
  std::string audience_;
  std::size_t max_cached_;
  crypto::KeySet keys_;
  // Searched by the token's view, without a copy.
  std::unordered_map<std::string, crypto::AccessClaims, TokenTailHash, std::equal_to<>> cache_;
  StringMap<std::int64_t> revoked_;        // session id -> forget after (unix ms)
};

}  // namespace alliance::gateway
