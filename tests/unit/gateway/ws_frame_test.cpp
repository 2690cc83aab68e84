// The push frames' header is what RFC 6455 section 5.2 says, at every length boundary
// (the integration tests read whole pushes through a real WebSocket client).
#include <gtest/gtest.h>

#include <vector>

#include "src/ws_frame.hpp"

namespace alliance::gateway {
namespace {

std::vector<unsigned char> bytes(const FrameHeader& h) { return {h.bytes.begin(), h.bytes.begin() + h.size}; }

TEST(WsFrameHeader, SevenBitLengthsUpTo125) {
  EXPECT_EQ(bytes(text_frame_header(0)), (std::vector<unsigned char>{0x81, 0}));
  EXPECT_EQ(bytes(text_frame_header(1)), (std::vector<unsigned char>{0x81, 1}));
  EXPECT_EQ(bytes(text_frame_header(125)), (std::vector<unsigned char>{0x81, 125}));
}

TEST(WsFrameHeader, SixteenBitLengthsFrom126To65535) {
  EXPECT_EQ(bytes(text_frame_header(126)), (std::vector<unsigned char>{0x81, 126, 0x00, 0x7e}));
  EXPECT_EQ(bytes(text_frame_header(300)), (std::vector<unsigned char>{0x81, 126, 0x01, 0x2c}));
  EXPECT_EQ(bytes(text_frame_header(65535)), (std::vector<unsigned char>{0x81, 126, 0xff, 0xff}));
}

TEST(WsFrameHeader, SixtyFourBitLengthsFrom65536) {
  EXPECT_EQ(bytes(text_frame_header(65536)),
            (std::vector<unsigned char>{0x81, 127, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
  EXPECT_EQ(bytes(text_frame_header(0x0102030405060708ull)),
            (std::vector<unsigned char>{0x81, 127, 1, 2, 3, 4, 5, 6, 7, 8}));
}

}  // namespace
}  // namespace alliance::gateway
