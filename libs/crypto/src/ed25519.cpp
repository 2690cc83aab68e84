#include "alliance/crypto/ed25519.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

#include "alliance/crypto/wipe.hpp"

namespace alliance::crypto {
namespace {

constexpr std::size_t kPublicKeySize = 32;
constexpr std::size_t kSeedSize = 32;
constexpr std::size_t kSignatureSize = 64;
constexpr std::uintmax_t kMaxPemFileSize = 64 * 1024;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};

// Refuses encrypted PEMs instead of letting OpenSSL prompt on the terminal.
int no_passphrase(char*, int, int, void*) { return -1; }

Error key_error(Code code, const std::filesystem::path& path, std::string_view problem) {
  return make_error(code, "ed25519 key " + path.string() + ": " + std::string(problem));
}

}  // namespace

void Ed25519PrivateKey::Free::operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }

Result<Ed25519PrivateKey> Ed25519PrivateKey::from_pem_file(const std::filesystem::path& path) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    if (ec == std::errc::permission_denied)
      return key_error(Code::kPermissionDenied, path, "permission denied");
    return key_error(Code::kNotFound, path, "file not found");
  }
  if (!std::filesystem::is_regular_file(status))
    return key_error(Code::kInvalidArgument, path, "not a regular file");
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return key_error(Code::kPermissionDenied, path, "cannot read file size");
  if (size > kMaxPemFileSize) return key_error(Code::kInvalidArgument, path, "file too large for a key");

  // Read with read(2) straight into a buffer of the file's size, wiped on the way out: a
  // stream's buffer or a string that grows would leave copies of the key unwiped.
  std::string pem(static_cast<std::size_t>(size), '\0');
  WipeOnExit wipe_pem(pem);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return key_error(err == EACCES ? Code::kPermissionDenied : Code::kUnavailable, path,
                     std::string("cannot open: ") + std::strerror(err));
  }
  std::size_t got = 0;
  int read_error = 0;
  while (got < pem.size()) {
    const ssize_t n = ::read(fd, pem.data() + got, pem.size() - got);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) read_error = errno;
    break;  // 0: end of file, the file shrank since its size was read
  }
  ::close(fd);
  if (read_error != 0)
    return key_error(Code::kUnavailable, path, std::string("cannot read: ") + std::strerror(read_error));

  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(got)));
  EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr;
  bio.reset();
  ERR_clear_error();
  std::unique_ptr<EVP_PKEY, PkeyFree> key(raw);
  if (!key)
    return key_error(Code::kInvalidArgument, path,
                     "not an unencrypted PEM private key (expected openssl genpkey -algorithm ed25519)");
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519)
    return key_error(Code::kInvalidArgument, path, "PEM key is not an Ed25519 key");
  return Ed25519PrivateKey(key.release());
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::from_raw_seed(std::string_view seed) {
  if (seed.size() != kSeedSize) return invalid_argument("seed", "must be 32 bytes");
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), seed.size());
  if (!key) {
    ERR_clear_error();
    return make_error(Code::kInternal, "ed25519: cannot build key from seed");
  }
  return Ed25519PrivateKey(key);
}

std::string Ed25519PrivateKey::to_pem() const {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw std::runtime_error("ed25519: cannot encode the key as PEM");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<std::size_t>(n));
  OPENSSL_cleanse(data, static_cast<std::size_t>(n));
  return pem;
}

Ed25519PrivateKey Ed25519PrivateKey::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!key) {
    ERR_clear_error();
    throw std::runtime_error("ed25519: key generation failed");
  }
  return Ed25519PrivateKey(key);
}

std::string Ed25519PrivateKey::public_key_raw() const {
  if (!key_) throw std::logic_error("Ed25519PrivateKey used after move");
  std::string out(kPublicKeySize, '\0');
  std::size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key_.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      len != kPublicKeySize) {
    ERR_clear_error();
    throw std::runtime_error("ed25519: cannot read public key");
  }
  return out;
}

std::string Ed25519PrivateKey::sign(std::string_view message) const {
  if (!key_) throw std::logic_error("Ed25519PrivateKey used after move");
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::string out(kSignatureSize, '\0');
  std::size_t len = out.size();
  // Ed25519 is a one-shot signature: no digest, one EVP_DigestSign call.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != kSignatureSize) {
    ERR_clear_error();
    throw std::runtime_error("ed25519: signing failed");
  }
  return out;
}

bool ed25519_verify(std::string_view public_key_raw, std::string_view message,
                    std::string_view signature) {
  if (public_key_raw.size() != kPublicKeySize || signature.size() != kSignatureSize) return false;
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(public_key_raw.data()),
      public_key_raw.size()));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  bool ok = key && ctx &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                             message.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace alliance::crypto
