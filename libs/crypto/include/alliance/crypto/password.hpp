#pragma once
// Password hashing with scrypt (RFC 7914, OpenSSL's EVP_PBE_scrypt). Pure functions,
// safe from any thread, but CPU- and memory-heavy (128 MiB and a few hundred ms per hash
// with the default parameters): call them from a worker thread, never from an I/O thread,
// and size that pool for 128 MiB per thread.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"

namespace alliance::crypto {

// n = CPU/memory cost (a power of two), r = block size, p = parallelism. The default,
// N = 2^17, r = 8, p = 1, works on 128*r*n = 128 MiB.
struct ScryptParams {
  std::uint64_t n = 1u << 17;
  std::uint32_t r = 8;
  std::uint32_t p = 1;
};

// Limits on the parameters of a stored password hash, whether asked for by code or read
// from the database: ln = log2(n) in [1, 20], r in [1, 16], p in [1, 4], and the working
// memory 128*r*n at most kScryptMaxMemory (256 MiB: the default, and one step of cost
// above it), so a stored value cannot make us allocate gigabytes.
inline constexpr unsigned kScryptMaxLogN = 20;
inline constexpr std::uint32_t kScryptMaxR = 16;
inline constexpr std::uint32_t kScryptMaxP = 4;
inline constexpr std::uint64_t kScryptMaxMemory = std::uint64_t{256} << 20;
// True if `params` is within the limits above (n a power of two, 2 <= n).
bool scrypt_params_allowed(const ScryptParams& params);

// The raw KDF (RFC 7914 scrypt): `length` bytes (1..1024) from password and salt. Needs
// n a power of two >= 2, r >= 1, 1 <= p <= 64, and 128*r*n <= kScryptMaxMemory (p is not
// limited to 4 here so the RFC's test vectors can run). OpenSSL is allowed exactly the
// memory these parameters need (128*r*(n + 2 + p) bytes). kInvalidArgument (field
// "params" or "length") otherwise; kInternal if OpenSSL fails (e.g. out of memory).
// The password may hold any bytes here; hash_password and verify_password refuse NUL.
Result<std::string> scrypt_kdf(std::string_view password, std::string_view salt,
                               const ScryptParams& params, std::size_t length);

// "$scrypt$ln=17,r=8,p=1$<salt b64url>$<hash b64url>" with a fresh 16-byte random salt
// and a 32-byte hash. Throws std::invalid_argument if `params` is outside the limits
// (a configuration bug) or the password contains a NUL byte (refuse it at the API edge
// first), std::runtime_error if OpenSSL fails.
std::string hash_password(std::string_view password, const ScryptParams& params = {});

// True only if `encoded` is a well-formed hash from hash_password (salt 8..64 bytes,
// hash 16..64 bytes, parameters within the limits) and `password` matches it; the
// comparison is constant-time. Never throws: malformed or absurd input is false, and so
// is a password containing a NUL byte (scrypt's PBKDF2-HMAC would hash "pw" and "pw\0"
// alike, and C clients cut a password at its first NUL).
bool verify_password(std::string_view password, std::string_view encoded);

// True if `encoded` was made with parameters other than `params` (or is unreadable),
// so the caller should store hash_password(password, params) after a successful login.
bool password_needs_rehash(std::string_view encoded, const ScryptParams& params = {});

}  // namespace alliance::crypto
