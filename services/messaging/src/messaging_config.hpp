#pragma once
// messaging's configuration (service name "messaging"; every key also
// ALLIANCE_MESSAGING_<KEY> or --key). Start-up code: every bad value throws
// ConfigError naming the key.
#include <chrono>
#include <filesystem>
#include <set>
#include <string>

#include "alliance/core/config.hpp"
#include "alliance/redis/types.hpp"
#include "alliance/core/log.hpp"
#include "alliance/net/tls.hpp"

namespace alliance::messaging {

struct MessagingConfig {
  HostPort listen;                                   // listen (default 127.0.0.1:7102)
  std::string listen_unix;                           // listen_unix: also a Unix-domain socket here (default: none)
  net::TlsFiles tls;                                 // tls_ca, tls_cert, tls_key
  std::filesystem::path database;                    // database (default messaging.db)
  redis::Options redis;                              // redis, redis_user, redis_password_file, redis_tls and its files
  RpcAddress identity;                               // identity (default 127.0.0.1:7101, or unix:PATH)
  std::string identity_name;                         // identity_name (default "identity")
  int send_rate_per_minute = 120;                    // send_rate_per_minute (0 = no limit, max 1000000)
  std::chrono::milliseconds retention_sweep{std::chrono::hours(1)};  // retention_sweep (1s..24h)
  std::chrono::milliseconds directory_cache{std::chrono::seconds(30)};  // directory_cache (0 = off, ..10m)
  std::set<std::string, std::less<>> allowed_peers;  // allowed_peers (default "gateway")
  // audit_off_for_benchmarks: sends no audit records, so a benchmark can measure what
  // auditing costs (A/B). Never for a practice: the service warns at start when it is on.
  bool audit_off_for_benchmarks = false;
  log::Level log_level = log::Level::kInfo;          // log_level
  std::filesystem::path ready_file;                  // ready_file (optional)
};

// Reads every key, then reject_unknown().
MessagingConfig load_messaging_config(const Config& config);

}  // namespace alliance::messaging
