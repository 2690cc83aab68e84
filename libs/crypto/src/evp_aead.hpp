#pragma once
// Private to libs/crypto: one AEAD seal/open over an OpenSSL EVP_CIPHER (AES-GCM or
// ChaCha20-Poly1305, 12-byte nonce, 16-byte tag appended), and wiping of secrets held in
// temporaries.
#include <openssl/crypto.h>
#include <openssl/types.h>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"

namespace alliance::crypto::detail {

// Callers check key and nonce sizes for `cipher`; these check aad/plaintext size only.
Result<std::string> evp_aead_seal(const EVP_CIPHER* cipher, std::string_view key,
                                  std::string_view nonce, std::string_view aad,
                                  std::string_view plaintext);
// kInvalidArgument ("ciphertext", "decryption failed") on any authentication failure.
Result<std::string> evp_aead_open(const EVP_CIPHER* cipher, std::string_view key,
                                  std::string_view nonce, std::string_view aad,
                                  std::string_view ciphertext);

inline void wipe(std::string& secret) noexcept {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
}

// Wipes a string holding secret bytes when it goes out of scope. Reserve the final size
// up front when appending to it, so no reallocation leaves an unwiped copy behind.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string& secret) : secret_(secret) {}
  ~WipeOnExit() { wipe(secret_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string& secret_;
};

}  // namespace alliance::crypto::detail
