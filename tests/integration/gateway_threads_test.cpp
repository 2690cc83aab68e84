// A gateway running two I/O threads (config threads = 2) serves as one: requests are
// answered on both threads, pushes reach sockets held by either thread, the per-user
// cap counts a user's sockets whichever thread accepted them, and a revoked session is
// refused by every thread and its sockets close wherever they are (a sign-out through
// the gateway at once, without waiting for identity's broadcast over Redis).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "operator_metrics.hpp"
#include "system.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Socket = std::unique_ptr<client::WebSocket>;

constexpr std::size_t kThreaded = 1;  // the gateway this suite starts with two threads

long long metric(System& sys, std::string_view series) { return metric_value(sys, series, kThreaded); }

long long thread_requests(System& sys, int thread) {
  return metric(sys, "alliance_thread_http_requests_total{thread=\"" + std::to_string(thread) + "\"}");
}
long long thread_sockets(System& sys, int thread) {
  return metric(sys, "alliance_thread_ws_open_sockets{thread=\"" + std::to_string(thread) + "\"}");
}

class GatewayThreads : public ::testing::Test {
 protected:
  void SetUp() override {
    sys_ = std::make_unique<System>();
    sys_->create_practice("riverside");
    GatewayFlags flags;
    flags.flags = {{"threads", "2"}, {"ws_max_per_user", "2"}};
    sys_->start_gateway(flags);
  }

  // Status of GET /v1/me with `token` on a new connection (the kernel picks the thread).
  int me_on_new_connection(const std::string& token) {
    client::HttpsClient http(sys_->endpoint(kThreaded));
    auto r = http.request("GET", "/v1/me", {}, token, 5s);
    return r ? r->status : -1;
  }

  struct Online {
    std::string user_id;
    std::unique_ptr<client::AllianceClient> client;
    Socket socket;
  };
  // Clients with a push socket each, until both threads hold sockets and some upgrade was
  // accepted on the thread that is not its user's (a user's home thread follows from their
  // id, the accepting thread from the connection's ports: each is a coin toss per socket).
  bool spread_over_both_threads() {
    return thread_sockets(*sys_, 0) >= 1 && thread_sockets(*sys_, 1) >= 1 &&
           metric(*sys_, "alliance_ws_handed_over_total") >= 1;
  }
  std::vector<Online> online_on_both_threads() {
    std::vector<Online> users;
    for (int i = 0; i < 32 && (users.size() < 2 || !spread_over_both_threads()); ++i) {
      auto email = "user" + std::to_string(i) + "@example.org";
      Online u;
      u.user_id = sys_->create_user("riverside", email, "client");
      u.client = sys_->login("riverside", email, kThreaded);
      auto socket = u.client->open_push_socket();
      EXPECT_TRUE(socket) << socket.error().message;
      if (!socket) break;
      u.socket = std::move(*socket);
      users.push_back(std::move(u));
    }
    EXPECT_TRUE(spread_over_both_threads());
    return users;
  }

  std::unique_ptr<System> sys_;
};

TEST_F(GatewayThreads, RequestsAreAnsweredOnBothThreads) {
  sys_->create_user("riverside", "ana@example.org", "client");
  auto ana = sys_->login("riverside", "ana@example.org", kThreaded);
  for (int i = 0; i < 40; ++i) ASSERT_EQ(me_on_new_connection(ana->tokens().access_token), 200);
  EXPECT_GT(thread_requests(*sys_, 0), 0);
  EXPECT_GT(thread_requests(*sys_, 1), 0);
  // The operator's figures add up both threads.
  EXPECT_GE(metric(*sys_, "alliance_http_requests_total{route=\"/v1/me\",status=\"200\"}"), 40);
}

TEST_F(GatewayThreads, PushesReachSocketsOnBothThreadsAndOnlyTheirUser) {
  auto users = online_on_both_threads();
  ASSERT_GE(users.size(), 2u);
  for (auto& u : users) sys_->publish_push(u.user_id, "test.notice", "for " + u.user_id);
  for (auto& u : users) {
    auto frame = u.socket->read_text(5s);
    ASSERT_TRUE(frame) << "no push for " << u.user_id;
    EXPECT_EQ(json::parse(*frame).at("body").at("text").as_string(), "for " + u.user_id);
  }
}

TEST_F(GatewayThreads, PerUserCapCountsSocketsWhicheverThreadAcceptedThem) {
  // ws_max_per_user = 2: each socket opens on a new connection, so the kernel spreads
  // them over the threads; the third is refused all the same.
  sys_->create_user("riverside", "bo@example.org", "client");
  std::vector<std::unique_ptr<client::AllianceClient>> devices;
  std::vector<Socket> sockets;
  for (int i = 0; i < 2; ++i) {
    devices.push_back(sys_->login("riverside", "bo@example.org", kThreaded));
    auto s = devices.back()->open_push_socket();
    ASSERT_TRUE(s) << s.error().message;
    sockets.push_back(std::move(*s));
  }
  for (int i = 0; i < 6; ++i) {
    auto extra = sys_->login("riverside", "bo@example.org", kThreaded);
    auto refused = extra->open_push_socket();
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Code::kResourceExhausted);
  }
  EXPECT_EQ(metric(*sys_, "alliance_ws_open_sockets"), 2);
}

TEST_F(GatewayThreads, RevokedSessionIsRefusedByEveryThreadAndItsSocketsCloseWhereverTheyAre) {
  auto users = online_on_both_threads();
  ASSERT_GE(users.size(), 2u);
  // Every thread has verified (and cached) the first user's token.
  const std::string token = users.front().client->tokens().access_token;
  for (int i = 0; i < 20; ++i) ASSERT_EQ(me_on_new_connection(token), 200);
  ASSERT_GT(thread_requests(*sys_, 0), 0);
  ASSERT_GT(thread_requests(*sys_, 1), 0);

  for (auto& u : users) ASSERT_TRUE(u.client->logout());
  for (auto& u : users) {
    ASSERT_TRUE(u.socket->wait_closed(2s)) << u.user_id;
    EXPECT_EQ(u.socket->close_code(), 4401);
  }
  for (int i = 0; i < 20; ++i) EXPECT_EQ(me_on_new_connection(token), 401);
  EXPECT_TRUE(wait_until([&] { return metric(*sys_, "alliance_ws_open_sockets") == 0; }, 5s));
}

TEST_F(GatewayThreads, ASignOutIsRefusedOnEveryThreadAtOnceWithoutWaitingForRedis) {
  // Identity broadcasts a sign-out over Redis, which reaches each thread a little later;
  // the gateway that carried the sign-out does not wait for that. With Redis stopped, so
  // that no broadcast ever arrives, the session is refused on both threads as soon as the
  // answer to the sign-out is back.
  sys_->create_user("riverside", "ana@example.org", "client");
  auto ana = sys_->login("riverside", "ana@example.org", kThreaded);
  const std::string token = ana->tokens().access_token;
  for (int i = 0; i < 20; ++i) ASSERT_EQ(me_on_new_connection(token), 200);  // cached on both threads
  ASSERT_GT(thread_requests(*sys_, 0), 0);
  ASSERT_GT(thread_requests(*sys_, 1), 0);

  sys_->redis().stop();
  ASSERT_TRUE(ana->logout());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(me_on_new_connection(token), 401) << "connection " << i;
}

}  // namespace
}  // namespace alliance::testing
