#include "alliance/crypto/jwt.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <limits>
#include <optional>

#include "alliance/crypto/encoding.hpp"

namespace alliance::crypto {
namespace json = boost::json;
namespace {

constexpr std::string_view kAlg = "EdDSA";
constexpr std::string_view kTyp = "JWT";

Error unauthenticated(std::string message) {
  return make_error(Code::kUnauthenticated, std::move(message));
}

// Decodes one base64url segment holding a JSON object; nullopt on anything else.
std::optional<json::object> decode_object(std::string_view segment) {
  auto bytes = base64url_decode(segment);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  json::value value = json::parse(*bytes, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::optional<std::int64_t> integer_of(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return static_cast<std::int64_t>(v.get_uint64());
  return std::nullopt;
}

}  // namespace

std::string sign_access_token(const AccessClaims& claims, const Ed25519PrivateKey& key,
                              std::string_view kid) {
  json::object header;
  header["alg"] = kAlg;
  header["typ"] = kTyp;
  header["kid"] = kid;
  json::object payload;
  payload["iss"] = claims.issuer;
  payload["aud"] = claims.audience;
  payload["sub"] = claims.subject;
  payload["sid"] = claims.session_id;
  payload["pid"] = claims.practice_id;
  payload["role"] = claims.role;
  payload["jti"] = claims.token_id;
  payload["iat"] = claims.issued_at;
  payload["exp"] = claims.expires_at;
  std::string token = base64url_encode(json::serialize(header));
  token += '.';
  token += base64url_encode(json::serialize(payload));
  std::string signature = key.sign(token);
  token += '.';
  token += base64url_encode(signature);
  return token;
}

Result<AccessClaims> verify_access_token(std::string_view token, const KeySet& keys,
                                         const VerifyOptions& options) {
  if (token.size() > kMaxAccessTokenSize) return unauthenticated("token too large");
  if (std::count(token.begin(), token.end(), '.') != 2) return unauthenticated("malformed token");
  auto first_dot = token.find('.');
  auto second_dot = token.find('.', first_dot + 1);
  std::string_view header_text = token.substr(0, first_dot);
  std::string_view payload_text = token.substr(first_dot + 1, second_dot - first_dot - 1);
  std::string_view signature_text = token.substr(second_dot + 1);
  std::string_view signing_input = token.substr(0, second_dot);

  // 1. Header: exactly our algorithm, a known key, nothing we would have to understand.
  auto header = decode_object(header_text);
  if (!header) return unauthenticated("malformed token");
  const json::value* alg = header->if_contains("alg");
  if (!alg || !alg->is_string() || alg->get_string() != kAlg) return unauthenticated("unsupported alg");
  for (const auto& member : *header) {
    if (member.key() != "alg" && member.key() != "typ" && member.key() != "kid")
      return unauthenticated("unsupported header");
  }
  if (const json::value* typ = header->if_contains("typ"); typ && (!typ->is_string() || typ->get_string() != kTyp))
    return unauthenticated("unsupported header");
  const json::value* kid = header->if_contains("kid");
  if (!kid || !kid->is_string()) return unauthenticated("unknown key id");
  auto key = keys.find(std::string_view(kid->get_string()));
  if (key == keys.end()) return unauthenticated("unknown key id");

  // 2. Signature, before a single claim is believed.
  auto signature = base64url_decode(signature_text);
  if (!signature) return unauthenticated("malformed token");
  if (!ed25519_verify(key->second, signing_input, *signature)) return unauthenticated("bad signature");

  // 3. Claims.
  auto payload = decode_object(payload_text);
  if (!payload) return unauthenticated("malformed token");
  AccessClaims claims;
  struct StringClaim {
    const char* name;
    std::string AccessClaims::*field;
  };
  static constexpr StringClaim kStringClaims[] = {
      {"iss", &AccessClaims::issuer},       {"aud", &AccessClaims::audience},
      {"sub", &AccessClaims::subject},      {"sid", &AccessClaims::session_id},
      {"pid", &AccessClaims::practice_id},  {"role", &AccessClaims::role},
      {"jti", &AccessClaims::token_id},
  };
  for (const auto& c : kStringClaims) {
    const json::value* v = payload->if_contains(c.name);
    if (!v || !v->is_string()) return unauthenticated(std::string("missing claim: ") + c.name);
    claims.*c.field = std::string(v->get_string());
  }
  struct TimeClaim {
    const char* name;
    std::int64_t AccessClaims::*field;
  };
  static constexpr TimeClaim kTimeClaims[] = {{"iat", &AccessClaims::issued_at},
                                              {"exp", &AccessClaims::expires_at}};
  for (const auto& c : kTimeClaims) {
    const json::value* v = payload->if_contains(c.name);
    std::optional<std::int64_t> seconds = v ? integer_of(*v) : std::nullopt;
    if (!seconds) return unauthenticated(std::string("missing claim: ") + c.name);
    claims.*c.field = *seconds;
  }

  if (options.issuer.empty() || claims.issuer != options.issuer) return unauthenticated("wrong issuer");
  if (options.audience.empty() || claims.audience != options.audience)
    return unauthenticated("wrong audience");
  // Saturating so that absurd clocks or leeways cannot overflow into acceptance.
  std::int64_t leeway = std::clamp<std::int64_t>(options.leeway_seconds, 0, 24 * 3600);
  std::int64_t now = std::clamp<std::int64_t>(options.now_seconds, std::numeric_limits<std::int64_t>::min() / 2,
                                              std::numeric_limits<std::int64_t>::max() / 2);
  if (claims.expires_at <= now - leeway) return unauthenticated("token expired");
  if (claims.issued_at > now + leeway) return unauthenticated("token not yet valid");
  if (const json::value* nbf = payload->if_contains("nbf")) {
    auto not_before = integer_of(*nbf);
    if (!not_before) return unauthenticated("malformed token");
    if (*not_before > now + leeway) return unauthenticated("token not yet valid");
  }
  if (claims.expires_at < claims.issued_at) return unauthenticated("malformed token");
  return claims;
}

}  // namespace alliance::crypto
