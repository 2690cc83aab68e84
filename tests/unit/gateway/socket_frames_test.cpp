#include "src/socket_frames.hpp"

#include <gtest/gtest.h>

namespace alliance::gateway {
namespace {

TEST(SocketFrames, AckAndAuthAreRead) {
  auto ack = parse_socket_frame(R"({"type":"ack","id":"rem-1"})");
  ASSERT_TRUE(ack.frame);
  EXPECT_EQ(ack.frame->kind, SocketFrame::Kind::kAck);
  EXPECT_EQ(ack.frame->id, "rem-1");
  auto auth = parse_socket_frame(R"({"type":"auth","access_token":"t.o.k"})");
  ASSERT_TRUE(auth.frame);
  EXPECT_EQ(auth.frame->kind, SocketFrame::Kind::kAuth);
  EXPECT_EQ(auth.frame->access_token, "t.o.k");
}

TEST(SocketFrames, EachRefusalSaysWhichFieldAndAnswersWithTheRightType) {
  struct Case {
    const char* text;
    const char* reply_type;
    const char* message;
  };
  for (const Case& c : {Case{"not json", "error", "frame: expected a JSON object"},
                        Case{"[1]", "error", "frame: expected a JSON object"},
                        Case{R"({"id":"x"})", "error", "type: required, a string"},
                        Case{R"({"type":"subscribe"})", "error", R"(type: unknown frame type (known: "ack", "auth"))"},
                        Case{R"({"type":"ack"})", "ack.error", "id: required, a reminder id"},
                        Case{R"({"type":"ack","id":""})", "ack.error", "id: required, a reminder id"},
                        Case{R"({"type":"ack","id":7})", "ack.error", "id: required, a reminder id"},
                        Case{R"({"type":"auth","access_token":""})", "auth.error", "access_token: required, a string"},
                        Case{R"({"type":"auth"})", "auth.error", "access_token: required, a string"}}) {
    auto parsed = parse_socket_frame(c.text);
    EXPECT_FALSE(parsed.frame) << c.text;
    EXPECT_EQ(parsed.refusal.reply_type, c.reply_type) << c.text;
    EXPECT_EQ(parsed.refusal.message, c.message) << c.text;
  }
  EXPECT_FALSE(parse_socket_frame(R"({"type":"ack","id":")" + std::string(kMaxSocketFrameId + 1, 'a') + "\"}").frame);
  EXPECT_TRUE(parse_socket_frame(R"({"type":"ack","id":")" + std::string(kMaxSocketFrameId, 'a') + "\"}").frame);
}

}  // namespace
}  // namespace alliance::gateway
