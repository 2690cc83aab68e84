// Subscriber against a real redis-server: delivery only on subscribed channels, unsubscribe,
// and automatic resubscription (with on_reconnect) after Redis restarts.
#include <gtest/gtest.h>

#include <memory>
#include <utility>
#include <vector>

#include "alliance/redis/subscriber.hpp"
#include "harness.hpp"

namespace alliance::redis::test {
namespace {

class SubscriberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    publisher_ = std::make_unique<Client>(io_.get_executor(), options_for(server_));
    publisher_->start();
    ASSERT_TRUE(run(io_, publisher_->wait_connected(5s)));
    subscriber_ = std::make_unique<Subscriber>(
        io_.get_executor(), options_for(server_),
        [this](std::string_view channel, std::string_view payload) {
          received_.emplace_back(std::string(channel), std::string(payload));
        },
        [this] { ++reconnects_; });
    subscriber_->start();
  }

  long long publish(const std::string& channel, const std::string& payload) {
    return must(io_, *publisher_, {"PUBLISH", channel, payload}).integer;
  }

  bool received(const std::string& channel, const std::string& payload) const {
    for (auto& [c, p] : received_)
      if (c == channel && p == payload) return true;
    return false;
  }

  alliance::testing::RedisServer server_;
  asio::io_context io_;
  std::unique_ptr<Client> publisher_;
  std::unique_ptr<Subscriber> subscriber_;
  std::vector<std::pair<std::string, std::string>> received_;
  int reconnects_ = 0;
};

TEST_F(SubscriberTest, MessageArrivesOnSubscribedChannelOnly) {
  subscriber_->subscribe("room:a");
  subscriber_->subscribe("room:a");  // idempotent
  EXPECT_EQ(subscriber_->subscription_count(), 1u);
  ASSERT_TRUE(run(io_, subscriber_->wait_subscribed("room:a", 5s)));
  EXPECT_TRUE(subscriber_->connected());

  EXPECT_EQ(publish("room:b", "not for us"), 0);
  std::string binary("hi\0there", 8);
  EXPECT_EQ(publish("room:a", binary), 1);
  ASSERT_TRUE(pump_until(io_, [&] { return !received_.empty(); }));
  ASSERT_EQ(received_.size(), 1u);
  EXPECT_EQ(received_[0].first, "room:a");
  EXPECT_EQ(received_[0].second, binary);
  EXPECT_EQ(reconnects_, 0);  // the first connect is not a reconnect
}

TEST_F(SubscriberTest, WaitSubscribedIsFalseForAChannelNeverSubscribed) {
  subscriber_->subscribe("x");
  ASSERT_TRUE(run(io_, subscriber_->wait_subscribed("x", 5s)));
  EXPECT_FALSE(run(io_, subscriber_->wait_subscribed("y", 100ms)));
}

TEST_F(SubscriberTest, UnsubscribeStopsDelivery) {
  subscriber_->subscribe("a");
  subscriber_->subscribe("c");
  ASSERT_TRUE(run(io_, subscriber_->wait_subscribed("a", 5s)));
  ASSERT_TRUE(run(io_, subscriber_->wait_subscribed("c", 5s)));
  subscriber_->unsubscribe("a");
  EXPECT_EQ(subscriber_->subscription_count(), 1u);
  publish("a", "after unsubscribe");
  publish("c", "marker");
  ASSERT_TRUE(pump_until(io_, [&] { return received("c", "marker"); }));
  EXPECT_FALSE(received("a", "after unsubscribe"));
  // Redis itself dropped the subscription, too.
  ASSERT_TRUE(pump_until(io_, [&] { return publish("a", "probe") == 0; }));
}

TEST_F(SubscriberTest, ResubscribesAfterRedisRestartAndCallsOnReconnect) {
  subscriber_->subscribe("events");
  ASSERT_TRUE(run(io_, subscriber_->wait_subscribed("events", 5s)));
  server_.restart();  // same port, empty server, every connection dropped

  ASSERT_TRUE(pump_until(io_, [&] { return reconnects_ == 1; }, 5s)) << "on_reconnect never fired";
  ASSERT_TRUE(run(io_, subscriber_->wait_subscribed("events", 5s)));
  // The publisher reconnects on its own as well; retry until its command goes through.
  ASSERT_TRUE(pump_until(io_, [&] {
    auto r = run(io_, publisher_->command({"PUBLISH", "events", "after restart"}));
    return r.ok() && r->integer == 1;
  }, 5s));
  ASSERT_TRUE(pump_until(io_, [&] { return received("events", "after restart"); }));
  EXPECT_EQ(reconnects_, 1);
}

