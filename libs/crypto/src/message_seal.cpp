#include "alliance/crypto/message_seal.hpp"

#include <set>
#include <stdexcept>

#include "alliance/crypto/aead.hpp"
#include "alliance/crypto/ed25519.hpp"
#include "alliance/crypto/hpke.hpp"
#include "alliance/crypto/x25519.hpp"
#include "evp_aead.hpp"

namespace alliance::crypto {
namespace {

using detail::WipeOnExit;

constexpr std::string_view kAadLabel = "alliance-message-v1";
constexpr std::string_view kWrapInfo = "alliance-message-key-v1";
constexpr std::string_view kStatementLabel = "alliance-device-agreement-key-v1";

Status check_id(std::string_view field, std::string_view id) {
  if (id.empty()) return invalid_argument(std::string(field), "must not be empty");
  if (id.size() > kMaxMessageIdSize) return invalid_argument(std::string(field), "longer than 65535 bytes");
  return {};
}

void append_len16(std::string& out, std::string_view bytes) {
  out += static_cast<char>(bytes.size() >> 8 & 0xff);
  out += static_cast<char>(bytes.size() & 0xff);
  out += bytes;
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

Result<std::vector<WrappedKey>> wrap_checked(std::string_view aad, std::string_view content_key,
                                             const std::vector<Recipient>& recipients) {
  std::vector<WrappedKey> keys;
  keys.reserve(recipients.size());
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    const auto& r = recipients[i];
    auto wrapped = hpke::seal(r.agreement_public, kWrapInfo, wrap_aad(aad, r.device_id), content_key);
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

Result<std::string> message_aad(const MessageContext& ctx) {
  if (auto s = check_id("conversation_id", ctx.conversation_id); !s) return s.error();
  if (auto s = check_id("message_id", ctx.message_id); !s) return s.error();
  if (auto s = check_id("sender_device_id", ctx.sender_device_id); !s) return s.error();
  std::string aad(kAadLabel);
  aad.reserve(aad.size() + 6 + ctx.conversation_id.size() + ctx.message_id.size() +
              ctx.sender_device_id.size());
  append_len16(aad, ctx.conversation_id);
  append_len16(aad, ctx.message_id);
  append_len16(aad, ctx.sender_device_id);
  return aad;
}

Result<SealedMessage> seal_message(const MessageContext& ctx, std::string_view plaintext,
                                   std::string_view signing_private,
                                   const std::vector<Recipient>& recipients) {
  auto aad = message_aad(ctx);
  if (!aad) return aad.error();
  if (plaintext.size() > kMaxAeadInputSize - kMessageSignatureSize)
    return invalid_argument("plaintext", "too large");
  if (signing_private.size() != 32) return invalid_argument("signing_private", "must be 32 bytes");
  if (recipients.empty()) return invalid_argument("recipients", "must not be empty");
  if (auto s = check_recipients(recipients); !s) return s.error();
  auto signer = Ed25519PrivateKey::from_raw_seed(signing_private);
  if (!signer) return invalid_argument("signing_private", "not a usable Ed25519 seed");

  std::string signed_bytes;
  signed_bytes.reserve(aad->size() + plaintext.size());
  signed_bytes += *aad;
  signed_bytes += plaintext;
  // signature || plaintext: the signature travels inside the ciphertext, so the server
  // never learns who signed, only which device id the sender claimed.
  std::string inner;
  WipeOnExit wipe_inner(inner);
  inner.reserve(kMessageSignatureSize + plaintext.size());
  inner += signer->sign(signed_bytes);
  detail::wipe(signed_bytes);
  inner += plaintext;

  SealedMessage sealed;
  sealed.content_key = random_bytes(kContentKeySize);
  std::string nonce = random_bytes(kMessageNonceSize);
  auto body = aes256gcm_seal(sealed.content_key, nonce, *aad, inner);
  if (!body) return body.error();
  sealed.ciphertext = nonce + *body;
  auto keys = wrap_checked(*aad, sealed.content_key, recipients);
  if (!keys) return keys.error();
  sealed.keys = std::move(*keys);
  return sealed;
}

Result<std::vector<WrappedKey>> wrap_content_key(const MessageContext& ctx, std::string_view content_key,
                                                 const std::vector<Recipient>& recipients) {
  auto aad = message_aad(ctx);
  if (!aad) return aad.error();
  if (content_key.size() != kContentKeySize) return invalid_argument("content_key", "must be 32 bytes");
  if (auto s = check_recipients(recipients); !s) return s.error();
  return wrap_checked(*aad, content_key, recipients);
}

Result<std::string> open_message(const MessageContext& ctx, std::string_view ciphertext,
                                 std::string_view wrapped_key, std::string_view recipient_device_id,
                                 std::string_view agreement_private,
                                 std::string_view sender_signing_public) {
  auto aad = message_aad(ctx);
  if (!aad) return aad.error();
  if (auto s = check_id("recipient_device_id", recipient_device_id); !s) return s.error();
  if (ciphertext.size() < kMinMessageCiphertextSize) return invalid_argument("ciphertext", "too short");
  if (ciphertext.size() > kMaxAeadInputSize + kMessageNonceSize + kAeadTagSize)
    return invalid_argument("ciphertext", "too large");
  if (wrapped_key.size() != kWrappedKeySize) return invalid_argument("wrapped_key", "must be 80 bytes");
  if (agreement_private.size() != kX25519KeySize)
    return invalid_argument("agreement_private", "must be 32 bytes");
  if (sender_signing_public.size() != 32) return invalid_argument("sender_signing_public", "must be 32 bytes");

  auto content_key = hpke::open(agreement_private, kWrapInfo, wrap_aad(*aad, recipient_device_id), wrapped_key);
  if (!content_key) return cannot_open();
  WipeOnExit wipe_key(*content_key);
  if (content_key->size() != kContentKeySize) return cannot_open();

  auto inner = aes256gcm_open(*content_key, ciphertext.substr(0, kMessageNonceSize), *aad,
                              ciphertext.substr(kMessageNonceSize));
  if (!inner) return cannot_open();
  WipeOnExit wipe_inner(*inner);
  std::string_view signature = std::string_view(*inner).substr(0, kMessageSignatureSize);
  std::string_view plaintext = std::string_view(*inner).substr(kMessageSignatureSize);
  std::string signed_bytes;
  WipeOnExit wipe_signed(signed_bytes);
  signed_bytes.reserve(aad->size() + plaintext.size());
  signed_bytes += *aad;
  signed_bytes += plaintext;
  if (!ed25519_verify(sender_signing_public, signed_bytes, signature)) return cannot_open();
  return std::string(plaintext);
}

}  // namespace alliance::crypto
