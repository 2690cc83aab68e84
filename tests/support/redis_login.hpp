#pragma once
// redis::Options that log in to a test RedisServer as one of its ACL users ("admin",
// "gateway", "identity", "messaging", "scheduling", "reminders"). Header-only: for
// tests that link alliance::redis.
#include <string>

#include "alliance/redis/types.hpp"
#include "redis_server.hpp"

namespace alliance::testing {

inline redis::Options redis_login(const RedisServer& server, const std::string& user) {
  auto options = redis::parse_options(HostPort{"127.0.0.1", server.port()});
  options.user = user;
  options.password = RedisServer::password(user);
  return options;
}

}  // namespace alliance::testing
