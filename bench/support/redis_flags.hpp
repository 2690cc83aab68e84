#pragma once
// The Redis flags of a benchmark that talks to Redis as a service does, read into the
// redis::Options that service would have (its ACL user, its password file, TLS).
#include <functional>
#include <map>
#include <string>

#include "alliance/redis/types.hpp"

namespace alliance::bench {

// --redis HOST:PORT, --redis-password-file FILE and, for TLS, --redis-ca FILE with
// --redis-cert FILE --redis-key FILE (the certificate presented to Redis).
struct RedisFlags {
  std::string address = "127.0.0.1:6379";
  std::string password_file, ca, cert, key;

  // Adds the five flags to parse_flags' map of text flags.
  void add_to(std::map<std::string, std::string*, std::less<>>& text);
  // The Options of the service whose ACL user is `user`, read by the services' own
  // loader (redis::load_options), so a benchmark connects exactly as that service.
  // Throws ConfigError naming the setting (redis_password_file, redis_ca_file, ...).
  redis::Options options(const std::string& user, const std::string& name) const;
};

}  // namespace alliance::bench
