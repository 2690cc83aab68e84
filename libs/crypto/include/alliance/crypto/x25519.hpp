#pragma once
// X25519 key agreement (RFC 7748) over OpenSSL's EVP_PKEY_X25519 with raw 32-byte keys.
// Pure functions; safe from any thread.
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"
#include "alliance/crypto/random.hpp"

namespace alliance::crypto {

inline constexpr std::size_t kX25519KeySize = 32;

struct X25519KeyPair {
  std::string private_key;  // 32 raw bytes (RFC 7748 scalar, before clamping)
  std::string public_key;   // 32 raw bytes (u-coordinate)
};

// A fresh key pair from the OS CSPRNG; throws std::runtime_error only if OpenSSL fails.
X25519KeyPair x25519_generate();
// The pair whose private key is `private_key`. kInvalidArgument (field "private_key")
// unless it is 32 bytes.
Result<X25519KeyPair> x25519_from_private(std::string_view private_key);
// The 32-byte shared secret X25519(private_key, peer_public). kInvalidArgument naming
// "private_key" or "peer_public" for a wrong size, and "peer_public" when the result is
// all zero (a low-order peer key: RFC 7748 §6.1 says to refuse it).
Result<std::string> x25519_shared(std::string_view private_key, std::string_view peer_public);

}  // namespace alliance::crypto
