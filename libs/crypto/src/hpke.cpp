#include "alliance/crypto/hpke.hpp"

#include <initializer_list>
#include <limits>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdexcept>

#include "alliance/crypto/aead.hpp"
#include "alliance/crypto/wipe.hpp"
#include "alliance/crypto/x25519.hpp"
#include "evp_aead.hpp"

namespace alliance::crypto::hpke {

namespace detail {

// Everything a context derives in the key schedule (RFC 9180 §5.1).
struct ContextState {
  Aead aead = Aead::kAes256Gcm;
  const EVP_CIPHER* cipher = nullptr;
  std::string key;              // Nk bytes
  std::string base_nonce;       // Nn = 12 bytes
  std::string exporter_secret;  // Nh = 32 bytes
  std::uint64_t sequence = 0;

  ContextState() = default;
  ContextState(const ContextState&) = delete;
  ContextState& operator=(const ContextState&) = delete;
  ~ContextState() {
    crypto::wipe(key);
    crypto::wipe(base_nonce);
    crypto::wipe(exporter_secret);
  }
};

void ContextStateFree::operator()(ContextState* state) const noexcept { delete state; }

}  // namespace detail

namespace {

using crypto::WipeOnExit;
using crypto::wipe;

constexpr std::size_t kHashSize = 32;   // Nh, HKDF-SHA256
constexpr std::size_t kNonceSize = 12;  // Nn, all three AEADs
constexpr std::string_view kVersionLabel = "HPKE-v1";
// suite_id of the KEM (§4.1): "KEM" || I2OSP(0x0020, 2).
constexpr std::string_view kKemSuiteId{"KEM\x00\x20", 5};

struct AeadParams {
  const EVP_CIPHER* cipher;
  std::size_t key_size;  // Nk
};

Result<AeadParams> aead_params(Aead aead) {
  switch (aead) {
    case Aead::kAes128Gcm: return AeadParams{EVP_aes_128_gcm(), 16};
    case Aead::kAes256Gcm: return AeadParams{EVP_aes_256_gcm(), 32};
    case Aead::kChaCha20Poly1305: return AeadParams{EVP_chacha20_poly1305(), 32};
  }
  return invalid_argument("aead", "unsupported AEAD id");
}

// suite_id of the whole HPKE suite (§5.1): "HPKE" || kem_id || kdf_id || aead_id.
std::string hpke_suite_id(Aead aead) {
  auto id = static_cast<std::uint16_t>(aead);
  return std::string("HPKE\x00\x20\x00\x01", 8) + static_cast<char>(id >> 8) + static_cast<char>(id & 0xff);
}

std::string i2osp2(std::size_t n) {
  return {static_cast<char>(n >> 8 & 0xff), static_cast<char>(n & 0xff)};
}

struct MacFree {
  void operator()(EVP_MAC* mac) const noexcept { EVP_MAC_free(mac); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const noexcept { EVP_MAC_CTX_free(ctx); }
};

// Fetched once: an EVP_MAC fetch takes a lock and a lookup, and the object is immutable
// and shared safely between threads once fetched.
EVP_MAC* hmac_algorithm() {
  static const std::unique_ptr<EVP_MAC, MacFree> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) throw std::runtime_error("hpke: OpenSSL has no HMAC");
  return mac.get();
}

// HMAC-SHA256(key, concatenation of parts), without copying the parts together (some
// of them are secrets). Throws only if OpenSSL fails, which is a broken installation.
std::string hmac_sha256(std::string_view key, std::initializer_list<std::string_view> parts) {
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(hmac_algorithm()));
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                         OSSL_PARAM_construct_end()};
  bool ok = ctx && EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()),
                                key.size(), params) == 1;
  for (auto part : parts) {
    if (ok && !part.empty())
      ok = EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(part.data()), part.size()) == 1;
  }
  std::string out(kHashSize, '\0');
  std::size_t len = 0;
  if (!ok || EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) != 1 ||
      len != kHashSize) {
    wipe(out);
    ERR_clear_error();
    throw std::runtime_error("hpke: HMAC-SHA256 failed");
  }
  return out;
}

// LabeledExtract(salt, label, ikm) = HKDF-Extract(salt, "HPKE-v1" || suite_id || label || ikm).
// An empty salt is HashLen zero bytes (RFC 5869 §2.2), which HMAC treats alike.
std::string labeled_extract(std::string_view salt, std::string_view suite_id, std::string_view label,
                            std::string_view ikm) {
  static constexpr char kZeroSalt[kHashSize] = {};
  std::string_view key = salt.empty() ? std::string_view(kZeroSalt, kHashSize) : salt;
  return hmac_sha256(key, {kVersionLabel, suite_id, label, ikm});
}

