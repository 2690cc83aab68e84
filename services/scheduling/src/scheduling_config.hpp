#pragma once
// scheduling's configuration (service name "scheduling"; every key also
// ALLIANCE_SCHEDULING_<KEY> or --key). Start-up code: every bad value throws
// ConfigError naming the key.
#include <chrono>
#include <filesystem>
#include <set>
#include <string>

#include "alliance/core/config.hpp"
#include "alliance/core/log.hpp"
#include "alliance/net/tls.hpp"

namespace alliance::scheduling {

struct SchedulingConfig {
  HostPort listen;                                    // listen (default 127.0.0.1:7103)
  net::TlsFiles tls;                                  // tls_ca, tls_cert, tls_key
  std::filesystem::path database;                     // database (default scheduling.db)
  HostPort redis;                                     // redis (default 127.0.0.1:6379)
  HostPort identity;                                  // identity (default 127.0.0.1:7101)
  std::string identity_name;                          // identity_name (default "identity")
  std::chrono::minutes cancellation_window{24 * 60};  // cancellation_window (default 24h)
  std::chrono::milliseconds waitlist_hold{15 * 60 * 1000};  // waitlist_hold (default 15m, 1s..24h)
  std::set<std::string, std::less<>> allowed_peers;   // allowed_peers (default "gateway,reminders")
  log::Level log_level = log::Level::kInfo;           // log_level
  std::filesystem::path ready_file;                   // ready_file (optional)
};

// Reads every key, then reject_unknown().
SchedulingConfig load_scheduling_config(const Config& config);

}  // namespace alliance::scheduling
