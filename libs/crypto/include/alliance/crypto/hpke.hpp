#pragma once
// HPKE (RFC 9180) base mode with KEM 0x0020 DHKEM(X25519, HKDF-SHA256) and KDF 0x0001
// HKDF-SHA256, built on OpenSSL 3.0 EVP (X25519, HMAC-SHA256, AES-GCM, ChaCha20-Poly1305).
// Setup and single-shot functions are pure and safe from any thread; a context is not:
// each one belongs to one thread (or strand) at a time, since seal/open advance its
// sequence number.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"

namespace alliance::crypto::hpke {

// AEAD ids from RFC 9180 §7.3. Alliance uses kAes256Gcm; the other two exist so every
// published vector suite can be checked.
enum class Aead : std::uint16_t { kAes128Gcm = 1, kAes256Gcm = 2, kChaCha20Poly1305 = 3 };

inline constexpr std::size_t kEncSize = 32;      // Nenc: the X25519 ephemeral public key
inline constexpr std::size_t kTagSize = 16;      // Nt for all three AEADs
inline constexpr std::size_t kMaxExportSize = 255 * 32;  // 255 * Nh

namespace detail {
struct ContextState;  // key, base_nonce, exporter_secret, sequence; wiped on destruction
struct ContextStateFree {
  void operator()(ContextState* state) const noexcept;
};
using ContextStatePtr = std::unique_ptr<ContextState, ContextStateFree>;
}  // namespace detail

// The sending side of one HPKE context (RFC 9180 §5.2). Move-only; a moved-from
// context may only be assigned to or destroyed. Owned by one thread at a time.
class SenderContext {
 public:
  explicit SenderContext(detail::ContextStatePtr state) : state_(std::move(state)) {}
  // ciphertext || tag(16) for the next sequence number. kInvalidArgument naming "aad" or
  // "plaintext" if larger than kMaxAeadInputSize; kFailedPrecondition once 2^64 - 1
  // messages were sealed (the sequence number never wraps, so a nonce never repeats).
  Result<std::string> seal(std::string_view aad, std::string_view pt);
  // RFC 9180 §5.3 secret export: `length` bytes bound to `exporter_context`. Throws
  // std::invalid_argument if length > kMaxExportSize (a programming error).
  std::string export_secret(std::string_view exporter_context, std::size_t length) const;
  // How many messages were sealed so far.
  std::uint64_t sequence() const;
  Aead aead() const;

 private:
  detail::ContextStatePtr state_;
};

// The receiving side of one HPKE context. Move-only, owned by one thread at a time;
// messages must be opened in the order they were sealed.
class RecipientContext {
 public:
  explicit RecipientContext(detail::ContextStatePtr state) : state_(std::move(state)) {}
  // The plaintext of the next message, or kInvalidArgument (field "ciphertext",
  // "decryption failed") if it does not authenticate under this sequence number and aad;
  // a failed open does not advance the sequence number.
  Result<std::string> open(std::string_view aad, std::string_view ct);
  std::string export_secret(std::string_view exporter_context, std::size_t length) const;
  std::uint64_t sequence() const;
  Aead aead() const;

 private:
  detail::ContextStatePtr state_;
};

struct SenderSetup {
  std::string enc;  // 32 bytes: send this to the recipient with the ciphertexts
  SenderContext context;
};

// SetupBaseS with a fresh ephemeral key. kInvalidArgument naming "pk_r" (not 32 bytes or
// a low-order point) or "aead" (not one of the three ids).
Result<SenderSetup> setup_base_sender(std::string_view pk_r, std::string_view info,
                                      Aead aead = Aead::kAes256Gcm);
// Deterministic, for known-answer tests only: the ephemeral private key is given. Reusing
// an ephemeral key for two recipients or two setups breaks HPKE's security.
Result<SenderSetup> setup_base_sender_with_ephemeral(std::string_view pk_r, std::string_view info,
                                                     std::string_view sk_e, Aead aead);
// SetupBaseR. kInvalidArgument naming "enc" (not 32 bytes or a low-order point), "sk_r"
// (not 32 bytes) or "aead".
Result<RecipientContext> setup_base_recipient(std::string_view enc, std::string_view sk_r,
                                              std::string_view info, Aead aead = Aead::kAes256Gcm);

// Single-shot (RFC 9180 §6.1): enc(32) || ciphertext || tag(16), sealed at sequence 0.
Result<std::string> seal(std::string_view pk_r, std::string_view info, std::string_view aad,
                         std::string_view pt, Aead aead = Aead::kAes256Gcm);
// Inverse of seal. kInvalidArgument: field "enc_and_ct" if shorter than enc + tag;
// field "ciphertext", "decryption failed" for a wrong key, info, aad or any tampering
// (a low-order enc is reported the same way); field "sk_r" for a wrong-size key.
Result<std::string> open(std::string_view sk_r, std::string_view info, std::string_view aad,
                         std::string_view enc_and_ct, Aead aead = Aead::kAes256Gcm);

}  // namespace alliance::crypto::hpke
