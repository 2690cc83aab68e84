#pragma once
// The two load runs. Each call starts `threads` threads with one io_context each,
// runs to completion within the bounds in its options, joins them and returns the
// merged figures. All Beast/TLS code is in load.cpp (the only expensive file).
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "histogram.hpp"
#include "options.hpp"

namespace alliance::loadgen {

struct HttpReport {
  int connections_opened = 0;             // successful TCP + TLS setups, reconnects included
  std::uint64_t ok = 0;                   // 200 responses inside the measured window
  std::uint64_t non_200 = 0;
  std::uint64_t transport_errors = 0;
  std::uint64_t late_sends = 0;           // open loop: sent more than 1 ms after their intended time
  std::map<std::string, std::uint64_t> errors;  // "status_503", "read:timeout", "connect:refused", ...
  std::chrono::duration<double> measured{0};    // the window ok/non_200 were counted in
  LatencyHistogram latency;               // 200 responses only
};

struct WsReport {
  int ready = 0;                          // session.ready received
  int failed = 0;
  std::map<std::string, std::uint64_t> errors;  // "upgrade:401", "tls:...", "first_frame:not_ready", ...
  std::chrono::duration<double> connect_phase{0};  // first connect to the last setup finishing
  LatencyHistogram setup;                 // one connection: connect -> session.ready
  int closed_during_hold = 0;             // ready sockets that ended before we closed them
  std::map<std::string, std::uint64_t> hold_errors;
  std::uint64_t frames_during_hold = 0;   // data frames (pushes) received while holding
};

HttpReport run_http(const HttpLoadOptions& options);

// `on_ready` runs on the calling thread once the connect phase is over (every
// connection is ready or failed, or the connect budget ran out), before the hold.
WsReport run_ws(const WsLoadOptions& options, const std::function<void(const WsReport&)>& on_ready);

}  // namespace alliance::loadgen
