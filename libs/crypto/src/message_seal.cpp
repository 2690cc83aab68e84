#include "alliance/crypto/message_seal.hpp"

#include <algorithm>
#include <bit>
#include <optional>
#include <set>
#include <stdexcept>

#include "alliance/crypto/aead.hpp"
#include "alliance/crypto/ed25519.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/hpke.hpp"
#include "alliance/crypto/wipe.hpp"
#include "alliance/crypto/x25519.hpp"
#include "message_inner_v2.hpp"

namespace alliance::crypto {
namespace {

using detail::all_zero;
using detail::append_inner_v2;
using detail::append_len16;
using detail::parse_inner_v2;
using detail::unpadded_inner_size_v2;

constexpr std::string_view kStatementLabel = "alliance-device-agreement-key-v1";
constexpr std::string_view kMessageHashLabelV2 = "alliance-message-hash-v2";

// What tells the two formats' shared construction apart.
struct Format {
  std::string_view aad_label;
  std::string_view wrap_info;
  std::size_t min_ciphertext_size;
};
constexpr Format kV1{"alliance-message-v1", "alliance-message-key-v1", kMinMessageCiphertextSize};
constexpr Format kV2{"alliance-message-v2", "alliance-message-key-v2", kMinMessageCiphertextSizeV2};
constexpr std::size_t kMaxRecipientsV2 = 0xffff;

Status check_id(std::string_view field, std::string_view id) {
  if (id.empty()) return invalid_argument(std::string(field), "must not be empty");
  if (id.size() > kMaxMessageIdSize) return invalid_argument(std::string(field), "longer than 65535 bytes");
  return {};
}

// The HPKE aad of one wrapped key: the message aad bound to the recipient device.
std::string wrap_aad(std::string_view message_aad, std::string_view device_id) {
  std::string aad(message_aad);
  append_len16(aad, device_id);
  return aad;
}

Status check_recipients(const std::vector<Recipient>& recipients) {
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    const auto& r = recipients[i];
    std::string prefix = "recipients[" + std::to_string(i) + "].";
    if (auto id = check_id(prefix + "device_id", r.device_id); !id) return id;
    if (!seen.insert(r.device_id).second) return invalid_argument(prefix + "device_id", "duplicate device");
    if (r.agreement_public.size() != kX25519KeySize)
      return invalid_argument(prefix + "agreement_public", "must be 32 bytes");
  }
  return {};
}

Result<std::vector<WrappedKey>> wrap_checked(std::string_view info, std::string_view aad,
                                             std::string_view content_key,
                                             const std::vector<Recipient>& recipients) {
  std::vector<WrappedKey> keys;
  keys.reserve(recipients.size());
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    const auto& r = recipients[i];
    auto wrapped = hpke::seal(r.agreement_public, info, wrap_aad(aad, r.device_id), content_key);
    if (!wrapped) {
      if (wrapped.error().field == "pk_r")
        return invalid_argument("recipients[" + std::to_string(i) + "].agreement_public",
                                "not a usable X25519 public key");
      return wrapped.error();
    }
    keys.push_back(WrappedKey{r.device_id, std::move(*wrapped)});
  }
  return keys;
}

Error cannot_open() { return invalid_argument("ciphertext", "message cannot be opened"); }

// label || len16(conversation_id) || len16(message_id) || len16(sender_device_id)
Result<std::string> context_aad(const Format& format, const MessageContext& ctx) {
  if (auto s = check_id("conversation_id", ctx.conversation_id); !s) return s.error();
  if (auto s = check_id("message_id", ctx.message_id); !s) return s.error();
  if (auto s = check_id("sender_device_id", ctx.sender_device_id); !s) return s.error();
  std::string aad(format.aad_label);
  aad.reserve(aad.size() + 6 + ctx.conversation_id.size() + ctx.message_id.size() +
              ctx.sender_device_id.size());
  append_len16(aad, ctx.conversation_id);
  append_len16(aad, ctx.message_id);
  append_len16(aad, ctx.sender_device_id);
  return aad;
}

