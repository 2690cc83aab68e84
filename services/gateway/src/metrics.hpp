#pragma once
// Request, latency, socket and RPC figures in Prometheus text format.
// Each I/O thread owns its own (no locking); merge() adds one thread's into another's
// for the operator's /metrics.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/core/result.hpp"
#include "alliance/core/string_hash.hpp"

namespace alliance::gateway {

class Metrics {
 public:
  void observe_http(std::string_view route, int status, double seconds);
  void observe_rpc(std::string_view service, std::string_view method, Code code, double seconds);
  void count(std::string_view name, std::uint64_t n = 1);  // a plain counter, e.g. "ws_upgrades_rejected"

  // Adds every figure of `other` (another I/O thread's) to this one's.
  void merge(const Metrics& other);
  std::uint64_t http_requests() const;  // all routes and statuses

  struct Gauges {
    std::uint64_t ws_open = 0;
    std::uint64_t ws_users = 0;
    std::uint64_t http_connections_open = 0;
    std::uint64_t pushes_delivered = 0;
    std::uint64_t token_cache_entries = 0;
    Gauges& operator+=(const Gauges& o);
  };
  // What one I/O thread did, to see the load spread over them.
  struct ThreadFigures {
    std::uint64_t http_requests = 0;
    std::uint64_t ws_open = 0;
  };
  std::string render(const Gauges& gauges, const std::vector<ThreadFigures>& threads = {}) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,  0.5,   1.0,  2.5};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
    void observe(double v);
    void merge(const Histogram& other);
  };
  // Keyed by what the caller passes, so an observation looks its entry up without
  // building a label string (the labels are written by render()).
  struct RouteFigures {
    std::map<int, std::uint64_t> by_status;
    Histogram latency;
  };
  struct RpcFigures {
    std::string service;
    std::uint64_t calls = 0;
    std::map<Code, std::uint64_t> errors;
    Histogram latency;
  };
  StringMap<RouteFigures> http_;  // by route
  StringMap<RpcFigures> rpc_;     // by method ("alliance.identity.v1.Identity/GetMe" names its service)
  std::map<std::string, std::uint64_t, std::less<>> counters_;
};

}  // namespace alliance::gateway
