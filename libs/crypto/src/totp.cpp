#include "alliance/crypto/totp.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/random.hpp"
#include "alliance/crypto/wipe.hpp"

namespace alliance::crypto {
namespace {

std::string hmac_sha1(std::string_view key, std::string_view data) {
  unsigned char out[20];
  std::size_t out_size = 0;
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA1", nullptr, key.data(), key.size(),
                 reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, sizeof out, &out_size) ||
      out_size != sizeof out)
    throw std::runtime_error("HMAC-SHA1 failed");
  return std::string(reinterpret_cast<const char*>(out), out_size);
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '.' || c == '_' || c == '~' || c == '@';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

}  // namespace

std::string hotp(std::string_view secret, std::uint64_t counter, int digits) {
  if (digits < 6 || digits > 8) throw std::invalid_argument("hotp: digits must be 6 to 8");
  std::string message(8, '\0');
  for (int i = 7; i >= 0; --i, counter >>= 8) message[i] = static_cast<char>(counter & 0xff);
  std::string mac = hmac_sha1(secret, message);
  WipeOnExit wipe(mac);
  // Dynamic truncation (RFC 4226 section 5.3).
  const int offset = static_cast<unsigned char>(mac[19]) & 0x0f;
  const std::uint32_t binary = (static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset]) & 0x7f) << 24) |
                               (static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset + 1])) << 16) |
                               (static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset + 2])) << 8) |
                               static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset + 3]));
  std::uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<std::size_t>(digits) - code.size(), '0') + code;
}

std::int64_t totp_step(std::int64_t unix_seconds) {
  // Floor division, so a time before 1970 does not share step 0 with the first 30 s.
  return unix_seconds >= 0 ? unix_seconds / kTotpStepSeconds : -((-unix_seconds + kTotpStepSeconds - 1) / kTotpStepSeconds);
}

std::string totp(std::string_view secret, std::int64_t unix_seconds, int digits) {
  return hotp(secret, static_cast<std::uint64_t>(totp_step(unix_seconds)), digits);
}

std::optional<std::int64_t> totp_check(std::string_view secret, std::string_view code, std::int64_t unix_seconds,
                                       std::int64_t last_used_step) {
  if (code.size() != kTotpDigits) return std::nullopt;
  const std::int64_t now = totp_step(unix_seconds);
  std::optional<std::int64_t> matched;
  // Every candidate is computed and compared, matched or not.
  for (std::int64_t step = now - 1; step <= now + 1; ++step) {
    const bool same = constant_time_equal(hotp(secret, static_cast<std::uint64_t>(step)), code);
    if (same && step > last_used_step && !matched) matched = step;
  }
  return matched;
}

std::string totp_secret() { return random_bytes(kTotpSecretSize); }

std::string base32(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 0x1f];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 0x1f];
  return out;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret) {
  std::string encoded_secret = base32(secret);
  WipeOnExit wipe(encoded_secret);
  return "otpauth://totp/" + percent_encode(issuer) + ":" + percent_encode(account) + "?secret=" + encoded_secret +
         "&issuer=" + percent_encode(issuer) + "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace alliance::crypto
