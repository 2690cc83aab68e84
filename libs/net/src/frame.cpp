#include "alliance/net/frame.hpp"

#include <cstdint>

namespace alliance::net {

namespace pb = alliance::rpc::v1;

std::string encode_frame(const pb::Frame& frame) {
  const std::size_t size = frame.ByteSizeLong();
  std::string out(kFrameHeaderSize + size, '\0');
  out[0] = static_cast<char>((size >> 24) & 0xff);
  out[1] = static_cast<char>((size >> 16) & 0xff);
  out[2] = static_cast<char>((size >> 8) & 0xff);
  out[3] = static_cast<char>(size & 0xff);
  frame.SerializeWithCachedSizesToArray(reinterpret_cast<std::uint8_t*>(out.data() + kFrameHeaderSize));
  return out;
}

FrameDecoder::FrameDecoder(std::size_t max_frame) : max_frame_(max_frame) {}

std::size_t FrameDecoder::buffered() const { return buf_.size() - pos_; }

Status FrameDecoder::feed(std::string_view bytes, std::vector<pb::Frame>& out) {
  if (failed_) return make_error(Code::kInvalidArgument, "malformed frame");
  buf_.append(bytes.data(), bytes.size());
  Status status;
  while (buf_.size() - pos_ >= kFrameHeaderSize) {
    const auto* p = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
    const std::size_t len = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                            (std::size_t{p[2]} << 8) | std::size_t{p[3]};
    // Checked before waiting for the body, so a hostile prefix never makes us buffer it.
    if (len > max_frame_) {
      status = make_error(Code::kInvalidArgument, "frame too large: " + std::to_string(len) + " bytes");
      failed_ = true;
      break;
    }
    if (buf_.size() - pos_ - kFrameHeaderSize < len) break;
    pb::Frame frame;
    if (!frame.ParseFromArray(buf_.data() + pos_ + kFrameHeaderSize, static_cast<int>(len))) {
      status = make_error(Code::kInvalidArgument, "malformed frame");
      failed_ = true;
      break;
    }
    out.push_back(std::move(frame));
    pos_ += kFrameHeaderSize + len;
  }
  if (failed_) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 64 * 1024 && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return status;
}

Code from_proto(pb::StatusCode code) {
  switch (code) {
    case pb::OK: return Code::kOk;
    case pb::INVALID_ARGUMENT: return Code::kInvalidArgument;
    case pb::NOT_FOUND: return Code::kNotFound;
    case pb::ALREADY_EXISTS: return Code::kAlreadyExists;
    case pb::FAILED_PRECONDITION: return Code::kFailedPrecondition;
    case pb::PERMISSION_DENIED: return Code::kPermissionDenied;
    case pb::UNAUTHENTICATED: return Code::kUnauthenticated;
    case pb::RESOURCE_EXHAUSTED: return Code::kResourceExhausted;
    case pb::UNAVAILABLE: return Code::kUnavailable;
    case pb::INTERNAL: return Code::kInternal;
    case pb::DEADLINE_EXCEEDED: return Code::kDeadlineExceeded;
    default: return Code::kInternal;  // a newer peer's code we do not know
  }
}

pb::StatusCode to_proto(Code code) {
  switch (code) {
    case Code::kOk: return pb::OK;
    case Code::kInvalidArgument: return pb::INVALID_ARGUMENT;
    case Code::kNotFound: return pb::NOT_FOUND;
    case Code::kAlreadyExists: return pb::ALREADY_EXISTS;
    case Code::kFailedPrecondition: return pb::FAILED_PRECONDITION;
    case Code::kPermissionDenied: return pb::PERMISSION_DENIED;
    case Code::kUnauthenticated: return pb::UNAUTHENTICATED;
    case Code::kResourceExhausted: return pb::RESOURCE_EXHAUSTED;
    case Code::kUnavailable: return pb::UNAVAILABLE;
    case Code::kInternal: return pb::INTERNAL;
    case Code::kDeadlineExceeded: return pb::DEADLINE_EXCEEDED;
  }
  return pb::INTERNAL;
}

}  // namespace alliance::net
