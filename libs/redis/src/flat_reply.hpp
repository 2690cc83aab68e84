#pragma once
// Internal: reads the replies a subscribed connection receives in place, from the
// connection's own read buffer. Every reply on a pub/sub connection is flat: a status,
// an error, an integer, a bulk string (or nil), or an array of those
// (["message", channel, payload], ["subscribe", channel, count]). parse_flat_reply
// reads one from the front of the bytes received and hands out views into them, so a
// message costs no allocation and no copy (hiredis' reader, kept for command replies,
// which may nest, copies every string into its own buffer and then into a Reply).
#include <array>
#include <cstddef>
#include <string_view>

#include "alliance/redis/types.hpp"

namespace alliance::redis::detail {

// One reply, or one element of an array reply. Views into the parsed bytes: valid
// until those bytes are moved or overwritten.
struct FlatValue {
  Reply::Type type = Reply::Type::kNil;
  std::string_view str;   // kString (binary-safe), kStatus, kError
  long long integer = 0;  // kInteger
};

struct FlatReply {
  static constexpr std::size_t kMaxElements = 4;  // pub/sub arrays have 3 (pmessage 4)
  FlatValue value;                                 // kArray: only `type` is set
  std::size_t count = 0;                           // kArray: elements[0, count)
  std::array<FlatValue, kMaxElements> elements;

  std::string_view str(std::size_t i) const { return i < count ? elements[i].str : std::string_view(); }
};

struct FlatParse {
  enum class Status { kComplete, kIncomplete, kInvalid };
  Status status = Status::kIncomplete;
  std::size_t used = 0;   // kComplete: bytes the reply took
  const char* why = "";   // kInvalid: what was wrong, for the connection's log line
};

// Bulk strings longer than Redis's own limit (proto-max-bulk-len) are refused.
inline constexpr long long kMaxBulkBytes = 512LL * 1024 * 1024;

// Parses the RESP2 reply at the front of `in` into `out`. kIncomplete: more bytes are
// needed (nothing in `in` is wrong so far); kInvalid: `in` is not a flat reply (nested
// arrays, more than kMaxElements elements, a malformed length, a line longer than 64 KiB).
FlatParse parse_flat_reply(std::string_view in, FlatReply& out);

// The same reply as an owned Reply (for a command's answer on a subscribed connection).
Reply to_reply(const FlatReply& flat);

}  // namespace alliance::redis::detail
