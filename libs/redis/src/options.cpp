#include <sys/stat.h>

#include <array>
#include <fstream>
#include <sstream>

#include "alliance/net/tls.hpp"
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

constexpr std::array<std::string_view, 4> kTlsKeys{"redis_ca_file", "redis_cert_file", "redis_key_file",
                                                  "redis_tls_name"};

// The TLS settings of load_options. With redis_tls off, a TLS key that is set is an
// error: an operator who wrote a CA file believes the connection is protected.
void load_tls(const Config& config, Options& o) {
  if (!config.boolean("redis_tls", false)) {
    for (auto key : kTlsKeys) {
      if (!config.string(key, "").empty()) refuse(key, "is set but redis_tls is false (set redis_tls = true)");
    }
    return;
  }
  auto ca = config.file("redis_ca_file");
  std::filesystem::path cert, key;
  bool has_cert = !config.string("redis_cert_file", "").empty();
  bool has_key = !config.string("redis_key_file", "").empty();
  if (has_cert != has_key)
    refuse(has_cert ? "redis_key_file" : "redis_cert_file", "is required with the other (a client certificate and its key)");
  if (has_cert) {
    cert = config.file("redis_cert_file");
    key = config.file("redis_key_file");
  }
  try {
    o.tls = make_tls_context(ca, cert, key);
  } catch (const std::runtime_error& e) {
    // net names what it could not load ("cannot load private key ..."): name its key.
    std::string_view what = e.what();
    refuse(what.find("private key") != what.npos      ? "redis_key_file"
           : what.find("CA certificate") != what.npos ? "redis_ca_file"
                                                      : "redis_cert_file",
           e.what());
  }
  o.tls_server_name = config.string("redis_tls_name", "");
}

}  // namespace

std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::filesystem::path& ca,
                                                            const std::filesystem::path& cert,
                                                            const std::filesystem::path& key) {
  return std::make_shared<asio::ssl::context>(net::make_tls_client_context(ca, cert, key));
}

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
  load_tls(config, o);
  return o;
}

}  // namespace alliance::redis
