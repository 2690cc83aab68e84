#include "socket_frames.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace alliance::gateway {
namespace {

ParsedSocketFrame refused(std::string reply_type, std::string message) {
  return ParsedSocketFrame{std::nullopt, SocketFrameRefusal{std::move(reply_type), std::move(message)}};
}

}  // namespace

ParsedSocketFrame parse_socket_frame(std::string_view text) {
  boost::json::error_code ec;
  auto parsed = boost::json::parse(text, ec);
  const auto* frame = !ec ? parsed.if_object() : nullptr;
  if (!frame) return refused("error", "frame: expected a JSON object");
  const auto* type = frame->if_contains("type");
  if (!type || !type->is_string()) return refused("error", "type: required, a string");
  if (type->as_string() == "auth") {
    const auto* token = frame->if_contains("access_token");
    if (!token || !token->is_string() || token->as_string().empty())
      return refused("auth.error", "access_token: required, a string");
    SocketFrame out;
    out.kind = SocketFrame::Kind::kAuth;
    out.access_token = std::string(token->as_string());
    return ParsedSocketFrame{std::move(out), {}};
  }
  if (type->as_string() != "ack") return refused("error", "type: unknown frame type (known: \"ack\", \"auth\")");
  const auto* id = frame->if_contains("id");
  if (!id || !id->is_string() || id->as_string().empty() || id->as_string().size() > kMaxSocketFrameId)
    return refused("ack.error", "id: required, a reminder id");
  SocketFrame out;
  out.id = std::string(id->as_string());
  return ParsedSocketFrame{std::move(out), {}};
}

}  // namespace alliance::gateway
