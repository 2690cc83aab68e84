#pragma once
// The frames a client sends over its WebSocket, read and checked before the gateway
// acts on them (Gateway::on_socket_frame). Pure; the fuzz target and the unit tests
// call it directly.
//
//   {"type":"ack","id":"<reminder id>"}        acknowledge a reminder
//   {"type":"auth","access_token":"<token>"}   a fresh access token for this socket
#include <optional>
#include <string>
#include <string_view>

namespace alliance::gateway {

inline constexpr std::size_t kMaxSocketFrameId = 64;

struct SocketFrame {
  enum class Kind { kAck, kAuth };
  Kind kind = Kind::kAck;
  std::string id;            // kAck: the reminder id, 1 to kMaxSocketFrameId bytes
  std::string access_token;  // kAuth: not empty (verified by the caller)
};

// A frame refused: the type of the error frame to answer with ("error", "ack.error" or
// "auth.error") and its message, which names the field ("id: required, a reminder id").
struct SocketFrameRefusal {
  std::string reply_type;
  std::string message;
};

struct ParsedSocketFrame {
  std::optional<SocketFrame> frame;  // set, or `refusal` says why not
  SocketFrameRefusal refusal;
};

ParsedSocketFrame parse_socket_frame(std::string_view text);

}  // namespace alliance::gateway
