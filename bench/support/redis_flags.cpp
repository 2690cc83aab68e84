#include "redis_flags.hpp"

namespace alliance::bench {

void RedisFlags::add_to(std::map<std::string, std::string*, std::less<>>& text) {
  text.insert({{"--redis", &address},
               {"--redis-password-file", &password_file},
               {"--redis-ca", &ca},
               {"--redis-cert", &cert},
               {"--redis-key", &key}});
}

redis::Options RedisFlags::options(const std::string& user, const std::string& name) const {
  std::map<std::string, std::string> flags{{"redis", address}, {"redis_user", user}};
  if (!password_file.empty()) flags["redis_password_file"] = password_file;
  if (!ca.empty()) {
    flags["redis_tls"] = "true";
    flags["redis_ca_file"] = ca;
  }
  if (!cert.empty()) flags["redis_cert_file"] = cert;
  if (!key.empty()) flags["redis_key_file"] = key;
  auto options = redis::load_options(Config::from_text(user, "", std::move(flags)), user);
  options.name = name;
  return options;
}

}  // namespace alliance::bench
