#pragma once
// Values shared by the Redis client and subscriber: a copied reply and connection options.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "alliance/core/config.hpp"

namespace boost::asio::ssl {
class context;
}

namespace alliance::redis {

// A Redis reply, copied out of hiredis' reader (which frees its own).
struct Reply {
  enum class Type { kNil, kString, kStatus, kError, kInteger, kArray };
  Type type = Type::kNil;
  std::string str;                 // kString (binary-safe), kStatus ("OK"), kError ("ERR ...")
  long long integer = 0;           // kInteger
  std::vector<Reply> elements;     // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
};

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::chrono::milliseconds connect_timeout{2000};  // one connection attempt
  std::chrono::milliseconds command_timeout{2000};  // default per command()/pipeline() call
  std::chrono::milliseconds reconnect_min{50};      // first retry delay; doubles per failure
  std::chrono::milliseconds reconnect_max{2000};    // cap on the retry delay
  std::string name;                                 // shows in logs ("gateway-push", ...)
  // ACL user and password sent with AUTH before anything else on every connection;
  // no AUTH when the password is empty. The password never appears in logs or errors.
  std::string user;
  std::string password;
  // TLS: with a context (make_tls_context), every connection is TLS and Redis's
  // certificate must chain to the context's CA and be valid for `tls_server_name`
  // (empty: `host`, a DNS name or an IP address); a failed check is a failed connect
  // whose log line says why. Without one, plain TCP.
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::string tls_server_name;
};

// A client context for Options::tls: trusts `ca` and presents `cert`/`key` (both or
// neither) when Redis asks for a client certificate (tls-auth-clients). Throws
// std::runtime_error naming a file it cannot load.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::filesystem::path& ca,
                                                            const std::filesystem::path& cert = {},
                                                            const std::filesystem::path& key = {});

// Options for host:port with every other field at its default (no AUTH).
Options parse_options(const HostPort& address);

// A service's Redis settings: `redis` (host:port, default 127.0.0.1:6379), `redis_user`
// (its ACL user, default `default_user`) and `redis_password_file` (a file holding the
// password; optional, without it no AUTH is sent), and TLS: `redis_tls` (default
// false), `redis_ca_file` (required with TLS: the CA Redis's certificate must chain to),
// `redis_cert_file` and `redis_key_file` (the client certificate, both or neither) and
// `redis_tls_name` (the name Redis's certificate must carry; default: the host).
// Throws ConfigError naming the key for a password file that is missing, empty, or
// readable by group or others, and for a TLS file that is missing or does not load.
Options load_options(const Config& config, std::string_view default_user);

}  // namespace alliance::redis
