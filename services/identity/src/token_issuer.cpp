#include "token_issuer.hpp"

#include "alliance/core/ids.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/jwt.hpp"
#include "alliance/crypto/wipe.hpp"

namespace alliance::identity {

TokenIssuer::TokenIssuer(crypto::Ed25519PrivateKey key, Options options)
    : key_(std::move(key)), options_(std::move(options)) {
  public_key_ = key_.public_key_raw();
  kid_ = key_id(public_key_);
}

std::string TokenIssuer::key_id(std::string_view public_key_raw) {
  return to_hex(crypto::sha256(public_key_raw).substr(0, 8));
}

std::string TokenIssuer::issue_access_token(const User& user, std::string_view session_id,
                                            std::int64_t now_unix_ms) const {
  crypto::AccessClaims claims;
  claims.issuer = options_.issuer;
  claims.audience = options_.audience;
  claims.subject = user.id;
  claims.session_id = std::string(session_id);
  claims.practice_id = user.practice_id;
  claims.role = std::string(role_name(user.role));
  claims.token_id = new_id();
  claims.issued_at = now_unix_ms / 1000;
  claims.expires_at = (now_unix_ms + options_.access_ttl.count()) / 1000;
  return crypto::sign_access_token(claims, key_, kid_);
}

std::string new_refresh_token() { return crypto::base64url_encode(random_bytes(32)); }

std::string refresh_token_digest(std::string_view token) { return crypto::sha256(token); }

std::string TokenIssuer::derive_key(std::string_view label) const {
  std::string signature = key_.sign(label);
  std::string key = crypto::sha256(std::string(label) + signature);
  crypto::wipe(signature);
  return key;
}

}  // namespace alliance::identity
