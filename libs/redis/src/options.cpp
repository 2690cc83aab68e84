#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "alliance/redis/types.hpp"

namespace alliance::redis {
namespace {

[[noreturn]] void refuse(std::string_view key, const std::string& why) {
  throw ConfigError(std::string(key), "config: key \"" + std::string(key) + "\": " + why);
}

// The password in `path` without surrounding blanks and line ends. The file must be
// private to the service's user: a password others can read protects nothing.
std::string read_password(const std::filesystem::path& path, std::string_view key) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) refuse(key, "cannot read \"" + path.string() + "\"");
  if ((st.st_mode & 077) != 0)
    refuse(key, "\"" + path.string() + "\" is readable by other users (make it mode 0600)");
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in) refuse(key, "cannot read \"" + path.string() + "\"");
  std::string s = ss.str();
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && is_space(s.back())) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && is_space(s[b])) ++b;
  s.erase(0, b);
  if (s.empty()) refuse(key, "\"" + path.string() + "\" is empty");
  return s;
}

}  // namespace

Options parse_options(const HostPort& address) {
  Options o;
  if (!address.host.empty()) o.host = address.host;
  o.port = address.port;
  return o;
}

Options load_options(const Config& config, std::string_view default_user) {
  Options o = parse_options(config.host_port("redis", "127.0.0.1:6379"));
  o.user = config.string("redis_user", default_user);
  if (o.user.empty()) refuse("redis_user", "must not be empty");
  if (!config.string("redis_password_file", "").empty())
    o.password = read_password(config.file("redis_password_file"), "redis_password_file");
  return o;
}

}  // namespace alliance::redis
