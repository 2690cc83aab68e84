#pragma once
// The Alliance end-to-end message format: a message is encrypted once under a fresh
// content key (AES-256-GCM), signed inside the ciphertext by the sender's device
// (Ed25519), and the content key is wrapped for each recipient device with HPKE
// (RFC 9180 base mode, X25519 / HKDF-SHA256 / AES-256-GCM). Pure functions; safe from
// any thread. The server sees only ciphertext, wrapped keys and the context ids. New
// messages use v2 (below: signed counter, chain, time and recipients; padded lengths);
// v1 stays for opening history.
#include <cstddef>
#include <cstdint>
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
  std::string content_key;  // v1: 32; stays on the sending device (to re-wrap after a stale device
                            // list). v2: empty (its recipients are signed: seal again instead)
  std::vector<WrappedKey> keys;  // one per recipient, in the order given
  std::string message_hash;      // v2: 32, what the sender's next message's prev_hash holds; v1: empty
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

// ---- Format v2 -------------------------------------------------------------------------
// v1 binds the message to its conversation, id and sending device; the server can still
// replay it later, drop or reorder messages, and add recipients. v2 signs, inside the
// ciphertext, what the server could otherwise rewrite (the sender's per-device counter,
// the hash of the previous message the sender saw, the sent time, the recipient device
// set) and pads the content so the server sees only bucketed lengths. The content layer
// (aad, inner, signature, message hash) does not depend on how the content key reaches a
// device, so per-conversation sender keys or a ratchet can replace the per-device HPKE
// wrap under a new wrap info without changing it.

inline constexpr std::uint16_t kMessageFormatV2 = 2;
inline constexpr std::size_t kMessageHashSize = 32;
inline constexpr std::size_t kMinPaddedInnerSize = 256;
inline constexpr std::size_t kInnerPaddingStep = 65536;
// Smallest ciphertext open_message_v2 accepts: nonce || tag over signature || smallest inner.
inline constexpr std::size_t kMinMessageCiphertextSizeV2 = 12 + 64 + kMinPaddedInnerSize + 16;

struct MessageHeaderV2 {
  std::string sender_user_id;
  std::uint64_t counter = 0;   // per sending device, from 1, one more per message
  std::string prev_hash;       // 32: message_hash of the previous message the sender saw here; empty = none
  std::int64_t sent_unix_ms = 0;
  std::vector<std::string> recipient_device_ids;  // set by seal from `recipients`: sorted, unique
  bool operator==(const MessageHeaderV2&) const = default;
};

struct OpenedMessageV2 {
  MessageHeaderV2 header;
  std::string plaintext;
  std::string message_hash;  // 32
};

// aad_v2 = "alliance-message-v2" || len16(conversation_id) || len16(message_id)
//          || len16(sender_device_id); errors as message_aad.
Result<std::string> message_aad_v2(const MessageContext& ctx);

// The length an inner of `unpadded` bytes is padded to: the smallest power of two at
// least `unpadded`, at least kMinPaddedInnerSize, up to kInnerPaddingStep; above that the
// next multiple of kInnerPaddingStep. (255 -> 256, 257 -> 512, 65537 -> 131072.)
std::size_t padded_inner_size_v2(std::size_t unpadded);

// inner = be16(2) || len16(sender_user_id) || be64(counter) || prev_hash(32, zeros = none)
//         || be64(sent_unix_ms) || be16(n) || n x len16(device_id) (sorted ascending by bytes)
//         || be32(plaintext length) || plaintext || zeros to padded_inner_size_v2()
// signature = Ed25519(signing_private, aad_v2 || inner)
// ciphertext = nonce(12) || AES-256-GCM(content_key, nonce, aad_v2, signature(64) || inner)
// wrap for device d = hpke::seal(pk_d, info = "alliance-message-key-v2",
//                                aad = aad_v2 || len16(d) || d, content_key)
// message_hash = SHA-256("alliance-message-hash-v2" || signature)
// header.recipient_device_ids is ignored: the signed set is the device ids of
// `recipients`. Errors as seal_message, plus kInvalidArgument naming
// "header.sender_user_id" (empty or longer than 65535 bytes), "header.counter" (0),
// "header.prev_hash" (neither empty nor 32 bytes, or all zero), "recipients" (more than
// 65535) or "plaintext" (too large once header and padding are added). The content key is
// wiped, not returned: a stale device list means sealing again for the new set.
Result<SealedMessage> seal_message_v2(const MessageContext& ctx, const MessageHeaderV2& header,
                                      std::string_view plaintext, std::string_view signing_private,
                                      const std::vector<Recipient>& recipients);

// Unwraps, checks the signature, then parses the signed inner exactly. Refused with the
// same kInvalidArgument ("ciphertext", "message cannot be opened") as open_message: any
// cryptographic failure, an inner that does not parse exactly (wrong version, a length
// past the end, bytes after the plaintext that are not the zero padding of its bucket,
// recipient ids unsorted, duplicate or empty, an empty sender user id, counter 0), and a
// `recipient_device_id` that is not in the signed recipient set. Malformed input names
// the field as open_message does ("ciphertext": shorter than kMinMessageCiphertextSizeV2).
// Left to the caller, who knows the conversation: that sender_signing_public belongs to
// ctx.sender_device_id under a device certificate of header.sender_user_id, that the
// counter and prev_hash continue what it has seen, and that the set holds every device
// it expected.
Result<OpenedMessageV2> open_message_v2(const MessageContext& ctx, std::string_view ciphertext,
                                        std::string_view wrapped_key, std::string_view recipient_device_id,
                                        std::string_view agreement_private,
                                        std::string_view sender_signing_public);

}  // namespace alliance::crypto
