#include "metrics.hpp"

#include <cstdio>

namespace alliance::gateway {
namespace {

std::string label(std::string_view k, std::string_view v) {
  std::string out(k);
  out += "=\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  out += '"';
  return out;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

void Metrics::Histogram::observe(double v) {
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (v <= kBuckets[i]) ++buckets[i];
  ++count;
  sum += v;
}

void Metrics::observe_http(std::string_view route, int status, double seconds) {
  ++http_requests_[label("route", route) + "," + label("status", std::to_string(status))];
  http_latency_[label("route", route)].observe(seconds);
}

void Metrics::observe_rpc(std::string_view service, std::string_view method, Code code, double seconds) {
  auto labels = label("service", service) + "," + label("method", method);
  ++rpc_calls_[labels];
  if (code != Code::kOk) ++rpc_errors_[labels + "," + label("code", code_name(code))];
  rpc_latency_[labels].observe(seconds);
}

void Metrics::count(std::string_view name, std::uint64_t n) { counters_[std::string(name)] += n; }

std::string Metrics::render(const Gauges& g) const {
  std::string out;
  auto counter_family = [&](std::string_view name, std::string_view help,
                            const std::map<std::string, std::uint64_t, std::less<>>& m) {
    out += "# HELP " + std::string(name) + " " + std::string(help) + "\n# TYPE " + std::string(name) +
           " counter\n";
    for (auto& [labels, v] : m) out += std::string(name) + "{" + labels + "} " + std::to_string(v) + "\n";
  };
  auto histogram_family = [&](std::string_view name, std::string_view help,
                              const std::map<std::string, Histogram, std::less<>>& m) {
    out += "# HELP " + std::string(name) + " " + std::string(help) + "\n# TYPE " + std::string(name) +
           " histogram\n";
    for (auto& [labels, h] : m) {
      for (size_t i = 0; i < kBuckets.size(); ++i)
        out += std::string(name) + "_bucket{" + labels + ",le=\"" + fmt(kBuckets[i]) + "\"} " +
               std::to_string(h.buckets[i]) + "\n";
      out += std::string(name) + "_bucket{" + labels + ",le=\"+Inf\"} " + std::to_string(h.count) + "\n";
      out += std::string(name) + "_sum{" + labels + "} " + fmt(h.sum) + "\n";
      out += std::string(name) + "_count{" + labels + "} " + std::to_string(h.count) + "\n";
    }
  };
  auto gauge = [&](std::string_view name, std::string_view help, std::uint64_t v, bool is_counter = false) {
    out += "# HELP " + std::string(name) + " " + std::string(help) + "\n# TYPE " + std::string(name) +
           (is_counter ? " counter\n" : " gauge\n") + std::string(name) + " " + std::to_string(v) + "\n";
  };
  counter_family("alliance_http_requests_total", "HTTP requests by route and status.", http_requests_);
  histogram_family("alliance_http_request_duration_seconds", "HTTP request latency.", http_latency_);
  counter_family("alliance_rpc_calls_total", "RPC calls to internal services.", rpc_calls_);
  counter_family("alliance_rpc_errors_total", "RPC calls that failed, by status code.", rpc_errors_);
  histogram_family("alliance_rpc_duration_seconds", "RPC latency.", rpc_latency_);
  gauge("alliance_ws_open_sockets", "Open WebSocket connections.", g.ws_open);
  gauge("alliance_ws_users", "Users with at least one open WebSocket.", g.ws_users);
  gauge("alliance_http_open_connections", "Open HTTPS connections (not upgraded).", g.http_connections_open);
  gauge("alliance_ws_pushes_delivered_total", "Pushes queued to sockets.", g.pushes_delivered, true);
  gauge("alliance_token_cache_entries", "Verified access tokens cached.", g.token_cache_entries);
  for (auto& [name, v] : counters_) gauge("alliance_" + name + "_total", "Events.", v, true);
  return out;
}

}  // namespace alliance::gateway
