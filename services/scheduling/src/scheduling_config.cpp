#include "scheduling_config.hpp"

#include "alliance/core/runtime.hpp"

namespace alliance::scheduling {

SchedulingConfig load_scheduling_config(const Config& config) {
  SchedulingConfig c;
  c.listen = config.host_port("listen", "127.0.0.1:7103");
  c.listen_unix = config.unix_socket_path("listen_unix");
  c.threads = io_threads(config);
  c.tls.ca = config.file("tls_ca");
  c.tls.cert = config.file("tls_cert");
  c.tls.key = config.file("tls_key");
  c.database = config.output_path("database", "scheduling.db");
  c.keys = store::load_kek_pair(config);
  c.redis = redis::load_options(config, "scheduling");
  c.identity = config.rpc_address("identity", "127.0.0.1:7101");
  c.identity_name = config.string("identity_name", "identity");
  if (c.identity_name.empty())
    throw ConfigError("identity_name", "config: key \"identity_name\": must not be empty");
  auto window = config.duration("cancellation_window", std::chrono::hours(24));
  if (window < std::chrono::minutes(0) || window > std::chrono::hours(24 * 30))
    throw ConfigError("cancellation_window", "config: key \"cancellation_window\": must be between 0 and 30d");
  c.cancellation_window = std::chrono::duration_cast<std::chrono::minutes>(window);
  auto hold = config.duration("waitlist_hold", std::chrono::minutes(15));
  if (hold < std::chrono::seconds(1) || hold > std::chrono::hours(24))
    throw ConfigError("waitlist_hold", "config: key \"waitlist_hold\": must be between 1s and 24h");
  c.waitlist_hold = std::chrono::duration_cast<std::chrono::milliseconds>(hold);
  auto retention = config.duration("event_retention", std::chrono::hours(24 * 30));
  if (retention < std::chrono::hours(1) || retention > std::chrono::hours(24 * 365))
    throw ConfigError("event_retention", "config: key \"event_retention\": must be between 1h and 365d");
  c.event_retention = retention;
  c.allowed_peers = config.list("allowed_peers", "gateway");
  c.audit_off_for_benchmarks = config.boolean("audit_off_for_benchmarks", false);
  c.log_level = config.log_level();
  auto ready = config.string("ready_file", "");
  if (!ready.empty()) c.ready_file = config.output_path("ready_file", "");
  config.reject_unknown();
  return c;
}

}  // namespace alliance::scheduling
