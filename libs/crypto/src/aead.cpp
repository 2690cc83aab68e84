#include "alliance/crypto/aead.hpp"

#include <algorithm>
#include <climits>
#include <memory>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdexcept>

#include "alliance/crypto/wipe.hpp"
#include "evp_aead.hpp"

namespace alliance::crypto {
namespace detail {
namespace {

constexpr int kTagSize = static_cast<int>(kAeadTagSize);

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

Error internal_error(const char* what) {
  ERR_clear_error();
  return make_error(Code::kInternal, std::string("aead: ") + what);
}

}  // namespace

Result<std::string> evp_aead_seal(const EVP_CIPHER* cipher, std::string_view key,
                                  std::string_view nonce, std::string_view aad,
                                  std::string_view plaintext) {
  if (aad.size() > kMaxAeadInputSize) return invalid_argument("aad", "too large");
  if (plaintext.size() > kMaxAeadInputSize) return invalid_argument("plaintext", "too large");
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  // The default IV length of all three ciphers is 12 bytes, the HPKE/our nonce size.
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), cipher, bytes(key), bytes(nonce), nullptr) != 1)
    return internal_error("cannot initialise cipher");
  int len = 0;
  if (!aad.empty() &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1)
    return internal_error("cannot add aad");
  std::string out(plaintext.size() + kAeadTagSize, '\0');
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), bytes(out), &len, bytes(plaintext),
                          static_cast<int>(plaintext.size())) != 1)
      return internal_error("cannot encrypt");
    written = len;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), bytes(out) + written, &len) != 1) return internal_error("cannot finish");
  written += len;
  if (static_cast<std::size_t>(written) != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kTagSize, bytes(out) + written) != 1)
    return internal_error("cannot read tag");
  return out;
}

Result<std::string> evp_aead_open(const EVP_CIPHER* cipher, std::string_view key,
                                  std::string_view nonce, std::string_view aad,
                                  std::string_view ciphertext) {
  if (aad.size() > kMaxAeadInputSize) return invalid_argument("aad", "too large");
  if (ciphertext.size() > kMaxAeadInputSize + kAeadTagSize) return invalid_argument("ciphertext", "too large");
  if (ciphertext.size() < kAeadTagSize) return invalid_argument("ciphertext", "decryption failed");
  std::string_view body = ciphertext.substr(0, ciphertext.size() - kAeadTagSize);
  std::string tag(ciphertext.substr(body.size()));
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), cipher, bytes(key), bytes(nonce), nullptr) != 1)
    return internal_error("cannot initialise cipher");
  int len = 0;
  if (!aad.empty() &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1)
    return internal_error("cannot add aad");
  std::string out(body.size(), '\0');
  int written = 0;
  if (!body.empty()) {
    if (EVP_DecryptUpdate(ctx.get(), bytes(out), &len, bytes(body), static_cast<int>(body.size())) != 1) {
      wipe(out);
      return internal_error("cannot decrypt");
    }
    written = len;
  }
  // The output buffer is never handed out unless the tag checks: unauthenticated
  // plaintext is wiped, not returned.
  unsigned char end[EVP_MAX_BLOCK_LENGTH];
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kTagSize, bytes(tag)) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), end, &len) != 1 || len != 0 ||
      static_cast<std::size_t>(written) != body.size()) {
    wipe(out);
    ERR_clear_error();
    return invalid_argument("ciphertext", "decryption failed");
  }
  return out;
}

}  // namespace detail

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  // RAND_bytes takes an int: fill large requests in pieces.
  std::size_t done = 0;
  while (done < n) {
    std::size_t chunk = std::min<std::size_t>(n - done, INT_MAX);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()) + done, static_cast<int>(chunk)) != 1) {
      wipe(out);  // the caller may have meant the bytes as a key
      ERR_clear_error();
      throw std::runtime_error("random_bytes: OpenSSL RAND_bytes failed");
    }
    done += chunk;
  }
  return out;
}

namespace {

Status check_aes256gcm_sizes(std::string_view key, std::string_view nonce) {
  if (key.size() != kAes256GcmKeySize) return invalid_argument("key", "must be 32 bytes");
  if (nonce.size() != kAesGcmNonceSize) return invalid_argument("nonce", "must be 12 bytes");
  return {};
}

}  // namespace

Result<std::string> aes256gcm_seal(std::string_view key, std::string_view nonce,
                                   std::string_view aad, std::string_view plaintext) {
  if (auto sizes = check_aes256gcm_sizes(key, nonce); !sizes) return sizes.error();
  return detail::evp_aead_seal(EVP_aes_256_gcm(), key, nonce, aad, plaintext);
}

Result<std::string> aes256gcm_open(std::string_view key, std::string_view nonce,
                                   std::string_view aad, std::string_view ciphertext) {
  if (auto sizes = check_aes256gcm_sizes(key, nonce); !sizes) return sizes.error();
  return detail::evp_aead_open(EVP_aes_256_gcm(), key, nonce, aad, ciphertext);
}

}  // namespace alliance::crypto
