// The public edge against the real system: the gateway's internal figures are only
// on the operator listener, one session and one user hold a bounded number of
// WebSockets (places given back when sockets close), and a socket lives only as
// long as its access token unless the client hands it a fresh one.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <thread>

#include "alliance/core/ids.hpp"
#include "operator_metrics.hpp"
#include "system.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Socket = std::unique_ptr<client::WebSocket>;

// The value of an unlabelled gauge on gateway `gateway`'s operator listener; -1 if unreadable.
long long gauge(System& sys, std::string_view name, std::size_t gateway = 0) { return metric_value(sys, name, gateway); }

// The next frame of `type` on the socket within `timeout` (other frames skipped).
std::optional<json::object> next_frame(client::WebSocket& socket, std::string_view type,
                                       std::chrono::milliseconds timeout = 5s) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    auto text = socket.read_text(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!text) return std::nullopt;
    auto v = json::parse(*text);
    if (v.as_object().at("type").as_string() == type) return v.as_object();
  }
  return std::nullopt;
}

// The HTTP status of one request; -1 if there was no answer.
int status_of(client::HttpsClient& http, std::string_view method, std::string_view target, std::string_view body = {}) {
  auto r = http.request(method, target, body);
  return r ? r->status : -1;
}

std::string error_code_of(const json::object& frame) {
  return std::string(frame.at("error").at("code").as_string());
}
std::string error_message_of(const json::object& frame) {
  return std::string(frame.at("error").at("message").as_string());
}

class PublicEdge : public ::testing::Test {
 protected:
  void SetUp() override {
    sys_ = std::make_unique<System>();
    sys_->create_practice("edge");
  }
  std::unique_ptr<System> sys_;
};

TEST_F(PublicEdge, MetricsAreServedOnlyOnTheOperatorListener) {
  // Someone on the internet asks the public port for /metrics and learns nothing;
  // the operator's scraper on the loopback listener gets the figures.
  sys_->create_user("edge", "ana@example.org", "client");
  auto ana = sys_->login("edge", "ana@example.org");
  auto socket = ana->open_push_socket();
  ASSERT_TRUE(socket);

  client::HttpsClient public_port(sys_->endpoint());
  for (std::string target : {"/metrics", "/metrics?format=text", "/metrics/"}) {
    auto r = public_port.request("GET", target);
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, 404) << target;
    EXPECT_EQ(r->body.find("alliance_"), std::string::npos) << target << ": " << r->body;
  }

  client::HttpsClient operator_port(sys_->operator_endpoint());
  auto metrics = operator_port.request("GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("alliance_ws_open_sockets 1\n"), std::string::npos) << metrics->body;
  // The public port's refusal was counted there like any unmatched request.
  EXPECT_NE(metrics->body.find("alliance_http_requests_total{route=\"unmatched\",status=\"404\"} 3"),
            std::string::npos);
  EXPECT_EQ(status_of(operator_port, "GET", "/healthz"), 200);

  // The operator listener serves no API and no WebSockets.
  EXPECT_EQ(status_of(operator_port, "POST", "/v1/auth/login",
                      R"({"practice":"edge","email":"ana@example.org","password":"x"})"),
            404);
  auto ws = client::WebSocket::connect(sys_->operator_endpoint(), "/v1/ws", ana->tokens().access_token);
  ASSERT_FALSE(ws);
  EXPECT_EQ(ws.error().code, Code::kNotFound);
}

TEST_F(PublicEdge, TheApiDescribesItselfAtOpenApiJsonWithoutAToken) {
  // A developer writing a client fetches the contract with no account: it lists the
  // routes they can call, with login needing no token and booking answering 201.
  client::HttpsClient http(sys_->endpoint());
  auto r = http.request("GET", "/v1/openapi.json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->header("content-type"), "application/json");
  auto doc = json::parse(r->body).as_object();
  EXPECT_EQ(doc.at("openapi").as_string().subview().substr(0, 2), "3.");
  const auto& paths = doc.at("paths").as_object();
  EXPECT_TRUE(paths.at("/v1/auth/login").at("post").at("security").as_array().empty());
  EXPECT_TRUE(paths.at("/v1/appointments").at("post").at("responses").as_object().contains("201"));
  EXPECT_TRUE(paths.contains("/v1/conversations/{conversation_id}/messages"));
  auto post = http.request("POST", "/v1/openapi.json", "{}");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->header("allow"), "GET");
}