// The checks seal_message and seal_message_v2 share, after those of the context.
Status check_seal_inputs(std::string_view plaintext, std::string_view signing_private,
                         const std::vector<Recipient>& recipients) {
  if (plaintext.size() > kMaxAeadInputSize - kMessageSignatureSize)
    return invalid_argument("plaintext", "too large");
  if (signing_private.size() != 32) return invalid_argument("signing_private", "must be 32 bytes");
  if (recipients.empty()) return invalid_argument("recipients", "must not be empty");
  return check_recipients(recipients);
}

// What seal_message and seal_message_v2 share: signature = Ed25519(aad || content),
// ciphertext = nonce || AES-256-GCM(content_key, nonce, aad, signature || content), the
// content key wrapped under the format's info for each recipient. The caller checked
// every input, and owns (and wipes) the content key; `message.content_key` is left empty.
struct SealedContent {
  SealedMessage message;
  std::string signature;
};
Result<SealedContent> seal_content(const Format& format, std::string_view aad, std::string_view content,
                                   std::string_view content_key, std::string_view signing_private,
                                   const std::vector<Recipient>& recipients) {
  auto signer = Ed25519PrivateKey::from_raw_seed(signing_private);
  if (!signer) return invalid_argument("signing_private", "not a usable Ed25519 seed");
  std::string signed_bytes;
  WipeOnExit wipe_signed(signed_bytes);
  signed_bytes.reserve(aad.size() + content.size());
  signed_bytes += aad;
  signed_bytes += content;
  SealedContent sealed;
  sealed.signature = signer->sign(signed_bytes);
  wipe(signed_bytes);
  // signature || content: the signature travels inside the ciphertext, so the server
  // never learns who signed, only which device id the sender claimed.
  std::string aead_input;
  WipeOnExit wipe_input(aead_input);
  aead_input.reserve(kMessageSignatureSize + content.size());
  aead_input += sealed.signature;
  aead_input += content;

  SealedMessage& message = sealed.message;
  std::string nonce = random_bytes(kMessageNonceSize);
  auto body = aes256gcm_seal(content_key, nonce, aad, aead_input);
  if (!body) return body.error();
  message.ciphertext = nonce + *body;
  auto keys = wrap_checked(format.wrap_info, aad, content_key, recipients);
  if (!keys) return keys.error();
  message.keys = std::move(*keys);
  return sealed;
}

// What open_message and open_message_v2 share: checks the inputs, unwraps the content
// key, decrypts, and verifies the signature over aad || content. Returns signature(64) ||
// content; the caller wipes it.
Result<std::string> open_content(const Format& format, const MessageContext& ctx, std::string_view ciphertext,
                                 std::string_view wrapped_key, std::string_view recipient_device_id,
                                 std::string_view agreement_private, std::string_view sender_signing_public) {
  auto aad_or_error = context_aad(format, ctx);
  if (!aad_or_error) return aad_or_error.error();
  const std::string& aad = *aad_or_error;
  if (auto s = check_id("recipient_device_id", recipient_device_id); !s) return s.error();
  if (ciphertext.size() < format.min_ciphertext_size) return invalid_argument("ciphertext", "too short");
  if (ciphertext.size() > kMaxAeadInputSize + kMessageNonceSize + kAeadTagSize)
    return invalid_argument("ciphertext", "too large");
  if (wrapped_key.size() != kWrappedKeySize) return invalid_argument("wrapped_key", "must be 80 bytes");
  if (agreement_private.size() != kX25519KeySize)
    return invalid_argument("agreement_private", "must be 32 bytes");
  if (sender_signing_public.size() != 32) return invalid_argument("sender_signing_public", "must be 32 bytes");

  auto content_key = hpke::open(agreement_private, format.wrap_info, wrap_aad(aad, recipient_device_id), wrapped_key);
  if (!content_key) return cannot_open();
  WipeOnExit wipe_key(*content_key);
  if (content_key->size() != kContentKeySize) return cannot_open();

  auto decrypted = aes256gcm_open(*content_key, ciphertext.substr(0, kMessageNonceSize), aad,
                                  ciphertext.substr(kMessageNonceSize));
  if (!decrypted) return cannot_open();
  std::string_view signature = std::string_view(*decrypted).substr(0, kMessageSignatureSize);
  std::string_view content = std::string_view(*decrypted).substr(kMessageSignatureSize);
  std::string signed_bytes;
  WipeOnExit wipe_signed(signed_bytes);
  signed_bytes.reserve(aad.size() + content.size());
  signed_bytes += aad;
  signed_bytes += content;
  if (!ed25519_verify(sender_signing_public, signed_bytes, signature)) {
    wipe(*decrypted);
    return cannot_open();
  }
  return std::move(*decrypted);
}

