#include "alliance/crypto/password.hpp"

#include <bit>
#include <charconv>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <optional>
#include <stdexcept>

#include "alliance/core/ids.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/wipe.hpp"

namespace alliance::crypto {
namespace {

constexpr std::size_t kSaltSize = 16;
constexpr std::size_t kHashSize = 32;
constexpr std::size_t kMaxKdfLength = 1024;
constexpr std::uint32_t kMaxKdfP = 64;
constexpr std::string_view kPrefix = "$scrypt$";

struct Parsed {
  ScryptParams params;
  std::string salt;
  std::string hash;
};

// "name=<decimal>" with no sign, no leading zeros beyond "0", no overflow.
std::optional<std::uint64_t> parse_param(std::string_view text, std::string_view name) {
  if (text.size() <= name.size() + 1 || text.substr(0, name.size()) != name || text[name.size()] != '=')
    return std::nullopt;
  std::string_view digits = text.substr(name.size() + 1);
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

// Splits "$scrypt$ln=..,r=..,p=..$salt$hash"; nullopt on anything else.
std::optional<Parsed> parse_encoded(std::string_view encoded) {
  if (encoded.size() > 512 || encoded.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = encoded.substr(kPrefix.size());
  auto next = [&rest](char sep) -> std::optional<std::string_view> {
    auto pos = rest.find(sep);
    if (pos == std::string_view::npos) return std::nullopt;
    auto part = rest.substr(0, pos);
    rest.remove_prefix(pos + 1);
    return part;
  };
  auto params_text = next('$');
  auto salt_text = next('$');
  if (!params_text || !salt_text) return std::nullopt;
  std::string_view hash_text = rest;
  if (hash_text.find('$') != std::string_view::npos) return std::nullopt;

  rest = *params_text;
  auto ln_text = next(',');
  auto r_text = next(',');
  if (!ln_text || !r_text) return std::nullopt;
  auto ln = parse_param(*ln_text, "ln");
  auto r = parse_param(*r_text, "r");
  auto p = parse_param(rest, "p");
  if (!ln || !r || !p) return std::nullopt;
  if (*ln < 1 || *ln > kScryptMaxLogN || *r > kScryptMaxR || *p > kScryptMaxP) return std::nullopt;

  Parsed out;
  out.params = ScryptParams{std::uint64_t{1} << *ln, static_cast<std::uint32_t>(*r),
                            static_cast<std::uint32_t>(*p)};
  if (!scrypt_params_allowed(out.params)) return std::nullopt;
  auto salt = base64url_decode(*salt_text);
  auto hash = base64url_decode(hash_text);
  if (!salt || !hash) return std::nullopt;
  if (salt->size() < 8 || salt->size() > 64 || hash->size() < 16 || hash->size() > 64)
    return std::nullopt;
  out.salt = std::move(*salt);
  out.hash = std::move(*hash);
  return out;
}

std::string encode(const ScryptParams& params, std::string_view salt, std::string_view hash) {
  std::string out(kPrefix);
  out += "ln=" + std::to_string(std::countr_zero(params.n));
  out += ",r=" + std::to_string(params.r);
  out += ",p=" + std::to_string(params.p);
  out += '$';
  out += base64url_encode(salt);
  out += '$';
  out += base64url_encode(hash);
  return out;
}

}  // namespace

bool scrypt_params_allowed(const ScryptParams& params) {
  if (params.n < 2 || !std::has_single_bit(params.n)) return false;
  if (static_cast<unsigned>(std::countr_zero(params.n)) > kScryptMaxLogN) return false;
  if (params.r < 1 || params.r > kScryptMaxR || params.p < 1 || params.p > kScryptMaxP) return false;
  return std::uint64_t{128} * params.r * params.n <= kScryptMaxMemory;
}

Result<std::string> scrypt_kdf(std::string_view password, std::string_view salt,
                               const ScryptParams& params, std::size_t length) {
  if (params.n < 2 || !std::has_single_bit(params.n) || params.r < 1 || params.p < 1 ||
      params.p > kMaxKdfP || params.n > kScryptMaxMemory / 128 / params.r)
    return invalid_argument("params", "scrypt parameters outside the allowed limits");
  if (length < 1 || length > kMaxKdfLength)
    return invalid_argument("length", "must be between 1 and 1024 bytes");
  // OpenSSL needs 128*r*(n+2) bytes for V plus 128*r*p for B; allow exactly that.
  std::uint64_t maxmem = std::uint64_t{128} * params.r * (params.n + 2 + params.p) + 4096;
  std::string out(length, '\0');
  if (EVP_PBE_scrypt(password.data(), password.size(),
                     reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), params.n,
                     params.r, params.p, maxmem, reinterpret_cast<unsigned char*>(out.data()),
                     out.size()) != 1) {
    wipe(out);
    ERR_clear_error();
    return make_error(Code::kInternal, "scrypt failed");
  }
  return out;
}

std::string hash_password(std::string_view password, const ScryptParams& params) {
  if (!scrypt_params_allowed(params))
    throw std::invalid_argument("hash_password: scrypt parameters outside the allowed limits");
  if (password.find('\0') != std::string_view::npos)
    throw std::invalid_argument("hash_password: password: must not contain NUL bytes");
  std::string salt = random_bytes(kSaltSize);
  auto hash = scrypt_kdf(password, salt, params, kHashSize);
  if (!hash) throw std::runtime_error("hash_password: " + hash.error().message);
  WipeOnExit wipe_hash(*hash);
  return encode(params, salt, *hash);
}

bool verify_password(std::string_view password, std::string_view encoded) {
  if (password.find('\0') != std::string_view::npos) return false;
  auto parsed = parse_encoded(encoded);
  if (!parsed) return false;
  auto hash = scrypt_kdf(password, parsed->salt, parsed->params, parsed->hash.size());
  if (!hash) return false;
  WipeOnExit wipe_hash(*hash);
  return constant_time_equal(*hash, parsed->hash);
}

bool password_needs_rehash(std::string_view encoded, const ScryptParams& params) {
  auto parsed = parse_encoded(encoded);
  if (!parsed) return true;
  return parsed->params.n != params.n || parsed->params.r != params.r ||
         parsed->params.p != params.p || parsed->salt.size() != kSaltSize ||
         parsed->hash.size() != kHashSize;
}

}  // namespace alliance::crypto