TEST_F(PublicEdge, OneSessionHoldsAtMostFiveSocketsTheNewestWin) {
  // One session opens 150 sockets (a reconnect loop, or someone holding its token):
  // each new one replaces the session's oldest, so 5 stay open and they get pushes.
  auto ben = sys_->create_user("edge", "ben@example.org", "client");
  auto c = sys_->login("edge", "ben@example.org");
  std::vector<Socket> sockets;
  for (int i = 0; i < 150; ++i) {
    auto s = c->open_push_socket(10s);
    ASSERT_TRUE(s) << i << ": " << s.error().message;
    sockets.push_back(std::move(*s));
  }
  for (std::size_t i = 0; i < 145; ++i) {
    ASSERT_TRUE(sockets[i]->wait_closed(10s)) << i;
    EXPECT_EQ(sockets[i]->close_code(), 4409) << i;
  }
  EXPECT_NE(sockets[0]->close_reason().find("ws_max_per_session"), std::string::npos) << sockets[0]->close_reason();
  EXPECT_EQ(gauge(*sys_, "alliance_ws_open_sockets"), 5);
  sys_->publish_push(ben, "test.notice", "to the newest five");
  for (std::size_t i = 145; i < 150; ++i) {
    auto frame = next_frame(*sockets[i], "test.notice");
    ASSERT_TRUE(frame) << i;
    EXPECT_EQ(frame->at("body").at("text").as_string(), "to the newest five");
    EXPECT_FALSE(sockets[i]->closed());
  }
}

TEST_F(PublicEdge, OneUserHoldsAtMostTwentySocketsThenGets429NamingTheLimit) {
  // Four sessions of one user hold 5 sockets each; a fifth session's socket is
  // refused with 429 until one of them closes. Another user is not affected.
  sys_->create_user("edge", "cy@example.org", "client");
  sys_->create_user("edge", "dee@example.org", "client");
  std::vector<std::unique_ptr<client::AllianceClient>> sessions;
  std::vector<Socket> sockets;
  for (int s = 0; s < 4; ++s) {
    sessions.push_back(sys_->login("edge", "cy@example.org"));
    for (int i = 0; i < 5; ++i) {
      auto socket = sessions.back()->open_push_socket(10s);
      ASSERT_TRUE(socket) << s << "/" << i << ": " << socket.error().message;
      sockets.push_back(std::move(*socket));
    }
  }
  auto fifth = sys_->login("edge", "cy@example.org");
  auto refused = fifth->open_push_socket();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kResourceExhausted);  // HTTP 429
  EXPECT_NE(refused.error().message.find("ws_max_per_user"), std::string::npos) << refused.error().message;
  for (auto& s : sockets) EXPECT_FALSE(s->closed());  // nobody was pushed out

  auto dee = sys_->login("edge", "dee@example.org");
  EXPECT_TRUE(dee->open_push_socket());

  sockets.front()->close();
  Socket admitted;
  EXPECT_TRUE(wait_until(
      [&] {
        auto s = fifth->open_push_socket();
        if (s) admitted = std::move(*s);
        return s.ok();
      },
      10s));
}

TEST_F(PublicEdge, OpenCloseCyclesGiveEveryPlaceBack) {
  // Sockets opened, replaced, refused and closed over and over: the gateway's
  // counts return to zero each time, so the caps never fill up with ghosts.
  sys_->create_user("edge", "eli@example.org", "client");
  GatewayFlags small;
  small.flags = {{"ws_max_per_session", "2"}, {"ws_max_per_user", "3"}};
  sys_->start_gateway(small);
  auto a = sys_->login("edge", "eli@example.org", 1);
  auto b = sys_->login("edge", "eli@example.org", 1);
  for (int round = 0; round < 15; ++round) {
    std::vector<Socket> open;
    for (auto* c : {a.get(), a.get(), a.get(), b.get()}) {  // the third of session a replaces its first
      auto s = c->open_push_socket(10s);
      ASSERT_TRUE(s) << "round " << round << ": " << s.error().message;
      open.push_back(std::move(*s));
    }
    ASSERT_TRUE(open[0]->wait_closed(5s)) << "round " << round;
    EXPECT_EQ(open[0]->close_code(), 4409);
    auto refused = b->open_push_socket();
    ASSERT_FALSE(refused) << "round " << round;
    EXPECT_EQ(refused.error().code, Code::kResourceExhausted);
    // Half close politely, half just go away.
    open[1]->close();
    open.clear();
    ASSERT_TRUE(wait_until([&] { return gauge(*sys_, "alliance_ws_open_sockets", 1) == 0; }, 10s))
        << "round " << round << ": " << gauge(*sys_, "alliance_ws_open_sockets", 1) << " sockets still counted";
  }
  EXPECT_EQ(gauge(*sys_, "alliance_ws_users", 1), 0);
}