// LabeledExpand(prk, label, info, L) = HKDF-Expand(prk, I2OSP(L, 2) || "HPKE-v1" ||
// suite_id || label || info, L), for L <= 255 * Nh.
std::string labeled_expand(std::string_view prk, std::string_view suite_id, std::string_view label,
                           std::string_view info, std::size_t length) {
  const std::string length_prefix = i2osp2(length);
  std::string out;
  out.reserve(length + kHashSize);
  std::string block;  // T(i)
  WipeOnExit wipe_block(block);
  try {
    for (std::size_t i = 1; out.size() < length; ++i) {
      const char counter = static_cast<char>(i);
      std::string next = hmac_sha256(prk, {block, length_prefix, kVersionLabel, suite_id, label, info,
                                           std::string_view(&counter, 1)});
      wipe(block);
      block = std::move(next);  // the old buffer was wiped above before it is freed
      out.append(block, 0, std::min(kHashSize, length - out.size()));
    }
  } catch (...) {
    wipe(out);  // `out` is returned, so no WipeOnExit: a partial key is wiped here
    throw;
  }
  return out;
}

// DHKEM ExtractAndExpand (RFC 9180 §4.1).
std::string kem_shared_secret(std::string_view dh, std::string_view kem_context) {
  std::string eae_prk = labeled_extract("", kKemSuiteId, "eae_prk", dh);
  WipeOnExit wipe_prk(eae_prk);
  return labeled_expand(eae_prk, kKemSuiteId, "shared_secret", kem_context, kHashSize);
}

// KeySchedule for mode_base (psk and psk_id empty).
detail::ContextStatePtr key_schedule(std::string_view shared_secret, std::string_view info, Aead aead,
                                     const AeadParams& params) {
  const std::string suite_id = hpke_suite_id(aead);
  const std::string psk_id_hash = labeled_extract("", suite_id, "psk_id_hash", "");
  const std::string info_hash = labeled_extract("", suite_id, "info_hash", info);
  std::string context(1, '\0');  // mode_base = 0x00
  context += psk_id_hash;
  context += info_hash;
  std::string secret = labeled_extract(shared_secret, suite_id, "secret", "");
  WipeOnExit wipe_secret(secret);

  detail::ContextStatePtr state(new detail::ContextState);
  state->aead = aead;
  state->cipher = params.cipher;
  state->key = labeled_expand(secret, suite_id, "key", context, params.key_size);
  state->base_nonce = labeled_expand(secret, suite_id, "base_nonce", context, kNonceSize);
  state->exporter_secret = labeled_expand(secret, suite_id, "exp", context, kHashSize);
  return state;
}

// ComputeNonce: base_nonce XOR I2OSP(seq, Nn).
std::string context_nonce(const detail::ContextState& state) {
  std::string nonce = state.base_nonce;
  for (std::size_t i = 0; i < 8; ++i)
    nonce[kNonceSize - 1 - i] = static_cast<char>(nonce[kNonceSize - 1 - i] ^ (state.sequence >> (8 * i) & 0xff));
  return nonce;
}

std::string export_from(const detail::ContextState* state, std::string_view exporter_context,
                        std::size_t length) {
  if (!state) throw std::logic_error("hpke: context used after move");
  if (length > kMaxExportSize) throw std::invalid_argument("hpke: export length exceeds 255 * 32");
  return labeled_expand(state->exporter_secret, hpke_suite_id(state->aead), "sec", exporter_context, length);
}

Error moved_from() { return make_error(Code::kFailedPrecondition, "hpke: context used after move"); }

}  // namespace

Result<std::string> SenderContext::seal(std::string_view aad, std::string_view pt) {
  if (!state_) return moved_from();
  // Nn is 12 bytes, so the RFC's limit (2^96 - 1) is never the binding one: stopping at
  // 2^64 - 1 keeps the counter from wrapping onto a used nonce.
  if (state_->sequence == std::numeric_limits<std::uint64_t>::max())
    return make_error(Code::kFailedPrecondition, "hpke: message limit reached");
  std::string nonce = context_nonce(*state_);
  WipeOnExit wipe_nonce(nonce);
  auto ct = crypto::detail::evp_aead_seal(state_->cipher, state_->key, nonce, aad, pt);
  if (ct) ++state_->sequence;
  return ct;
}

std::string SenderContext::export_secret(std::string_view exporter_context, std::size_t length) const {
  return export_from(state_.get(), exporter_context, length);
}
std::uint64_t SenderContext::sequence() const { return state_ ? state_->sequence : 0; }
Aead SenderContext::aead() const { return state_ ? state_->aead : Aead::kAes256Gcm; }

