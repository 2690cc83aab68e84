#pragma once
// Reading the gateway's operator /metrics in integration tests.
#include <string>
#include <string_view>

#include "system.hpp"

namespace alliance::testing {

// The value of one series on gateway `gateway`'s operator listener: its name with its
// labels as printed (`alliance_ws_open_sockets`,
// `alliance_http_requests_total{route="/v1/me",status="200"}`); -1 if absent or unreadable.
inline long long metric_value(System& sys, std::string_view series, std::size_t gateway = 0) {
  client::HttpsClient http(sys.operator_endpoint(gateway));
  auto r = http.request("GET", "/metrics", {}, {}, std::chrono::seconds(5));
  if (!r || r->status != 200) return -1;
  const std::string line = "\n" + std::string(series) + " ";
  auto at = r->body.find(line);
  if (at == std::string::npos) return -1;
  return std::stoll(r->body.substr(at + line.size()));
}

}  // namespace alliance::testing
