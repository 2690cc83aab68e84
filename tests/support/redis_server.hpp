#pragma once
// A real redis-server for tests: loopback only, on a free port, in its own temp dir,
// no persistence, with the ACL users scripts/redis-users makes (`default` off: every
// client logs in as a service's user or `admin`). By default it speaks TLS only (no
// plaintext port) with the development Redis certificate and requires a client
// certificate from the development CA, as scripts/run and deploy/ do. Blocking; use it
// from the test's main thread.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "process.hpp"

namespace alliance::testing {

class RedisServer {
 public:
  // How it listens. Empty paths: dev_certs()'s Redis certificate and key, and its CA.
  struct Setup {
    bool tls = true;             // false: plaintext on the port, no TLS
    bool client_certs = true;    // tls-auth-clients: yes, or no (a certificate is optional)
    std::filesystem::path cert;  // the server's certificate and key
    std::filesystem::path key;
    std::filesystem::path cert_ca;  // the CA that signed `cert` (redis-cli trusts it)
  };

  // Starts `redis-server --bind 127.0.0.1 --dir <tmp> --save "" --appendonly no --aclfile
  // <users>` with `--port 0 --tls-port P --tls-cert-file ... --tls-ca-cert-file <dev CA>`
  // (or `--port P` without TLS), found on $PATH, and returns once it answers PING as
  // admin. Retries on another port if the chosen one was taken meanwhile; throws
  // std::runtime_error (with its log) otherwise.
  RedisServer();
  explicit RedisServer(Setup setup);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  bool tls() const { return setup_.tls; }
  std::string host_port() const;        // "127.0.0.1:P"
  std::filesystem::path dir() const;    // redis-server's --dir (where dump.rdb would go)
  std::filesystem::path log_file() const;
  std::string log() const;              // redis-server's log, for failure messages

  void stop();      // SIGTERM and wait until it has exited and released the port
  void restart();   // start again on the SAME port (empty data), wait until it answers PING
  bool running();

  // Runs `redis-cli -p P args...` as admin (over TLS with the admin's client certificate
  // when the server speaks TLS) and returns its stdout (raw format, e.g. "PONG\n").
  std::string cli(std::vector<std::string> args);

  // The ACL users' password files and passwords ("admin", "gateway", "identity",
  // "messaging", "scheduling", "reminders"), made once per test process.
  static std::filesystem::path password_file(const std::string& user);
  static std::string password(const std::string& user);

 private:
  bool launch(std::chrono::milliseconds ready_timeout);  // false if it exited before ready

  bool answers_ping();

  Setup setup_;
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::optional<Process> process_;
};

// True if something on 127.0.0.1:port accepts AUTH user password (when a password is
// given) and answers a RESP PING with +PONG.
bool redis_ping(std::uint16_t port, const std::string& user = "", const std::string& password = "");

}  // namespace alliance::testing
