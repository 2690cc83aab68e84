// What a client sees when something behind the gateway fails: a service process
// dies, or the gateway cannot complete TLS with a service. Every answer carries
// a request id; a failure says only "temporarily unavailable" (no host, port, OS
// or TLS library text), says when to retry, and comes at once while the service is
// known down; the detail is in the gateway's log under the same request id.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>
#include <set>

#include "system.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Text that would tell an outsider about the inside of the system.
void expect_no_internals(const client::HttpResponse& r) {
  for (const char* leak : {"127.0.0.1", "refused", "connect", "errno", "ssl", "SSL", "tls", "TLS", "alert",
                           "certificate", "handshake", "redis", "sqlite", "connection"})
    EXPECT_EQ(r.body.find(leak), std::string::npos) << "\"" << leak << "\" in " << r.body;
}

// The public error contract for a 503: fixed message, request id in body and header, Retry-After.
void expect_temporarily_unavailable(const client::HttpResponse& r) {
  EXPECT_EQ(r.status, 503) << r.body;
  const auto id = r.header("x-request-id");
  ASSERT_EQ(id.size(), 32u) << r.body;
  auto error = json::parse(r.body).at("error");
  EXPECT_EQ(error.at("code").as_string(), "unavailable");
  EXPECT_EQ(error.at("message").as_string(), "temporarily unavailable");
  EXPECT_EQ(error.at("request_id").as_string(), id);
  ASSERT_FALSE(r.header("retry-after").empty()) << r.body;
  EXPECT_GE(std::stoi(r.header("retry-after")), 1);
  expect_no_internals(r);
}

// The gateway's log line that carries `request_id`, or "".
std::string log_line_of(const Process& gateway, const std::string& request_id) {
  const std::string log = gateway.log();
  auto at = log.find(request_id);
  if (at == std::string::npos) return {};
  auto start = log.rfind('\n', at);
  auto end = log.find('\n', at);
  return log.substr(start == std::string::npos ? 0 : start + 1, end == std::string::npos ? end : end - start - 1);
}

TEST(EdgeErrors, AServiceThatDiesIsReportedAtOnceWithoutInternalsAndIsUsedAgainWhenBack) {
  // A client lists their conversations; messaging's process is killed and later
  // started again on the same port, while the gateway keeps running.
  System sys;
  sys.create_practice("harbor");
  sys.create_user("harbor", "ana@example.org", "client");
  auto ana = sys.login("harbor", "ana@example.org");
  const std::string token = ana->tokens().access_token;
  client::HttpsClient http(sys.endpoint());
  auto list = [&] { return http.request("GET", "/v1/conversations", {}, token, 20s); };

  auto before = list();
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 200) << before->body;
  EXPECT_EQ(before->header("x-request-id").size(), 32u) << "a success carries a request id too";

  sys.kill_messaging();
  // The first answers may wait while the gateway finds out; none waits out the 5 s rpc_timeout.
  std::string first_id;
  for (int i = 0; i < 3; ++i) {
    auto t0 = Clock::now();
    auto early = list();
    ASSERT_TRUE(early);
    EXPECT_LT(Clock::now() - t0, 4s);
    expect_temporarily_unavailable(*early);
    if (first_id.empty()) first_id = early->header("x-request-id");
  }
  // Known down: each answer comes at once (the bound leaves room for a busy CI machine;
  // without the breaker each one took the full 5 s).
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    auto fast = list();
    const auto took = Clock::now() - t0;
    ASSERT_TRUE(fast);
    expect_temporarily_unavailable(*fast);
    EXPECT_LT(took, 250ms);
    ids.insert(fast->header("x-request-id"));
  }
  EXPECT_EQ(ids.size(), 5u) << "each request has its own id";

  // The detail is in the gateway's log, under the id the client was given.
  std::string line;
  ASSERT_TRUE(wait_until([&] { return !(line = log_line_of(sys.gateway_process(0), first_id)).empty(); }, 10s));
  EXPECT_NE(line.find("messaging"), std::string::npos) << line;
  EXPECT_NE(line.find("upstream call failed"), std::string::npos) << line;
  EXPECT_NE(line.find("127.0.0.1:"), std::string::npos) << "the log keeps where it tried: " << line;

  sys.restart_messaging();
  std::optional<client::HttpResponse> after;
  ASSERT_TRUE(wait_until(
      [&] {
        auto r = list();
        if (r) after = *r;
        return r && r->status == 200;
      },
      20s))
      << (after ? after->body : "no answer");
}

TEST(EdgeErrors, ATlsFailureWithAServiceShowsNoLibraryText) {
  // A gateway whose RPC certificate identity does not trust: every identity call
  // fails in the TLS handshake.
  System sys;
  sys.create_practice("cove");
  GatewayFlags rogue;
  rogue.rpc_identity = "rogue";
  sys.start_gateway(rogue);
  const std::size_t n = 1;  // the System's own gateway is 0
  client::HttpsClient http(sys.endpoint(n));
  auto r = http.request("POST", "/v1/auth/login",
                        R"({"practice":"cove","email":"admin@cove.example","password":"whatever it is"})", {}, 20s);
  ASSERT_TRUE(r);
  expect_temporarily_unavailable(*r);
  std::string line;
  ASSERT_TRUE(wait_until(
      [&] { return !(line = log_line_of(sys.gateway_process(n), r->header("x-request-id"))).empty(); }, 10s));
  EXPECT_NE(line.find("identity"), std::string::npos) << line;
}

TEST(EdgeErrors, AnAckOnASocketWhileRemindersIsDownSaysOnlyTemporarilyUnavailable) {
  // A client acknowledges a reminder on its WebSocket while the reminders process is dead.
  System sys;
  sys.create_practice("bay");
  sys.create_user("bay", "lee@example.org", "client");
  auto lee = sys.login("bay", "lee@example.org");
  sys.kill_reminders();
  auto socket = lee->open_push_socket();
  ASSERT_TRUE(socket) << socket.error().message;
  (*socket)->send_text(R"({"type":"ack","id":"a-reminder-id"})");
  std::optional<json::value> answer;
  ASSERT_TRUE(wait_until(
      [&] {
        auto frame = (*socket)->read_text(500ms);
        if (frame && frame->find("ack.") != std::string::npos) answer = json::parse(*frame);
        return answer.has_value();
      },
      20s));
  EXPECT_EQ(answer->at("type").as_string(), "ack.error");
  EXPECT_EQ(answer->at("error").at("code").as_string(), "unavailable");
  EXPECT_EQ(answer->at("error").at("message").as_string(), "temporarily unavailable") << json::serialize(*answer);
}

}  // namespace
}  // namespace alliance::testing
