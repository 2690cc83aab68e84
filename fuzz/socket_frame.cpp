// The frames a client sends over its WebSocket (the gateway reads them as JSON before
// acting). Must hold: a frame is either read, with its fields within bounds, or refused
// with an error frame type the client knows and a message naming the field.
#include <cstdlib>
#include <string_view>

#include "socket_frames.hpp"

using alliance::gateway::SocketFrame;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = alliance::gateway::parse_socket_frame(text);
  if (parsed.frame) {
    const auto& f = *parsed.frame;
    if (f.kind == SocketFrame::Kind::kAck && (f.id.empty() || f.id.size() > alliance::gateway::kMaxSocketFrameId))
      std::abort();
    if (f.kind == SocketFrame::Kind::kAuth && f.access_token.empty()) std::abort();
    return 0;
  }
  const auto& type = parsed.refusal.reply_type;
  if (type != "error" && type != "ack.error" && type != "auth.error") std::abort();
  if (parsed.refusal.message.find(": ") == std::string::npos) std::abort();
  return 0;
}
