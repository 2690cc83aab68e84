#pragma once
// A message's wrapped keys (one per recipient device) as the single BLOB its row
// keeps, instead of one row per key. Layout, version 1 (integers big-endian):
//
//   u8 version = 1 | u16 count | count x (u8 id length 1..255 | id | u16 key length 1..65535 | key)
//
// Keys are written in device-id order (as the rows they replace were read back), each
// id once.
// A stored blob is trusted no more than the file it sits in: decoding checks the
// version, every length against what is left, and that nothing follows the last key,
// and answers an error saying what was wrong instead of reading out of bounds.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/core/result.hpp"

namespace alliance::messaging {

struct StoredKey {
  std::string device_id;
  std::string wrapped;
};

// kInvalidArgument naming keys[i] if a device id or key is empty or too long for the
// layout; kInvalidArgument on keys if a device id repeats or there are more than 65535.
Result<std::string> encode_wrapped_keys(const std::vector<StoredKey>& keys);

// Every key of the blob, in stored order. kInternal ("wrapped keys: ...") if it is not
// a well-formed version 1 blob.
Result<std::vector<StoredKey>> decode_wrapped_keys(std::string_view blob);

// The wrapped key of `device_id` (nullopt if the message was not wrapped for it),
// checking the whole blob as decode_wrapped_keys does.
Result<std::optional<std::string>> wrapped_key_of(std::string_view blob, std::string_view device_id);

}  // namespace alliance::messaging
