#include "message_inner_v2.hpp"

#include <algorithm>

namespace alliance::crypto::detail {

void append_len16(std::string& out, std::string_view bytes) {
  out += static_cast<char>(bytes.size() >> 8 & 0xff);
  out += static_cast<char>(bytes.size() & 0xff);
  out += bytes;
}

void append_be(std::string& out, std::uint64_t value, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) out += static_cast<char>(value >> shift & 0xff);
}

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\0'; });
}

std::size_t unpadded_inner_size_v2(const MessageHeaderV2& header, std::size_t plaintext_size) {
  std::size_t size = 2 + 2 + header.sender_user_id.size() + 8 + kMessageHashSize + 8 + 2;
  for (const auto& id : header.recipient_device_ids) size += 2 + id.size();
  return size + 4 + plaintext_size;
}

void append_inner_v2(std::string& out, const MessageHeaderV2& header, std::string_view plaintext,
                     std::size_t padded_size) {
  std::size_t start = out.size();
  append_be(out, kMessageFormatV2, 2);
  append_len16(out, header.sender_user_id);
  append_be(out, header.counter, 8);
  if (header.prev_hash.empty())
    out.append(kMessageHashSize, '\0');
  else
    out += header.prev_hash;
  append_be(out, static_cast<std::uint64_t>(header.sent_unix_ms), 8);
  append_be(out, header.recipient_device_ids.size(), 2);
  for (const auto& id : header.recipient_device_ids) append_len16(out, id);
  append_be(out, plaintext.size(), 4);
  out += plaintext;
  out.append(padded_size - (out.size() - start), '\0');
}

std::optional<ParsedInnerV2> parse_inner_v2(std::string_view inner) {
  InnerReader in(inner);
  ParsedInnerV2 parsed;
  MessageHeaderV2& header = parsed.header;
  if (in.be(2) != kMessageFormatV2) return std::nullopt;
  header.sender_user_id = in.len16();
  header.counter = in.be(8);
  std::string_view prev_hash = in.bytes(kMessageHashSize);
  header.sent_unix_ms = static_cast<std::int64_t>(in.be(8));
  std::uint64_t count = in.be(2);
  for (std::uint64_t i = 0; i < count && in.ok(); ++i) {
    std::string_view id = in.len16();
    // Strictly ascending: sorted and unique in one comparison.
    if (id.empty() || (i > 0 && !(header.recipient_device_ids.back() < id))) return std::nullopt;
    header.recipient_device_ids.emplace_back(id);
  }
  parsed.plaintext = in.bytes(in.be(4));
  if (!in.ok() || header.sender_user_id.empty() || header.counter == 0 || count == 0) return std::nullopt;
  std::string_view padding = in.rest();
  if (!all_zero(padding)) return std::nullopt;
  if (inner.size() != padded_inner_size_v2(inner.size() - padding.size())) return std::nullopt;
  if (!all_zero(prev_hash)) header.prev_hash = prev_hash;
  return parsed;
}

}  // namespace alliance::crypto::detail
