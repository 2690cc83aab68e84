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
  auto it = http_.find(route);
  if (it == http_.end()) it = http_.emplace(std::string(route), RouteFigures{}).first;
  ++it->second.by_status[status];
  it->second.latency.observe(seconds);
}

void Metrics::observe_rpc(std::string_view service, std::string_view method, Code code, double seconds) {
  auto it = rpc_.find(method);
  if (it == rpc_.end()) it = rpc_.emplace(std::string(method), RpcFigures{std::string(service), 0, {}, {}}).first;
  auto& f = it->second;
  ++f.calls;
  if (code != Code::kOk) ++f.errors[code];
  f.latency.observe(seconds);
}

void Metrics::count(std::string_view name, std::uint64_t n) {
  auto it = counters_.find(name);
  if (it == counters_.end()) it = counters_.emplace(std::string(name), 0).first;
  it->second += n;
}

void Metrics::Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < kBuckets.size(); ++i) buckets[i] += other.buckets[i];
  count += other.count;
  sum += other.sum;
}

void Metrics::merge(const Metrics& other) {
  for (const auto& [route, f] : other.http_) {
    auto& mine = http_[route];
    for (const auto& [status, n] : f.by_status) mine.by_status[status] += n;
    mine.latency.merge(f.latency);
  }
  for (const auto& [method, f] : other.rpc_) {
    auto [it, added] = rpc_.try_emplace(method, RpcFigures{f.service, 0, {}, {}});
    auto& mine = it->second;
    mine.calls += f.calls;
    for (const auto& [code, n] : f.errors) mine.errors[code] += n;
    mine.latency.merge(f.latency);
  }
  for (const auto& [name, n] : other.counters_) counters_[name] += n;
}

std::uint64_t Metrics::http_requests() const {
  std::uint64_t n = 0;
  for (const auto& [route, f] : http_)
    for (const auto& [status, count] : f.by_status) n += count;
  return n;
}

Metrics::Gauges& Metrics::Gauges::operator+=(const Gauges& o) {
  ws_open += o.ws_open;
  ws_users += o.ws_users;
  http_connections_open += o.http_connections_open;
  pushes_delivered += o.pushes_delivered;
  token_cache_entries += o.token_cache_entries;
  return *this;
}

std::string Metrics::render(const Gauges& g, const std::vector<ThreadFigures>& threads) const {
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
  // Series by their label strings, sorted, as Prometheus clients expect a stable order.
  std::map<std::string, std::uint64_t, std::less<>> http_requests, rpc_calls, rpc_errors;
  std::map<std::string, Histogram, std::less<>> http_latency, rpc_latency;
  for (const auto& [route, f] : http_) {
    const auto route_label = label("route", route);
    for (const auto& [status, n] : f.by_status)
      http_requests[route_label + "," + label("status", std::to_string(status))] = n;
    http_latency[route_label] = f.latency;
  }
  for (const auto& [method, f] : rpc_) {
    const auto labels = label("service", f.service) + "," + label("method", method);
    rpc_calls[labels] = f.calls;
    for (const auto& [code, n] : f.errors) rpc_errors[labels + "," + label("code", code_name(code))] = n;
    rpc_latency[labels] = f.latency;
  }
  counter_family("alliance_http_requests_total", "HTTP requests by route and status.", http_requests);
  histogram_family("alliance_http_request_duration_seconds", "HTTP request latency.", http_latency);
  counter_family("alliance_rpc_calls_total", "RPC calls to internal services.", rpc_calls);
  counter_family("alliance_rpc_errors_total", "RPC calls that failed, by status code.", rpc_errors);
  histogram_family("alliance_rpc_duration_seconds", "RPC latency.", rpc_latency);
  gauge("alliance_ws_open_sockets", "Open WebSocket connections.", g.ws_open);
  gauge("alliance_ws_users", "Users with at least one open WebSocket.", g.ws_users);
  gauge("alliance_http_open_connections", "Open HTTPS connections (not upgraded).", g.http_connections_open);
  gauge("alliance_ws_pushes_delivered_total", "Pushes queued to sockets.", g.pushes_delivered, true);
  gauge("alliance_token_cache_entries", "Verified access tokens cached.", g.token_cache_entries);
  for (auto& [name, v] : counters_) gauge("alliance_" + name + "_total", "Events.", v, true);
  if (!threads.empty()) {
    out += "# HELP alliance_thread_http_requests_total HTTP requests answered by each I/O thread.\n"
           "# TYPE alliance_thread_http_requests_total counter\n";
    for (std::size_t i = 0; i < threads.size(); ++i)
      out += "alliance_thread_http_requests_total{" + label("thread", std::to_string(i)) + "} " +
             std::to_string(threads[i].http_requests) + "\n";
    out += "# HELP alliance_thread_ws_open_sockets Open WebSockets held by each I/O thread.\n"
           "# TYPE alliance_thread_ws_open_sockets gauge\n";
    for (std::size_t i = 0; i < threads.size(); ++i)
      out += "alliance_thread_ws_open_sockets{" + label("thread", std::to_string(i)) + "} " +
             std::to_string(threads[i].ws_open) + "\n";
  }
  return out;
}

}  // namespace alliance::gateway
