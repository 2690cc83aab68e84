#pragma once
// The RPC wire format, with no sockets: each frame is a 4-byte big-endian length
// followed by a serialized alliance.rpc.v1.Frame. Pure functions and a
// single-owner decoder; safe to unit test byte by byte.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/core/result.hpp"
#include "alliance/rpc/v1/rpc.pb.h"

namespace alliance::net {

inline constexpr std::size_t kDefaultMaxFrame = 4 << 20;  // 4 MiB, length prefix excluded
inline constexpr std::size_t kFrameHeaderSize = 4;

// Length prefix + serialized frame.
std::string encode_frame(const alliance::rpc::v1::Frame& frame);

// Reassembles frames from a byte stream. Owned by one connection (not thread-safe).
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_frame = kDefaultMaxFrame);

  // Feeds bytes; every complete frame is appended to `out`, a partial one is kept
  // for the next call. Returns an error ("frame too large: N bytes",
  // "malformed frame") after which the connection must be closed; the decoder
  // then stays failed.
  Status feed(std::string_view bytes, std::vector<alliance::rpc::v1::Frame>& out);

  // Bytes held for a frame that is not complete yet.
  std::size_t buffered() const;

 private:
  std::size_t max_frame_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

// The one place RPC status codes and alliance::Code meet.
Code from_proto(alliance::rpc::v1::StatusCode code);
alliance::rpc::v1::StatusCode to_proto(Code code);

}  // namespace alliance::net