Result<std::string> RecipientContext::open(std::string_view aad, std::string_view ct) {
  if (!state_) return moved_from();
  if (state_->sequence == std::numeric_limits<std::uint64_t>::max())
    return make_error(Code::kFailedPrecondition, "hpke: message limit reached");
  std::string nonce = context_nonce(*state_);
  WipeOnExit wipe_nonce(nonce);
  auto pt = crypto::detail::evp_aead_open(state_->cipher, state_->key, nonce, aad, ct);
  if (pt) ++state_->sequence;
  return pt;
}

std::string RecipientContext::export_secret(std::string_view exporter_context, std::size_t length) const {
  return export_from(state_.get(), exporter_context, length);
}
std::uint64_t RecipientContext::sequence() const { return state_ ? state_->sequence : 0; }
Aead RecipientContext::aead() const { return state_ ? state_->aead : Aead::kAes256Gcm; }

Result<SenderSetup> setup_base_sender_with_ephemeral(std::string_view pk_r, std::string_view info,
                                                     std::string_view sk_e, Aead aead) {
  auto params = aead_params(aead);
  if (!params) return params.error();
  if (pk_r.size() != kX25519KeySize) return invalid_argument("pk_r", "must be 32 bytes");
  if (sk_e.size() != kX25519KeySize) return invalid_argument("sk_e", "must be 32 bytes");
  auto ephemeral = x25519_from_private(sk_e);
  if (!ephemeral) return ephemeral.error();
  WipeOnExit wipe_ephemeral(ephemeral->private_key);
  auto dh = x25519_shared(sk_e, pk_r);
  if (!dh) return invalid_argument("pk_r", "not a usable X25519 public key");
  WipeOnExit wipe_dh(*dh);
  std::string kem_context = ephemeral->public_key + std::string(pk_r);
  std::string shared_secret = kem_shared_secret(*dh, kem_context);
  WipeOnExit wipe_shared(shared_secret);
  return SenderSetup{ephemeral->public_key, SenderContext(key_schedule(shared_secret, info, aead, *params))};
}

Result<SenderSetup> setup_base_sender(std::string_view pk_r, std::string_view info, Aead aead) {
  X25519KeyPair ephemeral = x25519_generate();
  WipeOnExit wipe_ephemeral(ephemeral.private_key);
  return setup_base_sender_with_ephemeral(pk_r, info, ephemeral.private_key, aead);
}

Result<RecipientContext> setup_base_recipient(std::string_view enc, std::string_view sk_r,
                                              std::string_view info, Aead aead) {
  auto params = aead_params(aead);
  if (!params) return params.error();
  if (enc.size() != kEncSize) return invalid_argument("enc", "must be 32 bytes");
  if (sk_r.size() != kX25519KeySize) return invalid_argument("sk_r", "must be 32 bytes");
  auto recipient = x25519_from_private(sk_r);
  if (!recipient) return recipient.error();
  WipeOnExit wipe_recipient(recipient->private_key);
  auto dh = x25519_shared(sk_r, enc);
  if (!dh) return invalid_argument("enc", "not a usable X25519 public key");
  WipeOnExit wipe_dh(*dh);
  std::string kem_context = std::string(enc) + recipient->public_key;
  std::string shared_secret = kem_shared_secret(*dh, kem_context);
  WipeOnExit wipe_shared(shared_secret);
  return RecipientContext(key_schedule(shared_secret, info, aead, *params));
}

Result<std::string> seal(std::string_view pk_r, std::string_view info, std::string_view aad,
                         std::string_view pt, Aead aead) {
  auto setup = setup_base_sender(pk_r, info, aead);
  if (!setup) return setup.error();
  auto ct = setup->context.seal(aad, pt);
  if (!ct) return ct.error();
  return setup->enc + *ct;
}

Result<std::string> open(std::string_view sk_r, std::string_view info, std::string_view aad,
                         std::string_view enc_and_ct, Aead aead) {
  if (sk_r.size() != kX25519KeySize) return invalid_argument("sk_r", "must be 32 bytes");
  if (enc_and_ct.size() < kEncSize + kTagSize)
    return invalid_argument("enc_and_ct", "shorter than enc and tag");
  auto context = setup_base_recipient(enc_and_ct.substr(0, kEncSize), sk_r, info, aead);
  if (!context) {
    if (context.error().field == "enc") return invalid_argument("ciphertext", "decryption failed");
    return context.error();
  }
  return context->open(aad, enc_and_ct.substr(kEncSize));
}

}  // namespace alliance::crypto::hpke
