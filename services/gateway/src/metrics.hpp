#pragma once
// Request, latency, socket and RPC figures in Prometheus text format.
// Owned by the gateway's I/O thread (no locking).
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"

namespace alliance::gateway {

class Metrics {
 public:
  void observe_http(std::string_view route, int status, double seconds);
  void observe_rpc(std::string_view service, std::string_view method, Code code, double seconds);
  void count(std::string_view name, std::uint64_t n = 1);  // a plain counter, e.g. "ws_upgrades_rejected"

  struct Gauges {
    std::uint64_t ws_open = 0;
    std::uint64_t ws_users = 0;
    std::uint64_t http_connections_open = 0;
    std::uint64_t pushes_delivered = 0;
    std::uint64_t token_cache_entries = 0;
  };
  std::string render(const Gauges& gauges) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,  0.5,   1.0,  2.5};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
    void observe(double v);
  };
  std::map<std::string, std::uint64_t, std::less<>> http_requests_;  // {route,status} labels
  std::map<std::string, Histogram, std::less<>> http_latency_;       // {route}
  std::map<std::string, std::uint64_t, std::less<>> rpc_calls_;      // {service,method}
  std::map<std::string, std::uint64_t, std::less<>> rpc_errors_;     // {service,method,code}
  std::map<std::string, Histogram, std::less<>> rpc_latency_;        // {service,method}
  std::map<std::string, std::uint64_t, std::less<>> counters_;
};

}  // namespace alliance::gateway
