#pragma once
// redis::Options that log in to a test RedisServer as one of its ACL users ("admin",
// "gateway", "identity", "messaging", "scheduling", "reminders"), over TLS when the
// server speaks it: trusting the development CA and presenting the service's own
// certificate (admin: redis-admin's). Header-only: for tests that link alliance::redis.
#include <string>

#include "alliance/redis/types.hpp"
#include "dev_certs.hpp"
#include "redis_server.hpp"

namespace alliance::testing {

inline redis::Options redis_login(const RedisServer& server, const std::string& user) {
  auto options = redis::parse_options(HostPort{"127.0.0.1", server.port()});
  options.user = user;
  options.password = RedisServer::password(user);
  if (server.tls()) {
    const auto& certs = dev_certs();
    bool admin = user == "admin";
    options.tls = redis::make_tls_context(certs.ca(), admin ? certs.redis_admin_cert() : certs.cert(user),
                                          admin ? certs.redis_admin_key() : certs.key(user));
  }
  return options;
}

}  // namespace alliance::testing
