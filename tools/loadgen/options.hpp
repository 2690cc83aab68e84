#pragma once
// Command-line options of alliance-loadgen, parsed and bounded. Plain data, no I/O
// (parsing only reads a token file when one is named).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "alliance/core/result.hpp"

namespace alliance::loadgen {

// A loopback gateway address: the tool refuses anything that is not 127.0.0.0/8 or ::1.
struct Target {
  std::string host;  // an IP literal
  std::uint16_t port = 0;
  std::filesystem::path ca_file;
};

// `http` mode: keep-alive HTTPS GETs with a bearer token.
struct HttpLoadOptions {
  Target target;
  std::string token;
  std::string path = "/v1/me";
  int connections = 32;
  int threads = 1;                              // one io_context each
  std::chrono::milliseconds duration{10000};    // measured time, after the warm-up
  std::chrono::milliseconds warmup{1000};       // requests sent before this are not recorded
  double rate = 0;                              // requests/s over all connections; 0 = closed loop
  std::chrono::milliseconds timeout{5000};      // one request (or connect + TLS handshake)
  std::vector<std::string> source_ips;          // local addresses to bind, round-robin; empty = any
};

// `ws` mode: N authenticated WebSockets held open while something measures the gateway.
struct WsLoadOptions {
  Target target;
  std::vector<std::string> tokens;              // round-robin over connections
  std::string path = "/v1/ws";
  int connections = 1000;
  int threads = 1;
  int concurrency = 64;                         // handshakes in flight per thread
  std::chrono::milliseconds hold{0};            // after all are ready
  std::chrono::milliseconds timeout{10000};     // one connection: TCP + TLS + upgrade + session.ready
  std::chrono::milliseconds connect_budget{180000};  // the whole connect phase
  std::vector<std::string> source_ips;
  std::filesystem::path ready_file;             // written (JSON counts) once the connect phase ends
};

inline constexpr int kMaxConnections = 100000;
inline constexpr int kMaxThreads = 64;
inline constexpr std::chrono::hours kMaxDuration{1};

// argv after the mode word. Errors are kInvalidArgument naming the option.
Result<HttpLoadOptions> parse_http_options(const std::vector<std::string>& args);
Result<WsLoadOptions> parse_ws_options(const std::vector<std::string>& args);

// "127.0.0.1-127.0.0.20", "127.0.0.5" or a comma-separated list of either; loopback
// IPv4 only, at most 256 addresses.
Result<std::vector<std::string>> parse_source_ips(const std::string& spec);

std::string usage();

}  // namespace alliance::loadgen
