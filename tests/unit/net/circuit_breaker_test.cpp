#include "alliance/net/circuit_breaker.hpp"

#include <gtest/gtest.h>

namespace alliance::net {
namespace {

using namespace std::chrono_literals;
using State = CircuitBreaker::State;

class Breaker : public ::testing::Test {
 protected:
  CircuitBreaker breaker_{CircuitBreaker::Options{3, 1000ms}};
  CircuitBreaker::Clock::time_point now_{};  // a clock the test moves by hand

  void fail(int times) {
    for (int i = 0; i < times; ++i) breaker_.on_failure(now_);
  }
};

TEST_F(Breaker, OpensAfterThresholdFailuresInARowAndRefusesUntilTheCoolDown) {
  fail(2);
  EXPECT_TRUE(breaker_.admit(now_).allowed);
  fail(1);
  EXPECT_EQ(breaker_.state(), State::kOpen);
  auto refused = breaker_.admit(now_);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 1000ms);
  now_ += 999ms;
  refused = breaker_.admit(now_);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 1ms);
  EXPECT_EQ(breaker_.times_opened(), 1u);
}

TEST_F(Breaker, ASuccessBetweenFailuresResetsTheCount) {
  fail(2);
  breaker_.on_success();
  fail(2);
  EXPECT_EQ(breaker_.state(), State::kClosed);
  EXPECT_TRUE(breaker_.admit(now_).allowed);
}

TEST_F(Breaker, AfterTheCoolDownOneProbeGoesAndASuccessCloses) {
  fail(3);
  now_ += 1000ms;
  auto probe = breaker_.admit(now_);
  EXPECT_TRUE(probe.allowed);
  EXPECT_TRUE(probe.probe);
  EXPECT_EQ(breaker_.state(), State::kHalfOpen);
  auto second = breaker_.admit(now_ + 10ms);
  EXPECT_FALSE(second.allowed) << "only one probe per cool-down";
  EXPECT_EQ(second.retry_after, 990ms);
  breaker_.on_success();
  EXPECT_EQ(breaker_.state(), State::kClosed);
  auto after = breaker_.admit(now_ + 10ms);
  EXPECT_TRUE(after.allowed);
  EXPECT_FALSE(after.probe);
}

TEST_F(Breaker, AFailedProbeOpensAgainForAWholeCoolDown) {
  fail(3);
  now_ += 1500ms;
  ASSERT_TRUE(breaker_.admit(now_).probe);
  now_ += 200ms;
  fail(1);
  EXPECT_EQ(breaker_.state(), State::kOpen);
  EXPECT_EQ(breaker_.admit(now_).retry_after, 1000ms);
  EXPECT_EQ(breaker_.times_opened(), 2u);
}

TEST_F(Breaker, AProbeThatNeverReportsDoesNotBlockForEver) {
  fail(3);
  now_ += 1000ms;
  ASSERT_TRUE(breaker_.admit(now_).probe);
  now_ += 1000ms;  // the probe's caller gave up without an outcome
  EXPECT_TRUE(breaker_.admit(now_).probe);
}

TEST_F(Breaker, FailuresWhileOpenDoNotPushTheProbeOut) {
  fail(3);
  now_ += 600ms;
  fail(5);  // the reconnect loop keeps failing meanwhile
  now_ += 400ms;
  EXPECT_TRUE(breaker_.admit(now_).allowed);
}

TEST(BreakerOptions, AThresholdBelowOneMeansOne) {
  CircuitBreaker breaker(CircuitBreaker::Options{0, 50ms});
  breaker.on_failure(CircuitBreaker::Clock::time_point{});
  EXPECT_EQ(breaker.state(), State::kOpen);
}

}  // namespace
}  // namespace alliance::net