TEST_F(SubscriberTest, StopDeliversNothingMoreAndDestroyIsClean) {
  subscriber_->subscribe("s");
  ASSERT_TRUE(run(io_, subscriber_->wait_subscribed("s", 5s)));
  subscriber_->stop();
  EXPECT_FALSE(subscriber_->connected());
  EXPECT_EQ(publish("s", "after stop"), 0);
  pump_until(io_, [] { return false; }, 50ms);
  EXPECT_TRUE(received_.empty());
  // Start again: the remembered subscription comes back.
  subscriber_->start();
  ASSERT_TRUE(run(io_, subscriber_->wait_subscribed("s", 5s)));
  EXPECT_EQ(publish("s", "back"), 1);
  ASSERT_TRUE(pump_until(io_, [&] { return received("s", "back"); }));
  subscriber_.reset();
  pump_until(io_, [] { return false; }, 20ms);
}

// A subscribed connection reads replies in place from its own buffer: many messages in
// one read, payloads holding CRLF and RESP-looking bytes, and one far larger than a read
// (the buffer grows for it and the messages after it still arrive, in order).
TEST_F(SubscriberTest, PipelinedAndLargeMessagesArriveWholeAndInOrder) {
  subscriber_->subscribe("bulk");
  ASSERT_TRUE(run(io_, subscriber_->wait_subscribed("bulk", 5s)));
  std::vector<std::vector<std::string>> publishes;
  std::vector<std::string> sent;
  for (int i = 0; i < 300; ++i) {
    std::string payload = "m" + std::to_string(i) + "\r\n*3\r\n$7\r\nmessage\r\n";
    if (i == 150) payload.append(200 * 1024, 'x');  // > the 16 KiB read chunk
    if (i == 151) payload.clear();                  // an empty payload is a message too
    publishes.push_back({"PUBLISH", "bulk", payload});
    sent.push_back(std::move(payload));
  }
  auto r = run(io_, publisher_->pipeline(publishes));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(pump_until(io_, [&] { return received_.size() == sent.size(); }, 10s)) << received_.size();
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(received_[i].first, "bulk");
    EXPECT_EQ(received_[i].second, sent[i]) << "message " << i;
  }
  // Still subscribed and reading afterwards.
  EXPECT_EQ(publish("bulk", "after"), 1);
  ASSERT_TRUE(pump_until(io_, [&] { return received("bulk", "after"); }));
}

// The handler runs inline while the rest of the read waits in the buffer: destroying the
// subscriber from it ends delivery at once, cleanly.
TEST_F(SubscriberTest, HandlerMayDestroyTheSubscriberMidRead) {
  int calls = 0;
  subscriber_ = std::make_unique<Subscriber>(io_.get_executor(), options_for(server_),
                                             [this, &calls](std::string_view, std::string_view) {
                                               ++calls;
                                               subscriber_.reset();
                                             });
  subscriber_->start();
  subscriber_->subscribe("d");
  ASSERT_TRUE(run(io_, subscriber_->wait_subscribed("d", 5s)));
  std::vector<std::vector<std::string>> publishes(20, std::vector<std::string>{"PUBLISH", "d", "x"});
  ASSERT_TRUE(run(io_, publisher_->pipeline(publishes)).ok());
  ASSERT_TRUE(pump_until(io_, [&] { return calls > 0; }));
  pump_until(io_, [] { return false; }, 50ms);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(subscriber_);
}

// Unsubscribing from the handler while Redis has already sent more messages on that
// channel: the subscriber drops them by default; with Filter::kHandler it skips that
// lookup and hands them on, for a handler that checks the channel itself (the gateway's).
TEST_F(SubscriberTest, MessagesSentBeforeAnUnsubscribeAreDroppedUnlessTheHandlerFilters) {
  for (auto filter : {Subscriber::Filter::kSubscriber, Subscriber::Filter::kHandler}) {
    int calls = 0;
    subscriber_ = std::make_unique<Subscriber>(
        io_.get_executor(), options_for(server_),
        [this, &calls](std::string_view channel, std::string_view) {
          if (++calls == 1) subscriber_->unsubscribe(std::string(channel));
        },
        std::function<void()>{}, filter);
    subscriber_->start();
    subscriber_->subscribe("late");
    ASSERT_TRUE(run(io_, subscriber_->wait_subscribed("late", 5s)));
    // One pipeline: Redis sends all 20 before it can read the UNSUBSCRIBE the first one causes.
    std::vector<std::vector<std::string>> publishes(20, std::vector<std::string>{"PUBLISH", "late", "x"});
    ASSERT_TRUE(run(io_, publisher_->pipeline(publishes)).ok());
    const int expected = filter == Subscriber::Filter::kHandler ? 20 : 1;
    pump_until(io_, [&] { return calls >= expected; });
    pump_until(io_, [] { return false; }, 50ms);
    EXPECT_EQ(calls, expected) << (filter == Subscriber::Filter::kHandler ? "kHandler" : "kSubscriber");
    subscriber_.reset();
  }
}

}  // namespace
}  // namespace alliance::redis::test
