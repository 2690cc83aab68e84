// The RPC frame codec, with no sockets: a peer's bytes can arrive split anywhere,
// and hostile bytes must be rejected before we buffer them.
#include <gtest/gtest.h>

#include "alliance/net/frame.hpp"

namespace alliance::net {
namespace {

namespace pb = alliance::rpc::v1;

std::vector<pb::Frame> sample_frames() {
  std::vector<pb::Frame> frames;
  pb::Frame request;
  request.set_call_id(1);
  request.set_method("alliance.identity.v1.Identity/Login");
  request.set_timeout_ms(2000);
  request.mutable_caller()->set_user_id("u-1");
  request.mutable_caller()->set_practice_id("p-1");
  request.set_payload(std::string("\x00\x01\x02payload", 10));
  frames.push_back(request);

  frames.emplace_back();  // an all-default frame serializes to zero bytes

  pb::Frame error;
  error.set_call_id(7);
  error.set_status(pb::RESOURCE_EXHAUSTED);
  error.set_error_message("slow down");
  error.set_error_field("start_time");
  error.set_retry_after_ms(1500);
  frames.push_back(error);

  pb::Frame big;
  big.set_call_id(0xFFFFFFFFFFull);
  big.set_payload(std::string(70'000, 'x'));
  frames.push_back(big);
  return frames;
}

std::string encode_all(const std::vector<pb::Frame>& frames) {
  std::string out;
  for (auto& f : frames) out += encode_frame(f);
  return out;
}

void expect_same(const std::vector<pb::Frame>& want, const std::vector<pb::Frame>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(want[i].SerializeAsString(), got[i].SerializeAsString()) << "frame " << i;
}

TEST(FrameCodec, PrefixIsBigEndianLength) {
  pb::Frame f;
  f.set_method("m");
  std::string bytes = encode_frame(f);
  ASSERT_EQ(bytes.size(), 4 + f.ByteSizeLong());
  EXPECT_EQ(bytes.substr(0, 4), std::string("\x00\x00\x00\x03", 4));
}

TEST(FrameCodec, StreamFedOneByteAtATimeDecodesIdentically) {
  auto frames = sample_frames();
  std::string wire = encode_all(frames);

  FrameDecoder whole;
  std::vector<pb::Frame> at_once;
  ASSERT_TRUE(whole.feed(wire, at_once).ok());
  expect_same(frames, at_once);
  EXPECT_EQ(whole.buffered(), 0u);

  FrameDecoder bytewise;
  std::vector<pb::Frame> one_by_one;
  for (char c : wire) ASSERT_TRUE(bytewise.feed(std::string_view(&c, 1), one_by_one).ok());
  expect_same(frames, one_by_one);
  EXPECT_EQ(bytewise.buffered(), 0u);
}

TEST(FrameCodec, EveryTruncationWaitsWithoutFrameOrError) {
  auto frames = sample_frames();
  std::string wire = encode_frame(frames[0]);
  for (size_t cut = 0; cut < wire.size(); ++cut) {
    FrameDecoder decoder;
    std::vector<pb::Frame> out;
    Status st = decoder.feed(std::string_view(wire).substr(0, cut), out);
    ASSERT_TRUE(st.ok()) << "cut at " << cut << ": " << st.error().message;
    EXPECT_TRUE(out.empty()) << "cut at " << cut;
    EXPECT_EQ(decoder.buffered(), cut);
    // The rest completes it.
    ASSERT_TRUE(decoder.feed(std::string_view(wire).substr(cut), out).ok());
    ASSERT_EQ(out.size(), 1u) << "cut at " << cut;
    EXPECT_EQ(out[0].method(), frames[0].method());
  }
}

TEST(FrameCodec, OversizedLengthPrefixFailsBeforeTheBodyArrives) {
  FrameDecoder decoder(1024);
  std::vector<pb::Frame> out;
  Status st = decoder.feed(std::string("\x00\x00\x04\x01", 4), out);  // 1025
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "frame too large: 1025 bytes");
  EXPECT_TRUE(out.empty());
  // Failed for good: the connection must be closed.
  EXPECT_FALSE(decoder.feed(encode_frame(pb::Frame()), out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(FrameCodec, FrameAtTheLimitIsAccepted) {
  pb::Frame f;
  f.set_payload(std::string(100, 'a'));
  std::string wire = encode_frame(f);
  FrameDecoder decoder(wire.size() - 4);
  std::vector<pb::Frame> out;
  ASSERT_TRUE(decoder.feed(wire, out).ok());
  ASSERT_EQ(out.size(), 1u);
}

TEST(FrameCodec, HugePrefixFromGarbageIsRejected) {
  FrameDecoder decoder;
  std::vector<pb::Frame> out;
  Status st = decoder.feed("GET / HTTP/1.1\r\n", out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "frame too large: 1195725856 bytes");
}

TEST(FrameCodec, GarbagePayloadIsMalformed) {
  FrameDecoder decoder;
  std::vector<pb::Frame> out;
  // Two good frames, then a body that is not a protobuf Frame (field 0 / wire type 7).
  std::string wire = encode_frame(sample_frames()[0]) + encode_frame(sample_frames()[2]) +
                     std::string("\x00\x00\x00\x04\xff\xff\xff\xff", 8);
  Status st = decoder.feed(wire, out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "malformed frame");
  EXPECT_EQ(out.size(), 2u);  // frames before the bad one were complete and valid
}

TEST(FrameCodec, StatusCodesMapBothWays) {
  for (int i = 0; i <= static_cast<int>(Code::kDeadlineExceeded); ++i) {
    Code c = static_cast<Code>(i);
    EXPECT_EQ(from_proto(to_proto(c)), c) << code_name(c);
    EXPECT_EQ(static_cast<int>(to_proto(c)), i);  // the enums agree numerically
  }
  EXPECT_EQ(from_proto(static_cast<pb::StatusCode>(99)), Code::kInternal);
}

}  // namespace
}  // namespace alliance::net
