#include "scheduling_config.hpp"

namespace alliance::scheduling {

std::set<std::string, std::less<>> parse_peer_list(std::string_view text) {
  std::set<std::string, std::less<>> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

SchedulingConfig load_scheduling_config(const Config& config) {
  SchedulingConfig c;
  c.listen = config.host_port("listen", "127.0.0.1:7103");
  c.tls.ca = config.file("tls_ca");
  c.tls.cert = config.file("tls_cert");
  c.tls.key = config.file("tls_key");
  c.database = config.output_path("database", "scheduling.db");
  c.redis = config.host_port("redis", "127.0.0.1:6379");
  c.identity = config.host_port("identity", "127.0.0.1:7101");
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
  c.allowed_peers = parse_peer_list(config.string("allowed_peers", "gateway,reminders"));
  if (c.allowed_peers.empty())
    throw ConfigError("allowed_peers", "config: key \"allowed_peers\": list at least one peer");
  auto level = config.string("log_level", "info");
  try {
    c.log_level = log::parse_level(level);
  } catch (const std::exception& e) {
    throw ConfigError("log_level",
                      "config: key \"log_level\": " + std::string(e.what()) + ", got \"" + level + "\"");
  }
  auto ready = config.string("ready_file", "");
  if (!ready.empty()) c.ready_file = config.output_path("ready_file", "");
  config.reject_unknown();
  return c;
}

}  // namespace alliance::scheduling
