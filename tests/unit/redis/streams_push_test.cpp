// Streams (domain events through a consumer group) and the live push path, against a
// real redis-server.
#include <gtest/gtest.h>

#include <memory>

#include "alliance/push/v1/push.pb.h"
#include "alliance/redis/push.hpp"
#include "alliance/redis/streams.hpp"
#include "alliance/redis/subscriber.hpp"
#include "harness.hpp"

namespace alliance::redis::test {
namespace {

class StreamsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = std::make_unique<Client>(io_.get_executor(), options_for(server_));
    client_->start();
    ASSERT_TRUE(run(io_, client_->wait_connected(5s)));
  }

  alliance::testing::RedisServer server_;
  asio::io_context io_;
  std::unique_ptr<Client> client_;
};

TEST_F(StreamsTest, AddReadAckRoundTrip) {
  ASSERT_TRUE(run(io_, ensure_group(*client_, "events", "reminders")).ok());
  ASSERT_TRUE(run(io_, ensure_group(*client_, "events", "reminders")).ok()) << "existing group must be fine";

  std::string body("\x08\x01\x00\xff", 4);
  auto id1 = run(io_, xadd(*client_, "events", {{"type", "booked"}, {"body", body}}, 1000));
  ASSERT_TRUE(id1.ok()) << id1.error().message;
  auto id2 = run(io_, xadd(*client_, "events", {{"type", "cancelled"}}));
  ASSERT_TRUE(id2.ok());
  EXPECT_NE(*id1, *id2);

  auto read = run(io_, xreadgroup(*client_, "reminders", "worker-1", "events", 10, 100ms));
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].id, *id1);
  ASSERT_EQ((*read)[0].fields.size(), 2u);
  EXPECT_EQ((*read)[0].fields[0], std::make_pair(std::string("type"), std::string("booked")));
  EXPECT_EQ((*read)[0].fields[1].second, body);
  EXPECT_EQ((*read)[1].id, *id2);

  // Delivered but unacknowledged entries are pending until XACK.
  EXPECT_EQ(must(io_, *client_, {"XPENDING", "events", "reminders"}).elements.at(0).integer, 2);
  ASSERT_TRUE(run(io_, xack(*client_, "events", "reminders", *id1)).ok());
  ASSERT_TRUE(run(io_, xack(*client_, "events", "reminders", *id2)).ok());
  EXPECT_EQ(must(io_, *client_, {"XPENDING", "events", "reminders"}).elements.at(0).integer, 0);

  // Nothing new: the blocking read comes back empty after its block time.
  auto start = std::chrono::steady_clock::now();
  auto empty = run(io_, xreadgroup(*client_, "reminders", "worker-1", "events", 10, 150ms));
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_TRUE(empty->empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 140ms);
}

TEST_F(StreamsTest, BlockingReadLongerThanCommandTimeoutWakesOnNewEntry) {
  Options o = options_for(server_);
  o.command_timeout = 100ms;
  Client reader(io_.get_executor(), o);
  reader.start();
  ASSERT_TRUE(run(io_, reader.wait_connected(5s)));
  ASSERT_TRUE(run(io_, ensure_group(reader, "jobs", "g")).ok());

  std::optional<Result<std::vector<StreamEntry>>> got;
  spawn(io_, xreadgroup(reader, "g", "c", "jobs", 1, 2000ms),
        [&](Result<std::vector<StreamEntry>> r) { got.emplace(std::move(r)); });
  ASSERT_TRUE(pump_until(io_, [&] {
    return server_.cli({"CLIENT", "LIST"}).find("cmd=xreadgroup") != std::string::npos;
  }));
  pump_until(io_, [] { return false; }, 200ms);  // past command_timeout: the block time must count
  EXPECT_FALSE(got.has_value());
  ASSERT_TRUE(run(io_, xadd(*client_, "jobs", {{"k", "v"}})).ok());
  ASSERT_TRUE(pump_until(io_, [&] { return got.has_value(); }));
  ASSERT_TRUE(got->ok()) << got->error().message;
  ASSERT_EQ((*got)->size(), 1u);
  EXPECT_EQ((**got)[0].fields[0].second, "v");
}

TEST_F(StreamsTest, ReadingWithoutAGroupIsFailedPrecondition) {
  must(io_, *client_, {"XADD", "orphan", "*", "a", "b"});
  auto r = run(io_, xreadgroup(*client_, "nogroup", "c", "orphan", 1, 0ms));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kFailedPrecondition);
}

TEST_F(StreamsTest, PublishPushArrivesOnTheUsersChannelAsAPushFrame) {
  EXPECT_EQ(push_channel("u42"), "push:user:u42");
  std::vector<std::pair<std::string, std::string>> got;
  Subscriber sub(io_.get_executor(), options_for(server_),
                 [&](std::string_view c, std::string_view p) { got.emplace_back(std::string(c), std::string(p)); });
  sub.start();
  sub.subscribe(push_channel("u42"));
  ASSERT_TRUE(run(io_, sub.wait_subscribed(push_channel("u42"), 5s)));

  alliance::push::v1::PushFrame other;
  other.set_id("p0");
  ASSERT_TRUE(run(io_, publish_push(*client_, "someone-else", other)).ok());

  alliance::push::v1::Notice notice;
  notice.set_text("appointment at 10:00");
  const auto frame = push_frame("p1", "reminder.due", 1700000000123, notice);
  ASSERT_TRUE(run(io_, publish_push(*client_, "u42", frame)).ok());

  ASSERT_TRUE(pump_until(io_, [&] { return !got.empty(); }));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].first, "push:user:u42");
  // Byte for byte what every service publishes and every gateway parses: fields 1-4 in
  // order, the body an Any with the type URL clients unpack by.
  const std::string expected(
      "\x0a\x02p1\x12\x0creminder.due\x18\xfb\xd0\x95\xff\xbc" "1\x22" "E\x0a+type.googleapis.com/"
      "alliance.push.v1.Notice\x12\x16\x0a\x14" "appointment at 10:00",
      96);
  EXPECT_EQ(got[0].second, expected);
  alliance::push::v1::PushFrame parsed;
  ASSERT_TRUE(parsed.ParseFromString(got[0].second));
  alliance::push::v1::Notice parsed_notice;
  ASSERT_TRUE(parsed.body().UnpackTo(&parsed_notice));
  EXPECT_EQ(parsed_notice.text(), "appointment at 10:00");
}

TEST(PushFrameTest, AFrameWithoutABodyCarriesNoAny) {
  const auto frame = push_frame("p2", "session.ready", 5);
  EXPECT_FALSE(frame.has_body());
  EXPECT_EQ(frame.SerializeAsString(), std::string("\x0a\x02p2\x12\x0dsession.ready\x18\x05", 21));
}

}  // namespace
}  // namespace alliance::redis::test
