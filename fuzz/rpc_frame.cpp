// The RPC frame decoder (length-prefixed protobuf frames between services) fed the input
// in fuzzer-chosen pieces. Must hold: it never buffers more than one frame's limit plus
// a header, and once it refused the stream it keeps refusing.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "alliance/net/frame.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kMaxFrame = 4096;
  FuzzedDataProvider in(data, size);
  alliance::net::FrameDecoder decoder(kMaxFrame);
  std::vector<alliance::rpc::v1::Frame> frames;
  bool refused = false;
  while (in.remaining_bytes() > 0) {
    const std::string piece = in.ConsumeRandomLengthString(512);
    const auto status = decoder.feed(piece, frames);
    if (refused && status) std::abort();
    refused = !status;
    if (!refused && decoder.buffered() > kMaxFrame + alliance::net::kFrameHeaderSize) std::abort();
    if (piece.empty()) break;
  }
  for (const auto& f : frames) {
    std::string again;
    if (!f.SerializeToString(&again)) std::abort();
  }
  return 0;
}