Status check_header_v2(const MessageHeaderV2& header) {
  if (auto s = check_id("header.sender_user_id", header.sender_user_id); !s) return s;
  if (header.counter == 0) return invalid_argument("header.counter", "must be at least 1");
  if (!header.prev_hash.empty()) {
    if (header.prev_hash.size() != kMessageHashSize)
      return invalid_argument("header.prev_hash", "must be 32 bytes or empty");
    if (all_zero(header.prev_hash))
      return invalid_argument("header.prev_hash", "all zero means none: leave it empty");
  }
  return {};
}

// The device ids of `recipients`, sorted ascending by bytes (std::string compares as
// unsigned char), as they are signed.
std::vector<std::string> sorted_device_ids(const std::vector<Recipient>& recipients) {
  std::vector<std::string> ids;
  ids.reserve(recipients.size());
  for (const auto& r : recipients) ids.push_back(r.device_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string message_hash_v2(std::string_view signature) {
  std::string input(kMessageHashLabelV2);
  input += signature;
  return sha256(input);
}

}  // namespace

DeviceKeys generate_device_keys() {
  DeviceKeys keys;
  keys.signing_private = random_bytes(32);  // any 32 bytes are an Ed25519 seed
  auto signing = Ed25519PrivateKey::from_raw_seed(keys.signing_private);
  if (!signing) throw std::runtime_error("device keys: cannot build signing key");
  keys.signing_public = signing->public_key_raw();
  X25519KeyPair agreement = x25519_generate();
  keys.agreement_private = std::move(agreement.private_key);
  keys.agreement_public = std::move(agreement.public_key);
  keys.agreement_signature = signing->sign(device_key_statement(keys.agreement_public));
  return keys;
}

std::string device_key_statement(std::string_view agreement_public) {
  std::string statement(kStatementLabel);
  statement += agreement_public;
  return statement;
}

bool verify_device_keys(std::string_view signing_public, std::string_view agreement_public,
                        std::string_view signature) {
  if (agreement_public.size() != kX25519KeySize) return false;
  return ed25519_verify(signing_public, device_key_statement(agreement_public), signature);
}

Result<std::string> message_aad(const MessageContext& ctx) { return context_aad(kV1, ctx); }

Result<SealedMessage> seal_message(const MessageContext& ctx, std::string_view plaintext,
                                   std::string_view signing_private,
                                   const std::vector<Recipient>& recipients) {
  auto aad = message_aad(ctx);
  if (!aad) return aad.error();
  if (auto s = check_seal_inputs(plaintext, signing_private, recipients); !s) return s.error();
  std::string content_key = random_bytes(kContentKeySize);
  WipeOnExit wipe_key(content_key);
  auto sealed = seal_content(kV1, *aad, plaintext, content_key, signing_private, recipients);
  if (!sealed) return sealed.error();
  sealed->message.content_key = content_key;  // v1 hands it back, for wrap_content_key
  return std::move(sealed->message);
}

Result<std::vector<WrappedKey>> wrap_content_key(const MessageContext& ctx, std::string_view content_key,
                                                 const std::vector<Recipient>& recipients) {
  auto aad = message_aad(ctx);
  if (!aad) return aad.error();
  if (content_key.size() != kContentKeySize) return invalid_argument("content_key", "must be 32 bytes");
  if (auto s = check_recipients(recipients); !s) return s.error();
  return wrap_checked(kV1.wrap_info, *aad, content_key, recipients);
}

Result<std::string> open_message(const MessageContext& ctx, std::string_view ciphertext,
                                 std::string_view wrapped_key, std::string_view recipient_device_id,
                                 std::string_view agreement_private,
                                 std::string_view sender_signing_public) {
  auto inner = open_content(kV1, ctx, ciphertext, wrapped_key, recipient_device_id, agreement_private,
                            sender_signing_public);
  if (!inner) return inner.error();
  WipeOnExit wipe_inner(*inner);
  return inner->substr(kMessageSignatureSize);
}

Result<std::string> message_aad_v2(const MessageContext& ctx) { return context_aad(kV2, ctx); }

std::size_t padded_inner_size_v2(std::size_t unpadded) {
  if (unpadded <= kMinPaddedInnerSize) return kMinPaddedInnerSize;
  if (unpadded <= kInnerPaddingStep) return std::bit_ceil(unpadded);
  return (unpadded + kInnerPaddingStep - 1) / kInnerPaddingStep * kInnerPaddingStep;
}

Result<SealedMessage> seal_message_v2(const MessageContext& ctx, const MessageHeaderV2& header,
                                      std::string_view plaintext, std::string_view signing_private,
                                      const std::vector<Recipient>& recipients) {
  auto aad = message_aad_v2(ctx);
  if (!aad) return aad.error();
  if (auto s = check_header_v2(header); !s) return s.error();
  if (auto s = check_seal_inputs(plaintext, signing_private, recipients); !s) return s.error();
  if (recipients.size() > kMaxRecipientsV2) return invalid_argument("recipients", "more than 65535 devices");

  MessageHeaderV2 signed_header = header;
  signed_header.recipient_device_ids = sorted_device_ids(recipients);
  std::size_t padded = padded_inner_size_v2(unpadded_inner_size_v2(signed_header, plaintext.size()));
  if (padded > kMaxAeadInputSize - kMessageSignatureSize)
    return invalid_argument("plaintext", "too large with the message header and padding");
  std::string inner;
  WipeOnExit wipe_inner(inner);
  inner.reserve(padded);
  append_inner_v2(inner, signed_header, plaintext, padded);

  // Nothing re-wraps a v2 content key (the recipient set is signed), so it dies here.
  std::string content_key = random_bytes(kContentKeySize);
  WipeOnExit wipe_key(content_key);
  auto sealed = seal_content(kV2, *aad, inner, content_key, signing_private, recipients);
  if (!sealed) return sealed.error();
  SealedMessage& message = sealed->message;
  message.message_hash = message_hash_v2(sealed->signature);
  return std::move(message);
}

Result<OpenedMessageV2> open_message_v2(const MessageContext& ctx, std::string_view ciphertext,
                                        std::string_view wrapped_key, std::string_view recipient_device_id,
                                        std::string_view agreement_private,
                                        std::string_view sender_signing_public) {
  auto body = open_content(kV2, ctx, ciphertext, wrapped_key, recipient_device_id, agreement_private,
                           sender_signing_public);
  if (!body) return body.error();
  WipeOnExit wipe_body(*body);
  auto parsed = parse_inner_v2(std::string_view(*body).substr(kMessageSignatureSize));
  if (!parsed) return cannot_open();
  const auto& ids = parsed->header.recipient_device_ids;
  // A key the server wrapped for a device the sender did not address is refused.
  if (!std::binary_search(ids.begin(), ids.end(), recipient_device_id)) return cannot_open();
  OpenedMessageV2 opened;
  opened.header = std::move(parsed->header);
  opened.plaintext = std::string(parsed->plaintext);
  opened.message_hash = message_hash_v2(std::string_view(*body).substr(0, kMessageSignatureSize));
  return opened;
}

}  // namespace alliance::crypto
