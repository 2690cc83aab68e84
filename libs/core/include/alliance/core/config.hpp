#pragma once
// Service configuration: one `key = value` file per service (`#` starts a
// comment), every key overridable by the environment variable
// ALLIANCE_<SERVICE>_<KEY> (upper case, '.' and '-' become '_') and then by a
// `--key value` / `--key=value` flag. Precedence: flag > environment > file >
// default. Every bad or missing value throws ConfigError naming the key.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include "alliance/core/log.hpp"

namespace alliance {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, const std::string& what)
      : std::runtime_error(what), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

// Where a service's RPC server is: host:port, or a Unix-domain socket for a server on
// the same host (unix_path set; host and port unused).
struct RpcAddress {
  std::string host;
  std::uint16_t port = 0;
  std::string unix_path;
};

class Config {
 public:
  using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

  // Reads `--config FILE` (if given) and the other flags of argv.
  static Config load(std::string_view service, int argc, const char* const* argv);
  // For tests: the file text, the flags and an environment of your choosing.
  static Config from_text(std::string_view service, std::string_view file_text,
                          std::map<std::string, std::string> flags = {},
                          EnvLookup env = {});

  std::string string(std::string_view key) const;
  std::string string(std::string_view key, std::string_view fallback) const;
  std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) const;
  bool boolean(std::string_view key, bool fallback) const;
  // "250ms", "30s", "15m", "2h", "7d"; a bare number is seconds.
  std::chrono::milliseconds duration(std::string_view key,
                                     std::chrono::milliseconds fallback) const;
  // "127.0.0.1:8443"; port 0 means "any free port".
  HostPort host_port(std::string_view key) const;
  HostPort host_port(std::string_view key, std::string_view fallback) const;
  // "127.0.0.1:7101", or "unix:/run/alliance/identity.sock" (an absolute path that fits
  // in a socket address: at most 107 bytes).
  RpcAddress rpc_address(std::string_view key, std::string_view fallback) const;
  // An absolute path for a Unix-domain socket to listen on (at most 107 bytes, its
  // folder existing); "" when the key is not set.
  std::string unix_socket_path(std::string_view key) const;
  // A path to an existing, readable file, relative paths resolved against the
  // config file's folder.
  std::filesystem::path file(std::string_view key) const;
  std::filesystem::path file(std::string_view key, std::string_view fallback) const;
  // A path whose parent folder exists (the file itself may be created); an
  // empty path when the key is not set and the fallback is empty (optional output).
  std::filesystem::path output_path(std::string_view key, std::string_view fallback) const;

  // A comma-separated list ("gateway, messaging"); blanks around items and
  // empty items are dropped. A list that ends up empty is an error.
  std::set<std::string, std::less<>> list(std::string_view key, std::string_view fallback) const;
  // "debug" | "info" | "warn" | "error".
  log::Level log_level(std::string_view key = "log_level", std::string_view fallback = "info") const;

  // Throws for a key given in the file or flags that nothing asked for (a typo).
  void reject_unknown() const;

  // The environment variable that overrides `key` for this service.
  std::string env_name(std::string_view key) const;

 private:
  struct Entry {
    std::string value;
    std::string origin;  // "gateway.conf:3", "ALLIANCE_GATEWAY_LISTEN", "--listen"
  };
  std::optional<Entry> find(std::string_view key) const;
  [[noreturn]] void fail(std::string_view key, const Entry* entry, std::string_view why) const;

  std::string service_;
  std::filesystem::path base_dir_;
  std::map<std::string, Entry, std::less<>> file_;
  std::map<std::string, Entry, std::less<>> flags_;
  EnvLookup env_;
  mutable std::set<std::string, std::less<>> asked_;
};

}  // namespace alliance
