#include "token_verifier.hpp"

#include <vector>

namespace alliance::gateway {

TokenVerifier::TokenVerifier(std::string issuer, std::string audience, std::size_t max_cached)
    : issuer_(std::move(issuer)), audience_(std::move(audience)), max_cached_(max_cached) {}

void TokenVerifier::set_keys(crypto::KeySet keys) {
  keys_ = std::move(keys);
  cache_.clear();  // a removed key must stop validating cached tokens
}

Result<crypto::AccessClaims> TokenVerifier::verify(std::string_view token, std::int64_t now_seconds) {
  auto claims = check(token, now_seconds);
  if (!claims) return claims.error();
  return **claims;
}

Result<const crypto::AccessClaims*> TokenVerifier::check(std::string_view token, std::int64_t now_seconds) {
  if (auto it = cache_.find(token); it != cache_.end()) {
    const auto& claims = it->second;
    if (claims.expires_at <= now_seconds) {
      cache_.erase(it);
      return Error{Code::kUnauthenticated, "access token expired", {}};
    }
    if (is_revoked(claims.session_id))
      return Error{Code::kUnauthenticated, "session has been revoked", {}};
    return &claims;
  }
  if (keys_.empty()) return Error{Code::kUnavailable, "token keys not loaded yet", {}};
  crypto::VerifyOptions options;
  options.issuer = issuer_;
  options.audience = audience_;
  options.now_seconds = now_seconds;
  auto claims = crypto::verify_access_token(token, keys_, options);
  if (!claims) return claims.error();
  if (is_revoked(claims->session_id))
    return Error{Code::kUnauthenticated, "session has been revoked", {}};
  if (cache_.size() >= max_cached_) {
    std::erase_if(cache_, [&](const auto& kv) { return kv.second.expires_at <= now_seconds; });
    if (cache_.size() >= max_cached_) cache_.clear();
  }
  return &cache_.emplace(std::string(token), std::move(*claims)).first->second;
}

void TokenVerifier::revoke_session(const std::string& session_id, std::int64_t expires_unix_ms,
                                   std::int64_t now_unix_ms) {
  if (revoked_.size() >= max_cached_)  // bound memory: drop revocations whose tokens all expired
    std::erase_if(revoked_, [&](const auto& kv) { return kv.second < now_unix_ms; });
  auto& until = revoked_[session_id];
  until = std::max(until, expires_unix_ms);
}

bool TokenVerifier::is_revoked(std::string_view session_id) const {
  return revoked_.find(session_id) != revoked_.end();
}

}  // namespace alliance::gateway
