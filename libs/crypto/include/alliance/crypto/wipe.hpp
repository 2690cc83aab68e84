#pragma once
// Wiping secrets (private keys, derived and content keys, shared secrets, plaintext
// copies) from memory once they are no longer needed, with OPENSSL_cleanse, which the
// compiler may not optimise away as it may a plain memset before a free.
#include <openssl/crypto.h>
#include <string>

namespace alliance::crypto {

// Overwrites every byte of `secret` (its size is kept). Only the current buffer is
// wiped: a copy a std::string left behind when it grew is out of reach, so reserve the
// final size before appending secret bytes.
inline void wipe(std::string& secret) noexcept {
  if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
}

// Wipes `secret` when it goes out of scope, on every path out of a function. The
// string must outlive the guard; a string that is returned must not be guarded.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string& secret) noexcept : secret_(secret) {}
  ~WipeOnExit() { wipe(secret_); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string& secret_;
};

}  // namespace alliance::crypto
