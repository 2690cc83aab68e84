#pragma once
// AES-256-GCM (OpenSSL EVP) with a 12-byte nonce and a 16-byte tag appended to the
// ciphertext. Pure functions; safe from any thread. A (key, nonce) pair must never be
// used for two different messages: pick a random nonce per message (random_bytes(12))
// or a fresh key per message.
#include <cstddef>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"
#include "alliance/crypto/random.hpp"

namespace alliance::crypto {

inline constexpr std::size_t kAes256GcmKeySize = 32;
inline constexpr std::size_t kAesGcmNonceSize = 12;
inline constexpr std::size_t kAeadTagSize = 16;
// Largest plaintext (or ciphertext) the AEAD functions accept: OpenSSL takes int lengths.
inline constexpr std::size_t kMaxAeadInputSize = std::size_t{1} << 30;

// ciphertext || tag(16). kInvalidArgument naming "key" (not 32 bytes), "nonce" (not 12
// bytes), "aad" or "plaintext" (larger than kMaxAeadInputSize).
Result<std::string> aes256gcm_seal(std::string_view key, std::string_view nonce,
                                   std::string_view aad, std::string_view plaintext);
// The plaintext, or kInvalidArgument: field "ciphertext", message "decryption failed" for
// any tampering, wrong key, wrong nonce or wrong aad (and for input shorter than the
// tag); the size errors of aes256gcm_seal otherwise.
Result<std::string> aes256gcm_open(std::string_view key, std::string_view nonce,
                                   std::string_view aad, std::string_view ciphertext);

}  // namespace alliance::crypto
