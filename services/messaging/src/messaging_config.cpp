#include "messaging_config.hpp"

namespace alliance::messaging {

MessagingConfig load_messaging_config(const Config& config) {
  MessagingConfig c;
  c.listen = config.host_port("listen", "127.0.0.1:7102");
  c.listen_unix = config.unix_socket_path("listen_unix");
  c.tls.ca = config.file("tls_ca");
  c.tls.cert = config.file("tls_cert");
  c.tls.key = config.file("tls_key");
  c.database = config.output_path("database", "messaging.db");
  c.redis = redis::load_options(config, "messaging");
  c.identity = config.rpc_address("identity", "127.0.0.1:7101");
  c.identity_name = config.string("identity_name", "identity");
  if (c.identity_name.empty())
    throw ConfigError("identity_name", "config: key \"identity_name\": must not be empty");
  c.send_rate_per_minute = static_cast<int>(config.integer("send_rate_per_minute", 120, 0, 1'000'000));
  auto sweep = config.duration("retention_sweep", std::chrono::hours(1));
  if (sweep < std::chrono::seconds(1) || sweep > std::chrono::hours(24))
    throw ConfigError("retention_sweep", "config: key \"retention_sweep\": must be between 1s and 24h");
  c.retention_sweep = std::chrono::duration_cast<std::chrono::milliseconds>(sweep);
  auto cache = config.duration("directory_cache", std::chrono::seconds(30));
  if (cache < std::chrono::seconds(0) || cache > std::chrono::minutes(10))
    throw ConfigError("directory_cache", "config: key \"directory_cache\": must be between 0 and 10m");
  c.directory_cache = std::chrono::duration_cast<std::chrono::milliseconds>(cache);
  c.allowed_peers = config.list("allowed_peers", "gateway");
  c.audit_off_for_benchmarks = config.boolean("audit_off_for_benchmarks", false);
  c.log_level = config.log_level();
  auto ready = config.string("ready_file", "");
  if (!ready.empty()) c.ready_file = config.output_path("ready_file", "");
  config.reject_unknown();
  return c;
}

}  // namespace alliance::messaging
