// Timeouts at the public port, on a gateway configured with short limits:
// slow clients are cut off, idle sockets are closed, live ones are kept.
#include <gtest/gtest.h>

#include <thread>

#include "system.hpp"

namespace alliance::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class Timeouts : public ::testing::Test {
 protected:
  void SetUp() override {
    sys_ = std::make_unique<System>();
    sys_->create_practice("lakeside");
    sys_->create_user("lakeside", "kai@example.org", "client");
    GatewayFlags quick;
    quick.flags = {{"read_timeout", "1s"}, {"ws_idle_timeout", "1s"}, {"ws_ping_interval", "250ms"}};
    sys_->start_gateway(quick);
  }
  std::unique_ptr<System> sys_;
};

TEST_F(Timeouts, SlowClientIsCutOffWhileOthersAreServed) {
  client::HttpsClient slow(sys_->endpoint(1));
  auto t0 = Clock::now();
  // Half a request: the body never arrives.
  auto partial = slow.raw("POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{", 8s);
  auto waited = Clock::now() - t0;
  ASSERT_FALSE(partial);
  EXPECT_NE(partial.error().code, Code::kDeadlineExceeded) << "the server should have closed first";
  EXPECT_LT(waited, 4s);
  EXPECT_GE(waited, 900ms);
  client::HttpsClient other(sys_->endpoint(1));
  auto r = other.request("GET", "/healthz", {}, {}, 2s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(Timeouts, IdleSocketIsClosedButAnsweringPingsKeepsItOpen) {
  auto quiet = sys_->login("lakeside", "kai@example.org", 1);
  auto live = sys_->login("lakeside", "kai@example.org", 1);
  auto quiet_socket = quiet->open_push_socket();
  auto live_socket = live->open_push_socket();
  ASSERT_TRUE(quiet_socket && live_socket);

  // The live client keeps reading (so it answers pings) for 2.5 idle periods;
  // the quiet one does nothing at all meanwhile.
  auto until = Clock::now() + 2500ms;
  while (Clock::now() < until) (*live_socket)->read_text(100ms);
  EXPECT_FALSE((*live_socket)->closed());

  ASSERT_TRUE((*quiet_socket)->wait_closed(2s));
  EXPECT_EQ((*quiet_socket)->close_code(), 4408);
}

}  // namespace
}  // namespace alliance::testing
