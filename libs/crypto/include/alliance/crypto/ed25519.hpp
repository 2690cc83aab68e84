#pragma once
// Ed25519 signatures (RFC 8032) over OpenSSL's EVP_PKEY_ED25519.
#include <filesystem>
#include <memory>
#include <openssl/types.h>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"

namespace alliance::crypto {

// An Ed25519 signing key; owns (and frees) its EVP_PKEY. Move-only. Once built it is
// read-only, so const members may be called from any number of threads at once.
// A moved-from key may only be assigned to or destroyed.
class Ed25519PrivateKey {
 public:
  // Loads an unencrypted PKCS#8 PEM file ("openssl genpkey -algorithm ed25519").
  // Errors name the path and the problem (kNotFound: missing; kPermissionDenied:
  // unreadable; kInvalidArgument: not an unencrypted Ed25519 private key PEM) and
  // never include the file's contents. Encrypted PEMs are refused, never prompted for.
  static Result<Ed25519PrivateKey> from_pem_file(const std::filesystem::path& path);
  // From the 32-byte RFC 8032 seed (private key). kInvalidArgument if not 32 bytes.
  static Result<Ed25519PrivateKey> from_raw_seed(std::string_view seed);
  // A fresh key from the OS CSPRNG; throws std::runtime_error only if OpenSSL fails.
  static Ed25519PrivateKey generate();

  Ed25519PrivateKey(Ed25519PrivateKey&&) noexcept = default;
  Ed25519PrivateKey& operator=(Ed25519PrivateKey&&) noexcept = default;
  Ed25519PrivateKey(const Ed25519PrivateKey&) = delete;
  Ed25519PrivateKey& operator=(const Ed25519PrivateKey&) = delete;
  ~Ed25519PrivateKey() = default;

  std::string public_key_raw() const;                // 32 bytes
  // The key as unencrypted PKCS#8 PEM, the form from_pem_file reads. Secret: write
  // it only to a file only its owner can read.
  std::string to_pem() const;
  std::string sign(std::string_view message) const;  // 64 bytes

 private:
  struct Free {
    void operator()(EVP_PKEY* key) const noexcept;
  };
  explicit Ed25519PrivateKey(EVP_PKEY* key) : key_(key) {}
  std::unique_ptr<EVP_PKEY, Free> key_;
};

// True only if `signature` (64 bytes) is a valid signature of `message` by the 32-byte
// raw `public_key_raw`. Wrong sizes or invalid keys are false, never an exception.
bool ed25519_verify(std::string_view public_key_raw, std::string_view message,
                    std::string_view signature);

}  // namespace alliance::crypto
