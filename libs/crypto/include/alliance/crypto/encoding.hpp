#pragma once
// Byte-level helpers shared by the rest of alliance::crypto: base64url (RFC 4648 §5),
// SHA-256, HMAC-SHA-256, a timing-safe comparison and big-endian integers in signed or
// hashed statements. The functions are pure and safe from
// any thread; a Sha256 object belongs to one thread while it hashes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace alliance::crypto {

// Base64url without '=' padding, as JWT and our password encoding use it.
std::string base64url_encode(std::string_view bytes);
// Strict inverse of base64url_encode: nullopt on '=' padding, characters outside
// [A-Za-z0-9_-], an impossible length (4k+1), or non-zero unused trailing bits, so
// every byte string has exactly one accepted text form.
std::optional<std::string> base64url_decode(std::string_view text);

// SHA-256 digest: 32 raw bytes.
std::string sha256(std::string_view bytes);

// SHA-256 over parts given one at a time: finish() is sha256() of everything passed to
// update(), in order, without joining it into one string first. One object per digest,
// not shared between threads.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256& update(std::string_view bytes);
  std::string finish();  // 32 raw bytes; the object is spent

 private:
  ::evp_md_ctx_st* ctx_;
};
// HMAC-SHA-256 of `bytes` under `key` (any length): 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view bytes);

// Equal contents, in time that depends only on the lengths (lengths are not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

// Appends `v` as 8 bytes, most significant first (what signed and hashed statements hold).
void append_be64(std::string& out, std::uint64_t v);

}  // namespace alliance::crypto
