#include "alliance/crypto/identity_keys.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <memory>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdexcept>

#include "alliance/crypto/ed25519.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/random.hpp"

namespace alliance::crypto {
namespace {

constexpr std::string_view kDeviceCertificateLabel = "alliance-device-certificate-v1";
constexpr std::string_view kArchiveKeyLabel = "alliance-archive-key-v1";
constexpr std::string_view kFingerprintLabel = "alliance-key-fingerprint-v1";
constexpr std::string_view kSafetyNumberQrPrefix = "alliance-safety-v1:";
constexpr std::size_t kMaxIdSize = 0xffff;
constexpr std::size_t kFingerprintBytes = 16;
constexpr int kSafetyNumberIterations = 5200;
constexpr std::size_t kSafetyChunks = 6;  // of 5 bytes -> 5 digits each

Status check_id(std::string field, std::string_view id) {
  if (id.empty()) return invalid_argument(std::move(field), "must not be empty");
  if (id.size() > kMaxIdSize) return invalid_argument(std::move(field), "longer than 65535 bytes");
  return {};
}

Status check_key(std::string field, std::string_view key) {
  if (key.size() != kIdentityKeySize) return invalid_argument(std::move(field), "must be 32 bytes");
  return {};
}

void append_len16(std::string& out, std::string_view bytes) {
  out += static_cast<char>(bytes.size() >> 8 & 0xff);
  out += static_cast<char>(bytes.size() & 0xff);
  out += bytes;
}

// Signs a statement its *_statement function built (and validated: its error comes first).
Result<std::string> sign_statement(std::string_view private_field, std::string_view private_seed,
                                   const Result<std::string>& statement) {
  if (!statement) return statement.error();
  if (private_seed.size() != kIdentityKeySize)
    return invalid_argument(std::string(private_field), "must be 32 bytes");
  auto signer = Ed25519PrivateKey::from_raw_seed(private_seed);
  if (!signer) return invalid_argument(std::string(private_field), "not a usable Ed25519 seed");
  return signer->sign(*statement);
}

bool verify_statement(std::string_view public_key, const Result<std::string>& statement,
                      std::string_view signature) {
  return statement.ok() && ed25519_verify(public_key, *statement, signature);
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

// One user's 30-digit half of a safety number (Signal's NumericFingerprintGenerator,
// version 0, with the user id as the stable identifier).
std::string safety_half(std::string_view user_id, std::string_view identity_public) {
  std::string h;
  h.reserve(2 + identity_public.size() + user_id.size());
  h += '\0';
  h += '\0';
  h += identity_public;
  h += user_id;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::array<unsigned char, 64> digest{};
  unsigned int len = 0;
  for (int i = 0; i < kSafetyNumberIterations; ++i) {
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha512(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), h.data(), h.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), identity_public.data(), identity_public.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), digest.data(), &len) != 1 || len != digest.size()) {
      ERR_clear_error();
      throw std::runtime_error("safety number: SHA-512 failed");
    }
    h.assign(reinterpret_cast<const char*>(digest.data()), digest.size());
  }
  std::string digits;
  for (std::size_t chunk = 0; chunk < kSafetyChunks; ++chunk) {
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < 5; ++k) v = v << 8 | digest[chunk * 5 + k];
    std::string five = std::to_string(v % 100000);
    digits += std::string(5 - five.size(), '0') + five;
  }
  return digits;
}

// Inserts a space after every `group` characters but the last.
std::string grouped(std::string_view text, std::size_t group) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += group) {
    if (i != 0) out += ' ';
    out += text.substr(i, group);
  }
  return out;
}

}  // namespace

IdentityKeyPair generate_identity_key() {
  IdentityKeyPair pair;
  pair.private_seed = random_bytes(kIdentityKeySize);  // any 32 bytes are an Ed25519 seed
  auto key = Ed25519PrivateKey::from_raw_seed(pair.private_seed);
  if (!key) throw std::runtime_error("identity key: cannot build signing key");
  pair.public_key = key->public_key_raw();
  return pair;
}

IdentityKeyPair generate_practice_key() { return generate_identity_key(); }

Result<std::string> device_certificate_statement(const DeviceCertificate& certificate) {
  if (auto s = check_id("certificate.user_id", certificate.user_id); !s) return s.error();
  if (auto s = check_id("certificate.device_id", certificate.device_id); !s) return s.error();
  if (auto s = check_key("certificate.signing_public", certificate.signing_public); !s) return s.error();
  if (auto s = check_key("certificate.agreement_public", certificate.agreement_public); !s) return s.error();
  std::string statement(kDeviceCertificateLabel);
  append_len16(statement, certificate.user_id);
  append_len16(statement, certificate.device_id);
  statement += certificate.signing_public;
  statement += certificate.agreement_public;
  append_be64(statement, static_cast<std::uint64_t>(certificate.issued_unix_ms));
  return statement;
}

Result<std::string> sign_device_certificate(std::string_view identity_private,
                                            const DeviceCertificate& certificate) {
  return sign_statement("identity_private", identity_private, device_certificate_statement(certificate));
}

bool verify_device_certificate(std::string_view identity_public, const DeviceCertificate& certificate,
                               std::string_view signature) {
  return verify_statement(identity_public, device_certificate_statement(certificate), signature);
}

Result<std::string> archive_key_statement(const ArchiveKeyStatement& statement) {
  if (auto s = check_id("statement.practice_id", statement.practice_id); !s) return s.error();
  if (auto s = check_key("statement.agreement_public", statement.agreement_public); !s) return s.error();
  std::string out(kArchiveKeyLabel);
  append_len16(out, statement.practice_id);
  out += statement.agreement_public;
  append_be64(out, static_cast<std::uint64_t>(statement.issued_unix_ms));
  return out;
}

Result<std::string> sign_archive_key(std::string_view practice_private, const ArchiveKeyStatement& statement) {
  return sign_statement("practice_private", practice_private, archive_key_statement(statement));
}

bool verify_archive_key(std::string_view practice_public, const ArchiveKeyStatement& statement,
                        std::string_view signature) {
  return verify_statement(practice_public, archive_key_statement(statement), signature);
}

std::string key_fingerprint(std::string_view public_key) {
  std::string input(kFingerprintLabel);
  input += public_key;
  std::string digest = sha256(input);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (std::size_t i = 0; i < kFingerprintBytes; ++i) {
    auto byte = static_cast<unsigned char>(digest[i]);
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0xf];
  }
  return grouped(hex, 4);
}

Result<std::string> safety_number(std::string_view user_a, std::string_view identity_a,
                                  std::string_view user_b, std::string_view identity_b) {
  if (auto s = check_id("user_a", user_a); !s) return s.error();
  if (auto s = check_key("identity_a", identity_a); !s) return s.error();
  if (auto s = check_id("user_b", user_b); !s) return s.error();
  if (auto s = check_key("identity_b", identity_b); !s) return s.error();
  std::string a = safety_half(user_a, identity_a);
  std::string b = safety_half(user_b, identity_b);
  // Sorted halves: both sides compute the same number whichever of them is "a".
  if (b < a) std::swap(a, b);
  return grouped(a + b, 5);
}

std::string safety_number_qr_text(std::string_view safety_number) {
  std::string text(kSafetyNumberQrPrefix);
  std::copy_if(safety_number.begin(), safety_number.end(), std::back_inserter(text),
               [](char c) { return c != ' '; });
  return text;
}

}  // namespace alliance::crypto
