#include "reminders_config.hpp"

#include <unistd.h>

#include <array>

namespace alliance::reminders {
namespace {

std::chrono::milliseconds bounded(const Config& config, const char* key, std::chrono::milliseconds fallback,
                                  std::chrono::milliseconds lo, std::chrono::milliseconds hi, const char* range) {
  auto v = std::chrono::duration_cast<std::chrono::milliseconds>(config.duration(key, fallback));
  if (v < lo || v > hi)
    throw ConfigError(key, std::string("config: key \"") + key + "\": must be between " + range);
  return v;
}

std::string default_instance() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  return std::string(host.data()) + "-" + std::to_string(getpid());
}

}  // namespace

RemindersConfig load_reminders_config(const Config& config) {
  using namespace std::chrono_literals;
  RemindersConfig c;
  c.listen = config.host_port("listen", "127.0.0.1:7104");
  c.listen_unix = config.unix_socket_path("listen_unix");
  c.tls.ca = config.file("tls_ca");
  c.tls.cert = config.file("tls_cert");
  c.tls.key = config.file("tls_key");
  c.database = config.output_path("database", "reminders.db");
  c.redis = redis::load_options(config, "reminders");
  c.identity = config.rpc_address("identity", "127.0.0.1:7101");
  c.identity_name = config.string("identity_name", "identity");
  if (c.identity_name.empty())
    throw ConfigError("identity_name", "config: key \"identity_name\": must not be empty");
  c.scheduling = config.rpc_address("scheduling", "127.0.0.1:7103");
  c.scheduling_name = config.string("scheduling_name", "scheduling");
  if (c.scheduling_name.empty())
    throw ConfigError("scheduling_name", "config: key \"scheduling_name\": must not be empty");
  c.instance = config.string("instance", "");
  if (c.instance.empty()) c.instance = default_instance();
  if (c.instance.size() > 128) throw ConfigError("instance", "config: key \"instance\": at most 128 characters");
  c.lease = bounded(config, "lease", 1000ms, 100ms, 60s, "100ms and 60s");
  c.lookahead = bounded(config, "lookahead", 2000ms, 0ms, 60s, "0 and 60s");
  c.event_poll = bounded(config, "event_poll", 2000ms, 50ms, 60s, "50ms and 60s");
  c.rescan = bounded(config, "rescan", 5000ms, 50ms, 60s, "50ms and 60s");
  c.checkin_expiry = bounded(config, "checkin_expiry", 72h, 1s, std::chrono::hours(24 * 30), "1s and 30d");
  c.directory_cache = bounded(config, "directory_cache", 5min, 0ms, 1h, "0 and 1h");
  c.allowed_peers = config.list("allowed_peers", "gateway");
  c.log_level = config.log_level();
  auto ready = config.string("ready_file", "");
  if (!ready.empty()) c.ready_file = config.output_path("ready_file", "");
  config.reject_unknown();
  return c;
}

}  // namespace alliance::reminders
