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

}  // namespace
}  // namespace alliance::redis::test
