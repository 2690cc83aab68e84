#pragma once
// reminders' configuration (service name "reminders"; every key also
// ALLIANCE_REMINDERS_<KEY> or --key). Start-up code: every bad value throws
// ConfigError naming the key.
#include <chrono>
#include <filesystem>
#include <set>
#include <string>

#include "alliance/core/config.hpp"
#include "alliance/redis/types.hpp"
#include "alliance/core/log.hpp"
#include "alliance/net/tls.hpp"

namespace alliance::reminders {

struct RemindersConfig {
  HostPort listen;                                   // listen (default 127.0.0.1:7104)
  std::string listen_unix;                           // listen_unix: also a Unix-domain socket here (default: none)
  net::TlsFiles tls;                                 // tls_ca, tls_cert, tls_key (CN "reminders")
  std::filesystem::path database;                    // database (default reminders.db); instances may share it
  redis::Options redis;                              // redis, redis_user, redis_password_file, redis_tls and its files
  RpcAddress identity;                               // identity (default 127.0.0.1:7101, or unix:PATH)
  std::string identity_name;                         // identity_name (default "identity")
  RpcAddress scheduling;                             // scheduling (default 127.0.0.1:7103, or unix:PATH)
  std::string scheduling_name;                       // scheduling_name (default "scheduling")
  std::string instance;                              // instance (default host-pid): names its leases
  std::chrono::milliseconds lease{1000};             // lease (100ms..60s): how long after its due
                                                     // instant a claimed reminder waits for its holder
  std::chrono::milliseconds lookahead{2000};         // lookahead (0..60s): claimed this long before due
  std::chrono::milliseconds event_poll{2000};        // event_poll (50ms..60s): asks scheduling for events
                                                     // at least this often (the stream only wakes it sooner)
  std::chrono::milliseconds rescan{5000};            // rescan (50ms..60s): looks for reminders planned
                                                     // by another instance at least this often
  std::chrono::milliseconds checkin_expiry{std::chrono::hours(72)};  // checkin_expiry (1s..30d): a check-in
                                                     // stays open this long after the session is completed
  std::chrono::milliseconds directory_cache{std::chrono::minutes(5)};  // directory_cache (0..1h)
  std::set<std::string, std::less<>> allowed_peers;  // allowed_peers (default "gateway")
  log::Level log_level = log::Level::kInfo;          // log_level
  std::filesystem::path ready_file;                  // ready_file (optional)
};

// Reads every key, then reject_unknown().
RemindersConfig load_reminders_config(const Config& config);

}  // namespace alliance::reminders
