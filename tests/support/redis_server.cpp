#include "redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "dev_certs.hpp"

namespace alliance::testing {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string resp_command(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

// The users scripts/redis-users makes, in a folder that lives as long as the process.
struct UsersFolder {
  TempDir dir;
  UsersFolder() {
    auto r = run_command(ALLIANCE_SOURCE_DIR "/scripts/redis-users", {dir.path().string()}, std::chrono::seconds(30));
    if (r.exit_code != 0 || !fs::exists(acl_file()))
      throw std::runtime_error("scripts/redis-users " + dir.path().string() + " failed");
  }
  fs::path acl_file() const { return dir.path() / "redis-users.acl"; }
};

const UsersFolder& users() {
  static UsersFolder folder;
  return folder;
}

}  // namespace

fs::path RedisServer::password_file(const std::string& user) {
  return users().dir.path() / ("redis-" + user + ".password");
}

std::string RedisServer::password(const std::string& user) {
  std::ifstream in(password_file(user));
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) throw std::runtime_error("no redis password for user " + user);
  return s;
}

namespace {

// A socket connected to 127.0.0.1:port, or -1.
int connect_loopback(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
  close(fd);
  return -1;
}

}  // namespace

bool redis_ping(std::uint16_t port, const std::string& user, const std::string& password) {
  int fd = connect_loopback(port);
  if (fd < 0) return false;
  bool ok = false;
  {
    std::string request;
    std::string expect;
    if (!password.empty()) {
      request = resp_command({"AUTH", user, password});
      expect = "+OK\r\n";
    }
    request += resp_command({"PING"});
    expect += "+PONG\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      std::string got;
      char buf[64];
      pollfd p{fd, POLLIN, 0};
      // A loading or busy server answers with an error; only +PONG (after +OK) means ready.
      while (got.size() < expect.size() && poll(&p, 1, 500) > 0) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
      }
      ok = got == expect;
    }
  }
  close(fd);
  return ok;
}

RedisServer::RedisServer() : RedisServer(Setup{}) {}

RedisServer::RedisServer(Setup setup) : setup_(std::move(setup)) {
  if (setup_.tls) {
    const auto& certs = dev_certs();
    if (setup_.cert.empty()) setup_.cert = certs.redis_cert();
    if (setup_.key.empty()) setup_.key = certs.redis_key();
    if (setup_.cert_ca.empty()) setup_.cert_ca = certs.ca();
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    if (launch(10s)) return;
    // Most likely the port was taken between free_port() and bind: try another.
  }
  throw std::runtime_error("redis-server did not start; last log:\n" + log());
}

RedisServer::~RedisServer() { stop(); }

std::string RedisServer::host_port() const { return "127.0.0.1:" + std::to_string(port_); }
fs::path RedisServer::dir() const { return dir_.path(); }
fs::path RedisServer::log_file() const { return dir_.path() / "redis-server.log"; }

std::string RedisServer::log() const {
  return process_ ? process_->log() : std::string();
}

bool RedisServer::launch(std::chrono::milliseconds ready_timeout) {
  Process::Options opts;
  opts.exe = "redis-server";
  opts.args = {"--bind", "127.0.0.1", "--dir", dir_.path().string(),
               "--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no",
               "--aclfile", users().acl_file().string()};
  if (setup_.tls) {
    // TLS only: no plaintext port at all.
    opts.args.insert(opts.args.end(),
                     {"--port", "0", "--tls-port", std::to_string(port_), "--tls-cert-file", setup_.cert.string(),
                      "--tls-key-file", setup_.key.string(), "--tls-ca-cert-file", dev_certs().ca().string(),
                      "--tls-auth-clients", setup_.client_certs ? "yes" : "no"});
  } else {
    opts.args.insert(opts.args.end(), {"--port", std::to_string(port_)});
  }
  opts.log_file = log_file();
  opts.cwd = dir_.path();
  process_.emplace(Process::start(std::move(opts)));
  bool exited = false;
  bool ready = wait_until(
      [&] {
        if (!process_->running()) {
          exited = true;
          return true;
        }
        return answers_ping();
      },
      ready_timeout);
  if (exited) {
    return false;
  }
  if (!ready) {
    std::string log_text = process_->log();
    process_->kill9();
    throw std::runtime_error("redis-server on port " + std::to_string(port_) +
                             " did not answer PING in time; log:\n" + log_text);
  }
  return true;
}

void RedisServer::stop() {
  if (process_) process_->terminate();
}

bool RedisServer::running() { return process_ && process_->running(); }

void RedisServer::restart() {
  stop();
  // The port may briefly be unbindable; a few tries on the same port.
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (launch(10s)) return;
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error("redis-server could not restart on port " + std::to_string(port_) + "; log:\n" + log());
}

bool RedisServer::answers_ping() {
  if (!setup_.tls) return redis_ping(port_, "admin", password("admin"));
  // redis-cli only once the port is open (it complains on stderr otherwise).
  int fd = connect_loopback(port_);
  if (fd < 0) return false;
  close(fd);
  try {
    return cli({"PING"}) == "PONG\n";
  } catch (const std::runtime_error&) {
    return false;  // redis-cli hung on a server still starting
  }
}

std::string RedisServer::cli(std::vector<std::string> args) {
  // The password goes through the environment, not the command line others can read.
  std::vector<std::string> full = {"-h", "127.0.0.1", "-p", std::to_string(port_), "--user", "admin"};
  if (setup_.tls) {
    const auto& certs = dev_certs();
    full.insert(full.end(), {"--tls", "--cacert", setup_.cert_ca.string(), "--cert", certs.redis_admin_cert().string(),
                             "--key", certs.redis_admin_key().string()});
  }
  full.insert(full.end(), args.begin(), args.end());
  return run_command("redis-cli", full, std::chrono::seconds(10), {{"REDISCLI_AUTH", password("admin")}}).out;
}

}  // namespace alliance::testing
