// The foundation end to end: real redis-server, alliance-identity and
// alliance-gateway processes, real TLS, driven through the client SDK.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

#include "alliance/crypto/ed25519.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/jwt.hpp"
#include "system.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class Foundation : public ::testing::Test {
 protected:
  void SetUp() override {
    sys_ = std::make_unique<System>();
    practice_id_ = sys_->create_practice("riverside");
  }
  std::unique_ptr<System> sys_;
  std::string practice_id_;
};

std::string field(const json::value& v, std::string_view a, std::string_view b) {
  return std::string(v.at(a).at(b).as_string());
}

TEST_F(Foundation, AdminBootstrapsPracticeAndUserLogsInRefreshesAndLogsOut) {
  // An admin creates a client; the client logs in, sees themself, refreshes and logs out.
  auto client_id = sys_->create_user("riverside", "ana@example.org", "client");
  auto ana = sys_->login("riverside", "ana@example.org");
  EXPECT_EQ(ana->tokens().user_id, client_id);
  EXPECT_EQ(ana->tokens().role, "client");
  EXPECT_EQ(ana->tokens().expires_in, 900);

  auto me = ana->me();
  ASSERT_TRUE(me) << me.error().message;
  EXPECT_EQ(field(*me, "user", "email"), "ana@example.org");
  EXPECT_EQ(field(*me, "practice", "slug"), "riverside");

  auto old_refresh = ana->tokens().refresh_token;
  auto refreshed = ana->refresh();
  ASSERT_TRUE(refreshed) << refreshed.error().message;
  EXPECT_NE(refreshed->refresh_token, old_refresh);
  EXPECT_TRUE(ana->me());

  ASSERT_TRUE(ana->logout());
  client::AllianceClient after(sys_->endpoint());
  after.set_tokens(*refreshed);
  auto denied = after.me();
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, Code::kUnauthenticated);
  EXPECT_FALSE(after.refresh());
}

TEST_F(Foundation, ReusingARotatedRefreshTokenRevokesTheWholeFamily) {
  // A stolen refresh token is replayed after the real client rotated it: both lose the session.
  sys_->create_user("riverside", "ben@example.org", "client");
  auto ben = sys_->login("riverside", "ben@example.org");
  auto stolen = ben->tokens();
  ASSERT_TRUE(ben->refresh());
  auto current = ben->tokens();

  client::AllianceClient thief(sys_->endpoint());
  thief.set_tokens(stolen);
  auto replay = thief.refresh();
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code, Code::kUnauthenticated);

  client::AllianceClient victim(sys_->endpoint());
  victim.set_tokens(current);
  EXPECT_FALSE(victim.refresh());
  // The family's access token stops working at the gateway within a second.
  EXPECT_TRUE(wait_until([&] { return !victim.me(); }, 1s));
}

TEST_F(Foundation, FailedLoginsBackOffAndUnknownUsersLookLikeWrongPasswords) {
  sys_->create_user("riverside", "cal@example.org", "therapist");
  client::AllianceClient c(sys_->endpoint());
  auto wrong = c.http().request("POST", "/v1/auth/login",
                                R"({"practice":"riverside","email":"cal@example.org","password":"nope nope nope"})");
  auto unknown = c.http().request("POST", "/v1/auth/login",
                                  R"({"practice":"riverside","email":"nobody@example.org","password":"nope nope nope"})");
  ASSERT_TRUE(wrong && unknown);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(unknown->status, 401);
  // The same error apart from each answer's own request id.
  auto error_without_id = [](const std::string& body) {
    auto error = json::parse(body).at("error").as_object();
    EXPECT_EQ(error.erase("request_id"), 1u) << body;
    return error;
  };
  EXPECT_EQ(error_without_id(wrong->body), error_without_id(unknown->body));

  int status = 0;
  for (int i = 0; i < 10 && status != 429; ++i) {
    auto r = c.http().request("POST", "/v1/auth/login",
                              R"({"practice":"riverside","email":"cal@example.org","password":"still wrong!!"})");
    ASSERT_TRUE(r);
    status = r->status;
    if (status == 429) {
      EXPECT_FALSE(r->header("retry-after").empty());
    }
  }
  EXPECT_EQ(status, 429);
  // While backing off, even the right password is refused.
  auto right = c.login("riverside", "cal@example.org", System::kPassword);
  ASSERT_FALSE(right);
  EXPECT_EQ(right.error().code, Code::kResourceExhausted);
}

