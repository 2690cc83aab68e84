#include <gtest/gtest.h>

#include "src/metrics.hpp"

namespace alliance::gateway {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(Metrics, TwoThreadsFiguresAddUpInOneRendering) {
  Metrics first, second;
  first.observe_http("/v1/me", 200, 0.0004);
  first.observe_http("/v1/me", 401, 0.0001);
  second.observe_http("/v1/me", 200, 0.003);
  second.observe_rpc("identity", "alliance.identity.v1.Identity/GetMe", Code::kUnavailable, 0.002);
  first.observe_rpc("identity", "alliance.identity.v1.Identity/GetMe", Code::kOk, 0.001);
  first.count("ws_handed_over");
  second.count("ws_handed_over", 2);
  EXPECT_EQ(first.http_requests(), 2u);

  Metrics total = first;
  total.merge(second);
  EXPECT_EQ(total.http_requests(), 3u);
  Metrics::Gauges gauges{1, 1, 0, 0, 0};
  gauges += Metrics::Gauges{2, 1, 3, 0, 0};
  auto text = total.render(gauges, {{2, 1}, {1, 2}});
  EXPECT_TRUE(has_line(text, R"(alliance_http_requests_total{route="/v1/me",status="200"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(alliance_http_requests_total{route="/v1/me",status="401"} 1)"));
  EXPECT_TRUE(has_line(text, R"(alliance_http_request_duration_seconds_bucket{route="/v1/me",le="0.0005"} 2)"));
  EXPECT_TRUE(has_line(text, R"(alliance_http_request_duration_seconds_count{route="/v1/me"} 3)"));
  EXPECT_TRUE(has_line(
      text, R"(alliance_rpc_calls_total{service="identity",method="alliance.identity.v1.Identity/GetMe"} 2)"));
  EXPECT_TRUE(has_line(
      text,
      R"(alliance_rpc_errors_total{service="identity",method="alliance.identity.v1.Identity/GetMe",code="unavailable"} 1)"));
  EXPECT_TRUE(has_line(text, "alliance_ws_handed_over_total 3"));
  EXPECT_TRUE(has_line(text, "alliance_ws_open_sockets 3"));
  EXPECT_TRUE(has_line(text, "alliance_http_open_connections 3"));
  EXPECT_TRUE(has_line(text, R"(alliance_thread_http_requests_total{thread="0"} 2)"));
  EXPECT_TRUE(has_line(text, R"(alliance_thread_ws_open_sockets{thread="1"} 2)"));
}

}  // namespace
}  // namespace alliance::gateway
