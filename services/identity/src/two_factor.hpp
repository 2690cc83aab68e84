#pragma once
// The pieces of two-factor sign-in that need no I/O: sealing each user's TOTP secret
// at rest, recovery codes, and what a typed code is. Pure; any thread.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/core/result.hpp"

namespace alliance::identity {

inline constexpr int kRecoveryCodeCount = 10;
inline constexpr std::int64_t kChallengeTtlMs = 5 * 60 * 1000;

// Seals TOTP secrets with AES-256-GCM under a 32-byte key (TokenIssuer::derive_key),
// binding each to its user id, so a copy of the database alone does not give them.
class TwoFactorSeal {
 public:
  explicit TwoFactorSeal(std::string key);
  TwoFactorSeal(const TwoFactorSeal&) = delete;
  TwoFactorSeal& operator=(const TwoFactorSeal&) = delete;
  ~TwoFactorSeal();

  // nonce(12) || ciphertext || tag(16).
  Result<std::string> seal(std::string_view user_id, std::string_view secret) const;
  // The secret; kInternal (naming no secret) if it does not open: another key, or
  // another user's row.
  Result<std::string> open(std::string_view user_id, std::string_view sealed) const;

 private:
  std::string key_;
};

// What the user typed at a second step.
struct TypedCode {
  enum class Kind { kTotp, kRecovery, kNeither } kind = Kind::kNeither;
  std::string value;  // the 6 digits, or the recovery code normalized
};
// Six digits (spaces ignored) are a TOTP code; 16 base32 letters (dashes, spaces and
// case ignored) a recovery code; anything else neither (a wrong code, not an error).
TypedCode parse_typed_code(std::string_view code);

// kRecoveryCodeCount fresh codes of 80 random bits each, shown as "ABCD-EFGH-IJKL-MNOP".
std::vector<std::string> new_recovery_codes();
// What is stored for a recovery code (normalized first): its sha256.
std::string recovery_code_digest(std::string_view normalized);

}  // namespace alliance::identity
