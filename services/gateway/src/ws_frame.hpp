#pragma once
// The header of a WebSocket text frame as a server sends it (RFC 6455 section 5.2): FIN
// set, opcode 1 (text), not masked, the payload length in 7, 7+16 or 7+64 bits. The
// WebSocket session writes its pushes with it straight to the TLS stream.
#include <array>
#include <cstddef>
#include <cstdint>

namespace alliance::gateway {

struct FrameHeader {
  std::array<unsigned char, 10> bytes{};
  std::size_t size = 0;
};

inline FrameHeader text_frame_header(std::uint64_t payload_size) {
  FrameHeader h;
  h.bytes[0] = 0x81;  // FIN, text
  int length_bytes = 0;
  if (payload_size < 126) {
    h.bytes[1] = static_cast<unsigned char>(payload_size);
  } else if (payload_size <= 0xffff) {
    h.bytes[1] = 126;
    length_bytes = 2;
  } else {
    h.bytes[1] = 127;
    length_bytes = 8;
  }
  for (int i = 0; i < length_bytes; ++i)  // network byte order
    h.bytes[2 + i] = static_cast<unsigned char>(payload_size >> (8 * (length_bytes - 1 - i)));
  h.size = 2 + static_cast<std::size_t>(length_bytes);
  return h;
}

}  // namespace alliance::gateway
