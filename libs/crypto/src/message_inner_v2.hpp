#pragma once
// The signed inner of a format 2 message (alliance/crypto/message_seal.hpp): writing it
// and reading it back. Internal to libs/crypto; the fuzz target and the seal code use it.
//
//   be16(2) || len16(sender_user_id) || be64(counter) || prev_hash(32, zero = none)
//   || be64(sent_unix_ms) || be16(n) || n x len16(device_id), strictly ascending
//   || be32(len) || plaintext || zero padding to padded_inner_size_v2
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "alliance/crypto/message_seal.hpp"

namespace alliance::crypto::detail {

// len16(x): x's length as 2 bytes big-endian, then x.
void append_len16(std::string& out, std::string_view bytes);
// The low `bytes` bytes of value, big-endian.
void append_be(std::string& out, std::uint64_t value, int bytes);
bool all_zero(std::string_view bytes);

// Reads big-endian integers and byte runs from bytes that may be hostile: every read
// checks what is left first; after a short read the reader stays failed and reads give
// 0 or empty.
class InnerReader {
 public:
  explicit InnerReader(std::string_view bytes) : rest_(bytes) {}
  bool ok() const { return ok_; }
  std::string_view rest() const { return rest_; }

  std::string_view bytes(std::size_t n) {
    if (!ok_ || rest_.size() < n) {
      ok_ = false;
      return {};
    }
    std::string_view out = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return out;
  }
  std::uint64_t be(std::size_t n) {  // n <= 8
    std::uint64_t value = 0;
    for (unsigned char c : bytes(n)) value = value << 8 | c;
    return value;
  }
  std::string_view len16() { return bytes(be(2)); }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

struct ParsedInnerV2 {
  MessageHeaderV2 header;
  std::string_view plaintext;  // into the parsed bytes
};

// The inner's size before padding.
std::size_t unpadded_inner_size_v2(const MessageHeaderV2& header, std::size_t plaintext_size);
// Appends the v2 inner of `header` (recipient ids already sorted) and `plaintext`, padded
// to `padded_size`, to `out` (which has room reserved, so it is never reallocated).
void append_inner_v2(std::string& out, const MessageHeaderV2& header, std::string_view plaintext,
                     std::size_t padded_size);
// The inner exactly as append_inner_v2 writes it, or nullopt. Assumes nothing about the
// bytes (they are signed, but the parser must not need that).
std::optional<ParsedInnerV2> parse_inner_v2(std::string_view inner);

}  // namespace alliance::crypto::detail
