#pragma once
// Password hashing with scrypt (RFC 7914, OpenSSL's EVP_PBE_scrypt). Pure functions,
// safe from any thread, but CPU- and memory-heavy (~32 MiB, tens of ms with the default
// parameters): call them from a worker thread, never from an I/O thread.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"

namespace alliance::crypto {

// n = CPU/memory cost (a power of two), r = block size, p = parallelism.
struct ScryptParams {
  std::uint64_t n = 1u << 15;
  std::uint32_t r = 8;
  std::uint32_t p = 1;
};

// Limits on the parameters of a stored password hash, whether asked for by code or read
// from the database: ln = log2(n) in [1, 20], r in [1, 16], p in [1, 4], and the working
// memory 128*r*n at most kScryptMaxMemory (128 MiB, 4x the default), so a stored value
// cannot make us allocate gigabytes.
inline constexpr unsigned kScryptMaxLogN = 20;
inline constexpr std::uint32_t kScryptMaxR = 16;
inline constexpr std::uint32_t kScryptMaxP = 4;
inline constexpr std::uint64_t kScryptMaxMemory = std::uint64_t{128} << 20;
// True if `params` is within the limits above (n a power of two, 2 <= n).
bool scrypt_params_allowed(const ScryptParams& params);

// The raw KDF (RFC 7914 scrypt): `length` bytes (1..1024) from password and salt. Needs
// n a power of two >= 2, r >= 1, 1 <= p <= 64, and 128*r*n <= kScryptMaxMemory (p is not
// limited to 4 here so the RFC's test vectors can run). kInvalidArgument (field "params"
// or "length") otherwise; kInternal if OpenSSL fails (e.g. out of memory).
Result<std::string> scrypt_kdf(std::string_view password, std::string_view salt,
                               const ScryptParams& params, std::size_t length);

// "$scrypt$ln=15,r=8,p=1$<salt b64url>$<hash b64url>" with a fresh 16-byte random salt
// and a 32-byte hash. Throws std::invalid_argument if `params` is outside the limits
// (a configuration bug), std::runtime_error if OpenSSL fails.
std::string hash_password(std::string_view password, const ScryptParams& params = {});

// True only if `encoded` is a well-formed hash from hash_password (salt 8..64 bytes,
// hash 16..64 bytes, parameters within the limits) and `password` matches it; the
// comparison is constant-time. Never throws: malformed or absurd input is false.
// Like every PBKDF2-HMAC based scheme, passwords that differ only by trailing NUL bytes
// hash alike; callers should refuse NUL in passwords at the API edge.
bool verify_password(std::string_view password, std::string_view encoded);

// True if `encoded` was made with parameters other than `params` (or is unreadable),
// so the caller should store hash_password(password, params) after a successful login.
bool password_needs_rehash(std::string_view encoded, const ScryptParams& params = {});

}  // namespace alliance::crypto