TEST_F(PublicEdge, ASocketThatStopsReadingIsClosedAndOthersKeepTheirPushes) {
  // A phone's app hangs without closing its socket while pushes keep coming for its user.
  // The gateway queues a bounded number for it (ws_max_queued, 1024), then closes it with
  // 1008, and meanwhile another user's socket gets every push at once.
  auto stuck_user = sys_->create_user("edge", "hal@example.org", "client");
  auto live_user = sys_->create_user("edge", "ivy@example.org", "client");
  auto hal = sys_->login("edge", "hal@example.org");
  auto ivy = sys_->login("edge", "ivy@example.org");
  auto stuck = hal->open_push_socket();
  auto live = ivy->open_push_socket();
  ASSERT_TRUE(stuck);
  ASSERT_TRUE(live);
  // More than the kernel's socket buffers (a few MiB each way on loopback) plus 1024
  // queued frames can hold: the socket is not read during this loop. The flood comes
  // over one Redis connection, as a service's pushes do, so the queue overflows well
  // within the gateway's write deadline (a stuck write past it is cut, not closed).
  // Each burst is read by the gateway before the next: Redis drops a subscriber that
  // falls 32 MiB behind (client-output-buffer-limit pubsub), and with it the pushes this
  // test counts on, which a loaded machine's gateway can do while the bursts pile up.
  auto wait_until_subscribers_caught_up = [&] {
    const auto until = Clock::now() + 30s;
    while (Clock::now() < until) {
      // One line per subscribed connection; omem is what Redis holds for it, unsent.
      const std::string clients = sys_->redis().cli({"CLIENT", "LIST", "TYPE", "pubsub"});
      int subscribers = 0, behind = 0;
      for (auto at = clients.find(" omem="); at != std::string::npos; at = clients.find(" omem=", at + 1)) {
        ++subscribers;
        if (clients.compare(at, 8, " omem=0 ") != 0) ++behind;
      }
      if (subscribers > 0 && behind == 0) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << "the gateway's subscribers did not catch up with Redis in 30 s";
  };
  const std::string big(64 * 1024, 'x');
  constexpr int kPushes = 1400;
  constexpr int kBurst = 200;
  for (int i = 0; i < kPushes; i += kBurst) {
    sys_->publish_pushes(stuck_user, "test.flood", big, kBurst);
    wait_until_subscribers_caught_up();
    sys_->publish_push(live_user, "test.notice", "still flowing " + std::to_string(i));
    auto frame = next_frame(**live, "test.notice", 5s);
    ASSERT_TRUE(frame) << "push " << i << " to the other user did not arrive";
    EXPECT_EQ(frame->at("body").at("text").as_string(), "still flowing " + std::to_string(i));
  }
  // Reading now drains what the kernel buffered, then the close: fewer frames than sent.
  int received = 0;
  const auto deadline = Clock::now() + 60s;
  while (!(*stuck)->closed() && Clock::now() < deadline)
    if ((*stuck)->read_text(1s)) ++received;
  ASSERT_TRUE((*stuck)->closed());
  EXPECT_EQ((*stuck)->close_code(), 1008) << (*stuck)->close_reason();
  EXPECT_EQ((*stuck)->close_reason(), "push queue overflow");
  EXPECT_LT(received, kPushes);
  EXPECT_FALSE((*live)->closed());
}

class SocketTokens : public ::testing::Test {
 protected:
  static constexpr auto kTokenLife = 4s;
  void SetUp() override {
    SystemOptions options;
    options.identity_flags = {{"access_token_ttl", "4s"}};
    sys_ = std::make_unique<System>(options);
    sys_->create_practice("tide");
  }
  std::unique_ptr<System> sys_;
};

TEST_F(SocketTokens, SocketClosesWith4401WhenItsAccessTokenExpires) {
  // A phone is stolen after its access token was issued; the token expires and the
  // open socket stops delivering with it.
  sys_->create_user("tide", "fay@example.org", "client");
  auto t0 = Clock::now();
  auto fay = sys_->login("tide", "fay@example.org");
  auto socket = fay->open_push_socket();
  ASSERT_TRUE(socket);
  ASSERT_TRUE((*socket)->wait_closed(30s));
  EXPECT_EQ((*socket)->close_code(), 4401);
  EXPECT_EQ((*socket)->close_reason(), "access token expired");
  EXPECT_GE(Clock::now() - t0, kTokenLife - 2s);  // exp is whole seconds after issue
  // Reconnecting with a fresh token works again.
  ASSERT_TRUE(fay->refresh());
  EXPECT_TRUE(fay->open_push_socket());
}

TEST_F(SocketTokens, SocketGivenFreshTokensStaysOpenPastExpiry) {
  // The SDK refreshes and hands the socket each new token: it stays open for three
  // token lifetimes and still gets pushes; once that stops it closes at the last expiry.
  auto gus = sys_->create_user("tide", "gus@example.org", "client");
  auto c = sys_->login("tide", "gus@example.org");
  auto socket = c->open_push_socket();
  ASSERT_TRUE(socket);
  const auto first_expiry = client::access_token_expires_at(c->tokens().access_token);
  ASSERT_GT(first_expiry, 0);
  int accepted = 0;
  auto next_refresh = Clock::now();
  const auto until = Clock::now() + 3 * kTokenLife;
  while (Clock::now() < until) {
    if (Clock::now() >= next_refresh) {
      auto fresh = c->refresh_push_socket(**socket);
      ASSERT_TRUE(fresh) << fresh.error().message;
      next_refresh = Clock::now() + 1s;
    }
    if (auto text = (*socket)->read_text(100ms)) {
      auto frame = json::parse(*text).as_object();
      ASSERT_NE(frame.at("type").as_string(), "auth.error") << *text;
      if (frame.at("type").as_string() == "auth.ok") {
        ++accepted;
        EXPECT_GT(frame.at("expires_unix_ms").as_int64(), first_expiry * 1000 - 1);
      }
    }
    ASSERT_FALSE((*socket)->closed()) << (*socket)->close_code() << " " << (*socket)->close_reason();
  }
  EXPECT_GE(accepted, 3);
  EXPECT_GT(now_unix_ms() / 1000, first_expiry + 4);  // well past the first token's expiry
  sys_->publish_push(gus, "test.notice", "still here");
  auto pushed = next_frame(**socket, "test.notice");
  ASSERT_TRUE(pushed);
  EXPECT_EQ(pushed->at("body").at("text").as_string(), "still here");

  ASSERT_TRUE((*socket)->wait_closed(30s));
  EXPECT_EQ((*socket)->close_code(), 4401);
}

TEST_F(SocketTokens, AnotherSessionsOrUsersTokenIsRefusedAndDoesNotExtend) {
  // A socket is handed tokens that are valid but not its own, and malformed ones:
  // each gets an auth.error naming access_token, and the socket still closes when
  // its own token expires.
  sys_->create_user("tide", "hal@example.org", "client");
  sys_->create_user("tide", "ivy@example.org", "client");
  auto ivy = sys_->login("tide", "ivy@example.org");
  auto hal_laptop = sys_->login("tide", "hal@example.org");
  auto hal = sys_->login("tide", "hal@example.org");
  auto socket = hal->open_push_socket();
  ASSERT_TRUE(socket);

  struct Case {
    std::string frame, code;
  };
  std::vector<Case> cases = {
      {client::auth_frame(hal_laptop->tokens().access_token), "permission_denied"},
      {client::auth_frame(ivy->tokens().access_token), "permission_denied"},
      {client::auth_frame("not.a.token"), "unauthenticated"},
      {client::auth_frame(""), "invalid_argument"},
      {R"({"type":"auth"})", "invalid_argument"},
      {R"({"type":"auth","access_token":12})", "invalid_argument"},
  };
  for (const auto& c : cases) {
    (*socket)->send_text(c.frame);
    auto answer = next_frame(**socket, "auth.error");
    ASSERT_TRUE(answer) << c.frame;
    EXPECT_EQ(error_code_of(*answer), c.code) << c.frame;
    EXPECT_EQ(error_message_of(*answer).rfind("access_token: ", 0), 0u) << error_message_of(*answer);
    EXPECT_EQ(json::serialize(*answer).find(hal_laptop->tokens().access_token), std::string::npos);
  }

  // The other session keeps offering its fresh tokens: the socket closes anyway.
  bool extended = false;
  auto next_offer = Clock::now();
  const auto deadline = Clock::now() + 5 * kTokenLife;
  while (!(*socket)->closed() && Clock::now() < deadline) {
    if (Clock::now() >= next_offer) {
      ASSERT_TRUE(hal_laptop->refresh());
      (*socket)->send_text(client::auth_frame(hal_laptop->tokens().access_token));
      next_offer = Clock::now() + 1s;
    }
    if (auto text = (*socket)->read_text(100ms)) extended |= json::parse(*text).at("type").as_string() == "auth.ok";
  }
  EXPECT_FALSE(extended);
  ASSERT_TRUE((*socket)->closed());
  EXPECT_EQ((*socket)->close_code(), 4401);
}

TEST_F(SocketTokens, RevokingTheSessionClosesARefreshedSocketAtOnce) {
  sys_->create_user("tide", "jo@example.org", "client");
  auto jo = sys_->login("tide", "jo@example.org");
  auto socket = jo->open_push_socket();
  ASSERT_TRUE(socket);
  ASSERT_TRUE(jo->refresh_push_socket(**socket));
  ASSERT_TRUE(next_frame(**socket, "auth.ok"));
  auto t0 = Clock::now();
  ASSERT_TRUE(jo->logout());
  ASSERT_TRUE((*socket)->wait_closed(2s));
  EXPECT_LT(Clock::now() - t0, 2s);
  EXPECT_EQ((*socket)->close_code(), 4401);
  EXPECT_EQ((*socket)->close_reason(), "session revoked");
}

TEST_F(SocketTokens, AlliancectlWatchKeepsItsSocketPastTokenExpiry) {
  // `alliancectl watch` runs longer than an access token lives: it refreshes and hands
  // the socket each new token, so a push sent two token lifetimes later is printed.
  auto kim = sys_->create_user("tide", "kim@example.org", "client");
  const auto pw = sys_->dir() / "pw";
  std::ofstream(pw) << System::kPassword;
  const auto session = sys_->dir() / "kim.json";
  auto ctl = [&](std::vector<std::string> args, std::chrono::milliseconds timeout) {
    std::vector<std::string> all = {"--gateway", "https://127.0.0.1:" + std::to_string(sys_->gateway_port()),
                                    "--ca", dev_certs().ca().string(), "--session", session.string()};
    all.insert(all.end(), args.begin(), args.end());
    return run_command(binary("tools/alliancectl/alliancectl"), all, timeout);
  };
  auto login = ctl({"login", "--practice", "tide", "--email", "kim@example.org", "--password-file", pw.string()}, 20s);
  ASSERT_EQ(login.exit_code, 0) << login.out;
  const auto login_expiry = now_unix_ms() / 1000 + 4;  // at the latest

  CommandOutput watched;
  std::thread watcher([&] { watched = ctl({"watch", "--count", "1", "--seconds", "40"}, 60s); });
  EXPECT_TRUE(wait_until([&] { return now_unix_ms() / 1000 > login_expiry + 8; }, 30s));
  sys_->publish_push(kim, "test.notice", "after two expiries");
  watcher.join();
  EXPECT_EQ(watched.exit_code, 0) << watched.out;
  EXPECT_NE(watched.out.find("after two expiries"), std::string::npos) << watched.out;
}

}  // namespace
}  // namespace alliance::testing
