#pragma once
// Private to libs/crypto: one AEAD seal/open over an OpenSSL EVP_CIPHER (AES-GCM or
// ChaCha20-Poly1305, 12-byte nonce, 16-byte tag appended).
#include <openssl/types.h>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"
#include "alliance/crypto/wipe.hpp"

namespace alliance::crypto::detail {

// Callers check key and nonce sizes for `cipher`; these check aad/plaintext size only.
Result<std::string> evp_aead_seal(const EVP_CIPHER* cipher, std::string_view key,
                                  std::string_view nonce, std::string_view aad,
                                  std::string_view plaintext);
// kInvalidArgument ("ciphertext", "decryption failed") on any authentication failure.
Result<std::string> evp_aead_open(const EVP_CIPHER* cipher, std::string_view key,
                                  std::string_view nonce, std::string_view aad,
                                  std::string_view ciphertext);

// The library's one wiping helper (alliance/crypto/wipe.hpp), also under its older
// detail:: names.
using crypto::wipe;
using crypto::WipeOnExit;

}  // namespace alliance::crypto::detail