TEST_F(Foundation, PushReachesEverySocketOfItsUserAndNoOtherUser) {
  auto dee = sys_->create_user("riverside", "dee@example.org", "client");
  auto eve = sys_->create_user("riverside", "eve@example.org", "client");
  auto dee_phone = sys_->login("riverside", "dee@example.org");
  auto dee_laptop = sys_->login("riverside", "dee@example.org");
  auto eve_phone = sys_->login("riverside", "eve@example.org");
  auto s1 = dee_phone->open_push_socket();
  auto s2 = dee_laptop->open_push_socket();
  auto s3 = eve_phone->open_push_socket();
  ASSERT_TRUE(s1 && s2 && s3);

  sys_->publish_push(eve, "test.notice", "for eve");
  sys_->publish_push(dee, "test.notice", "for dee");
  for (auto* s : {&*s1, &*s2}) {
    auto frame = (*s)->read_text(3s);
    ASSERT_TRUE(frame);
    auto v = json::parse(*frame);
    EXPECT_EQ(v.at("type").as_string(), "test.notice");
    EXPECT_EQ(v.at("body").at("text").as_string(), "for dee");  // eve's push never came first
  }
  auto eves = (*s3)->read_text(3s);
  ASSERT_TRUE(eves);
  EXPECT_EQ(json::parse(*eves).at("body").at("text").as_string(), "for eve");
}

TEST_F(Foundation, SecondGatewayInstanceDeliversToItsOwnSockets) {
  // Pushes go through Redis, so a user connected to two gateways gets them on both.
  auto fay = sys_->create_user("riverside", "fay@example.org", "client");
  sys_->start_gateway();
  auto on_first = sys_->login("riverside", "fay@example.org", 0);
  auto on_second = sys_->login("riverside", "fay@example.org", 1);
  auto a = on_first->open_push_socket();
  auto b = on_second->open_push_socket();
  ASSERT_TRUE(a && b);
  sys_->publish_push(fay, "test.notice", "everywhere");
  for (auto* s : {&*a, &*b}) {
    auto frame = (*s)->read_text(3s);
    ASSERT_TRUE(frame);
    EXPECT_EQ(json::parse(*frame).at("body").at("text").as_string(), "everywhere");
  }
}

TEST_F(Foundation, RevokedSessionsSocketClosesWithinASecond) {
  sys_->create_user("riverside", "gus@example.org", "client");
  auto gus = sys_->login("riverside", "gus@example.org");
  auto other_device = sys_->login("riverside", "gus@example.org");
  auto socket = gus->open_push_socket();
  auto other_socket = other_device->open_push_socket();
  ASSERT_TRUE(socket && other_socket);
  auto t0 = Clock::now();
  ASSERT_TRUE(gus->logout());
  ASSERT_TRUE((*socket)->wait_closed(1s));
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_EQ((*socket)->close_code(), 4401);
  // The user's other session is untouched.
  EXPECT_FALSE((*other_socket)->read_text(200ms));
  EXPECT_FALSE((*other_socket)->closed());
}

TEST_F(Foundation, PushesResumeAfterRedisRestarts) {
  auto hal = sys_->create_user("riverside", "hal@example.org", "client");
  auto c = sys_->login("riverside", "hal@example.org");
  auto socket = c->open_push_socket();
  ASSERT_TRUE(socket);
  sys_->redis().restart();
  // Pub/sub is a wake-up, not a queue: publish until the resubscribed gateway hears one.
  bool received = false;
  auto deadline = Clock::now() + 10s;
  while (!received && Clock::now() < deadline) {
    try {
      sys_->publish_push(hal, "test.notice", "after restart");
    } catch (const std::exception&) {
    }
    if (auto f = (*socket)->read_text(200ms))
      received = json::parse(*f).at("body").at("text").as_string() == "after restart";
  }
  EXPECT_TRUE(received);
  EXPECT_FALSE((*socket)->closed());
}

