#include "alliance/crypto/x25519.hpp"

#include <memory>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdexcept>

#include "alliance/crypto/wipe.hpp"

namespace alliance::crypto {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const noexcept { EVP_PKEY_CTX_free(ctx); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Reads the raw private or public half; false if OpenSSL fails.
bool raw_key(EVP_PKEY* key, bool private_half, std::string& out) {
  out.assign(kX25519KeySize, '\0');
  std::size_t len = out.size();
  auto* data = reinterpret_cast<unsigned char*>(out.data());
  int ok = private_half ? EVP_PKEY_get_raw_private_key(key, data, &len)
                        : EVP_PKEY_get_raw_public_key(key, data, &len);
  return ok == 1 && len == kX25519KeySize;
}

Pkey private_pkey(std::string_view private_key) {
  return Pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, bytes(private_key),
                                           private_key.size()));
}

}  // namespace

X25519KeyPair x25519_generate() {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  X25519KeyPair pair;
  if (!key || !raw_key(key.get(), true, pair.private_key) || !raw_key(key.get(), false, pair.public_key)) {
    wipe(pair.private_key);
    ERR_clear_error();
    throw std::runtime_error("x25519: key generation failed");
  }
  return pair;
}

Result<X25519KeyPair> x25519_from_private(std::string_view private_key) {
  if (private_key.size() != kX25519KeySize) return invalid_argument("private_key", "must be 32 bytes");
  Pkey key = private_pkey(private_key);
  X25519KeyPair pair;
  if (!key || !raw_key(key.get(), false, pair.public_key)) {
    ERR_clear_error();
    return make_error(Code::kInternal, "x25519: cannot build key");
  }
  pair.private_key.assign(private_key);
  return pair;
}

Result<std::string> x25519_shared(std::string_view private_key, std::string_view peer_public) {
  if (private_key.size() != kX25519KeySize) return invalid_argument("private_key", "must be 32 bytes");
  if (peer_public.size() != kX25519KeySize) return invalid_argument("peer_public", "must be 32 bytes");
  Pkey key = private_pkey(private_key);
  Pkey peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, bytes(peer_public), peer_public.size()));
  if (!key || !peer) {
    ERR_clear_error();
    return make_error(Code::kInternal, "x25519: cannot build key");
  }
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  std::string secret(kX25519KeySize, '\0');
  std::size_t len = secret.size();
  // OpenSSL itself fails the derivation when the result is all zero (a low-order peer
  // point); the explicit check below keeps that promise should it ever stop doing so.
  bool ok = ctx && EVP_PKEY_derive_init(ctx.get()) == 1 &&
            EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 0) == 1 &&
            EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(secret.data()), &len) == 1 &&
            len == kX25519KeySize;
  ERR_clear_error();
  static constexpr unsigned char kZero[kX25519KeySize] = {};
  if (!ok || CRYPTO_memcmp(secret.data(), kZero, kX25519KeySize) == 0) {
    wipe(secret);
    return invalid_argument("peer_public", "not a usable X25519 public key");
  }
  return secret;
}

}  // namespace alliance::crypto
