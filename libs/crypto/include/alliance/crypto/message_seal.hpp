#pragma once
// The Alliance end-to-end message format: a message is encrypted once under a fresh
// content key (AES-256-GCM), signed inside the ciphertext by the sender's device
// (Ed25519), and the content key is wrapped for each recipient device with HPKE
// (RFC 9180 base mode, X25519 / HKDF-SHA256 / AES-256-GCM). Pure functions; safe from
// any thread. The server sees only ciphertext, wrapped keys and the context ids.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/core/result.hpp"

namespace alliance::crypto {

inline constexpr std::size_t kContentKeySize = 32;
inline constexpr std::size_t kWrappedKeySize = 80;  // enc(32) || ct(32) || tag(16)
inline constexpr std::size_t kMessageNonceSize = 12;
inline constexpr std::size_t kMessageSignatureSize = 64;
// Smallest ciphertext open_message accepts: nonce || tag over a bare signature.
inline constexpr std::size_t kMinMessageCiphertextSize = 12 + 64 + 16;
// Longest id (conversation, message, device) the format can carry: a 2-byte length.
inline constexpr std::size_t kMaxMessageIdSize = 0xffff;

// A device's long-term keys. Private parts never leave the device.
struct DeviceKeys {
  std::string signing_private;      // Ed25519 seed, 32
  std::string signing_public;       // 32
  std::string agreement_private;    // X25519, 32
  std::string agreement_public;     // 32
  std::string agreement_signature;  // Ed25519(signing, device_key_statement(agreement_public)), 64
};
// Fresh keys from the OS CSPRNG, agreement key signed. Throws std::runtime_error only if
// OpenSSL fails.
DeviceKeys generate_device_keys();
// "alliance-device-agreement-key-v1" || agreement_public
std::string device_key_statement(std::string_view agreement_public);
// True only if `signature` is the device's signing key's signature over
// device_key_statement(agreement_public). Wrong sizes are false, never an exception.
bool verify_device_keys(std::string_view signing_public, std::string_view agreement_public,
                        std::string_view signature);

struct MessageContext {
  std::string conversation_id, message_id, sender_device_id;
};
struct Recipient {
  std::string device_id;  // "archive" for the practice archive key
  std::string agreement_public;
};
struct WrappedKey {
  std::string device_id;
  std::string wrapped_key;  // enc(32) || ct(48)
};
struct SealedMessage {
  std::string ciphertext;   // nonce(12) || AES-256-GCM(content_key, nonce, aad, signature(64) || plaintext)
  std::string content_key;  // 32; stays on the sending device (to re-wrap after a stale device list)
  std::vector<WrappedKey> keys;  // one per recipient, in the order given
};

// aad = "alliance-message-v1" then each of conversation_id, message_id, sender_device_id
//       as a 2-byte big-endian length followed by the bytes.
// kInvalidArgument naming the id if it is empty or longer than kMaxMessageIdSize.
Result<std::string> message_aad(const MessageContext& ctx);

// signature = Ed25519(signing_private, aad || plaintext)   (inside the ciphertext)
// wrap for device d = hpke::seal(pk_d, info = "alliance-message-key-v1",
//                                aad = aad || len16(d) || d, content_key)
// kInvalidArgument naming the field: an id of `ctx` (empty or too long), "plaintext"
// (too large), "signing_private" (not 32 bytes), "recipients" (empty), or
// "recipients[i].device_id" / "recipients[i].agreement_public" (empty, too long,
// duplicate, not 32 bytes, low-order key).
Result<SealedMessage> seal_message(const MessageContext& ctx, std::string_view plaintext,
                                   std::string_view signing_private,
                                   const std::vector<Recipient>& recipients);
// Wraps an existing content key for (new) recipients: after a stale-device-list refusal.
// Errors as seal_message, plus "content_key" (not 32 bytes). An empty list gives an
// empty result.
Result<std::vector<WrappedKey>> wrap_content_key(const MessageContext& ctx,
                                                 std::string_view content_key,
                                                 const std::vector<Recipient>& recipients);
// Unwraps with this device's key and checks the sender's signature. Any cryptographic
// failure (tampered ciphertext or wrapped key, wrong context/aad, wrong recipient, wrong
// signer) is kInvalidArgument, field "ciphertext", message "message cannot be opened",
// and nothing else. Malformed input is kInvalidArgument naming the field: an id of
// `ctx`, "recipient_device_id", "ciphertext" (shorter than kMinMessageCiphertextSize),
// "wrapped_key" (not kWrappedKeySize), "agreement_private" or "sender_signing_public"
// (not 32 bytes).
Result<std::string> open_message(const MessageContext& ctx, std::string_view ciphertext,
                                 std::string_view wrapped_key, std::string_view recipient_device_id,
                                 std::string_view agreement_private,
                                 std::string_view sender_signing_public);

}  // namespace alliance::crypto