TEST_F(Foundation, ServiceWithoutTrustedClientCertificateCannotCallIdentity) {
  // A gateway presenting a certificate from another CA is refused by identity.
  GatewayFlags rogue;
  rogue.rpc_identity = "rogue";
  sys_->start_gateway(rogue);
  client::HttpsClient http(sys_->endpoint(1));
  auto ready = http.request("GET", "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  auto login = http.request("POST", "/v1/auth/login",
                            R"({"practice":"riverside","email":"admin@riverside.example","password":"x"})");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 503);
  // The real gateway still works.
  EXPECT_NO_THROW(sys_->login("riverside", "admin@riverside.example"));
}

TEST_F(Foundation, HealthReadinessAndMetrics) {
  client::HttpsClient http(sys_->endpoint());
  auto health = http.request("GET", "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto ready = http.request("GET", "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);

  sys_->create_user("riverside", "ivy@example.org", "client");
  auto ivy = sys_->login("riverside", "ivy@example.org");
  auto socket = ivy->open_push_socket();
  ASSERT_TRUE(socket);
  client::HttpsClient operator_http(sys_->operator_endpoint());
  auto metrics = operator_http.request("GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("alliance_http_requests_total{route=\"/v1/auth/login\",status=\"200\"}"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("alliance_ws_open_sockets 1\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("alliance_rpc_calls_total{service=\"identity\""), std::string::npos);
  EXPECT_NE(metrics->body.find("alliance_http_request_duration_seconds_bucket"), std::string::npos);
  // No secrets in metrics.
  EXPECT_EQ(metrics->body.find(ivy->tokens().access_token), std::string::npos);

  // Readiness follows Redis.
  sys_->redis().stop();
  EXPECT_TRUE(wait_until(
      [&] {
        auto r = http.request("GET", "/readyz", {}, {}, 3s);
        return r && r->status == 503;
      },
      5s));
}

TEST_F(Foundation, RolesAndCareTeamsAreEnforced) {
  auto client_id = sys_->create_user("riverside", "jo@example.org", "client");
  auto therapist_id = sys_->create_user("riverside", "dr.kim@example.org", "therapist");
  sys_->create_user("riverside", "desk@example.org", "front_desk");
  auto admin = sys_->login("riverside", "admin@riverside.example");
  auto link = admin->post_json("/v1/care-team", json::value{{"client_id", client_id}, {"therapist_id", therapist_id}});
  ASSERT_TRUE(link) << link.error().message;

  auto jo = sys_->login("riverside", "jo@example.org");
  auto team = jo->get_json("/v1/care-team");
  ASSERT_TRUE(team) << team.error().message;
  ASSERT_EQ(team->at("links").as_array().size(), 1u);
  EXPECT_EQ(team->at("links").as_array()[0].at("therapist_id").as_string(), therapist_id);

  // A client cannot create users; the front desk cannot link care teams.
  auto denied = jo->post_json("/v1/users", json::value{{"email", "x@example.org"},
                                                       {"password", System::kPassword},
                                                       {"display_name", "X"},
                                                       {"role", "admin"}});
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, Code::kPermissionDenied);
  auto desk = sys_->login("riverside", "desk@example.org");
  EXPECT_FALSE(desk->post_json("/v1/care-team", json::value{{"client_id", client_id}, {"therapist_id", therapist_id}}));

  // Another practice's admin cannot see this client.
  sys_->create_practice("hillside");
  auto other_admin = sys_->login("hillside", "admin@hillside.example");
  auto hidden = other_admin->get_json("/v1/care-team?client_id=" + client_id);
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().code, Code::kNotFound);
  auto users = other_admin->get_json("/v1/users");
  ASSERT_TRUE(users);
  EXPECT_EQ(users->at("users").as_array().size(), 1u);  // only hillside's admin
}

}  // namespace
}  // namespace alliance::testing
