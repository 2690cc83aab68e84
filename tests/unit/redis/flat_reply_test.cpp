// The in-place reader of a subscribed connection's replies: every reply shape a pub/sub
// connection sees, fed whole and one byte at a time (incomplete at every cut, never
// wrong), and hostile input refused with a reason instead of read past or waited on forever.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "src/flat_reply.hpp"

namespace alliance::redis::detail {
namespace {

using Status = FlatParse::Status;

// Parses `wire` fed one byte more at a time: every proper prefix is incomplete, and the
// whole is complete and uses exactly its bytes.
FlatReply parse_whole(std::string_view wire) {
  FlatReply out;
  for (std::size_t n = 0; n < wire.size(); ++n) {
    auto p = parse_flat_reply(wire.substr(0, n), out);
    EXPECT_EQ(p.status, Status::kIncomplete) << "prefix of " << n << " bytes";
  }
  auto p = parse_flat_reply(wire, out);
  EXPECT_EQ(p.status, Status::kComplete) << p.why;
  EXPECT_EQ(p.used, wire.size());
  return out;
}

TEST(FlatReply, MessageGivesViewsIntoTheBuffer) {
  const std::string payload("bin\0ary\r\n*1\r\n", 13);
  const std::string wire = "*3\r\n$7\r\nmessage\r\n$14\r\npush:user:abcd\r\n$13\r\n" + payload + "\r\n";
  auto r = parse_whole(wire);
  ASSERT_EQ(r.value.type, Reply::Type::kArray);
  ASSERT_EQ(r.count, 3u);
  EXPECT_EQ(r.str(0), "message");
  EXPECT_EQ(r.str(1), "push:user:abcd");
  EXPECT_EQ(r.str(2), payload);
  EXPECT_GE(r.str(2).data(), wire.data());  // a view, not a copy
  EXPECT_LT(r.str(2).data(), wire.data() + wire.size());
}

TEST(FlatReply, SubscribeConfirmationStatusErrorIntegerNil) {
  auto sub = parse_whole("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:12\r\n");
  ASSERT_EQ(sub.count, 3u);
  EXPECT_EQ(sub.elements[2].type, Reply::Type::kInteger);
  EXPECT_EQ(sub.elements[2].integer, 12);
  EXPECT_EQ(parse_whole("+OK\r\n").value.str, "OK");
  EXPECT_EQ(parse_whole("+OK\r\n").value.type, Reply::Type::kStatus);
  auto err = parse_whole("-NOPERM no permissions\r\n");
  EXPECT_EQ(err.value.type, Reply::Type::kError);
  EXPECT_EQ(err.value.str, "NOPERM no permissions");
  EXPECT_EQ(parse_whole(":-5\r\n").value.integer, -5);
  EXPECT_EQ(parse_whole("$-1\r\n").value.type, Reply::Type::kNil);
  EXPECT_EQ(parse_whole("*-1\r\n").value.type, Reply::Type::kNil);
  EXPECT_EQ(parse_whole("*0\r\n").count, 0u);
  EXPECT_EQ(parse_whole("$0\r\n\r\n").value.type, Reply::Type::kString);
}

TEST(FlatReply, TwoRepliesBackToBackUseOnlyTheFirst) {
  FlatReply out;
  std::string wire = "+OK\r\n*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\np\r\n";
  auto p = parse_flat_reply(wire, out);
  ASSERT_EQ(p.status, Status::kComplete);
  EXPECT_EQ(p.used, 5u);
  p = parse_flat_reply(std::string_view(wire).substr(p.used), out);
  ASSERT_EQ(p.status, Status::kComplete);
  EXPECT_EQ(out.str(2), "p");
}

TEST(FlatReply, HostileInputIsRefusedWithAReason) {
  for (std::string_view bad : {
           "*1\r\n*1\r\n:1\r\n",           // nested array
           "*5\r\n",                        // longer than any pub/sub reply
           "*x\r\n",                        // malformed array length
           "*-2\r\n",                       // negative array length
           "$-2\r\n",                       // negative bulk length
           "$12x\r\n",                      // malformed bulk length
           "$999999999999\r\n",             // over Redis's bulk limit
           "$3\r\nabcXY",                   // bulk not followed by CRLF
           ":1.5\r\n",                      // malformed integer
           ":\r\n",                         // empty integer
           "+OK\rX",                        // CR without LF
           "!3\r\nabc\r\n",                 // not RESP2
       }) {
    FlatReply out;
    auto p = parse_flat_reply(bad, out);
    EXPECT_EQ(p.status, Status::kInvalid) << bad;
    EXPECT_NE(std::string_view(p.why), "") << bad;
  }
  // A line that never ends is refused once it is longer than 64 KiB, not waited on forever.
  FlatReply out;
  std::string endless = "+" + std::string(70 * 1024, 'a');
  EXPECT_EQ(parse_flat_reply(endless, out).status, Status::kInvalid);
  EXPECT_EQ(parse_flat_reply(endless.substr(0, 1000), out).status, Status::kIncomplete);
}

TEST(FlatReply, ToReplyOwnsACopy) {
  FlatReply flat;
  std::string wire = "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n";
  ASSERT_EQ(parse_flat_reply(wire, flat).status, Status::kComplete);
  Reply r = to_reply(flat);
  wire.assign(wire.size(), '?');
  ASSERT_EQ(r.elements.size(), 3u);
  EXPECT_EQ(r.elements[0].str, "subscribe");
  EXPECT_EQ(r.elements[2].integer, 1);
}

}  // namespace
}  // namespace alliance::redis::detail
