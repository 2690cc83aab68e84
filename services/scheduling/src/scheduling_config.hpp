#pragma once
// scheduling's configuration (service name "scheduling"; every key also
// ALLIANCE_SCHEDULING_<KEY> or --key). Start-up code: every bad value throws
// ConfigError naming the key.
#include <chrono>
#include <filesystem>
#include <set>
#include <string>

#include "alliance/core/config.hpp"
#include "alliance/redis/types.hpp"
#include "alliance/core/log.hpp"
#include "alliance/net/tls.hpp"
#include "alliance/store/sealed_fields.hpp"

namespace alliance::scheduling {

struct SchedulingConfig {
  HostPort listen;                                    // listen (default 127.0.0.1:7103)
  std::string listen_unix;                            // listen_unix: also a Unix-domain socket here (default: none)
  std::size_t threads = 1;                            // threads: RPC I/O threads (default: usable cores)
  net::TlsFiles tls;                                  // tls_ca, tls_cert, tls_key
  std::filesystem::path database;                     // database (default scheduling.db)
  store::KekPair keys;  // kek_file | kek_command, kek_previous_file | kek_previous_command (rotation)
  redis::Options redis;                               // redis, redis_user, redis_password_file, redis_tls and its files
  RpcAddress identity;                                // identity (default 127.0.0.1:7101, or unix:PATH)
  std::string identity_name;                          // identity_name (default "identity")
  std::chrono::minutes cancellation_window{24 * 60};  // cancellation_window (default 24h)
  std::chrono::milliseconds waitlist_hold{15 * 60 * 1000};  // waitlist_hold (default 15m, 1s..24h)
  // event_retention (default 30d, 1h..365d): how long published events stay in the
  // outbox for ListEventsSince; unpublished ones are kept until they are published.
  std::chrono::milliseconds event_retention{std::chrono::hours(24 * 30)};
  // allowed_peers (default "gateway"): the peers that call for end users (assert a
  // Caller). Services calling as themselves are granted their methods in code
  // (scheduling_rpc.cpp), never here.
  std::set<std::string, std::less<>> allowed_peers;
  // audit_off_for_benchmarks: sends no audit records, so a benchmark can measure what
  // auditing costs (A/B). Never for a practice: the service warns at start when it is on.
  bool audit_off_for_benchmarks = false;
  log::Level log_level = log::Level::kInfo;           // log_level
  std::filesystem::path ready_file;                   // ready_file (optional)
};

// Reads every key, then reject_unknown().
SchedulingConfig load_scheduling_config(const Config& config);

}  // namespace alliance::scheduling
