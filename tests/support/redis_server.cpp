#include "redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

namespace alliance::testing {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool redis_ping(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    static constexpr char kPing[] = "*1\r\n$4\r\nPING\r\n";
    if (send(fd, kPing, sizeof kPing - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof kPing - 1)) {
      std::string got;
      char buf[64];
      pollfd p{fd, POLLIN, 0};
      // A loading or busy server answers with an error; only +PONG means ready.
      while (got.find("\r\n") == std::string::npos && poll(&p, 1, 500) > 0) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
      }
      ok = got.rfind("+PONG\r\n", 0) == 0;
    }
  }
  close(fd);
  return ok;
}

RedisServer::RedisServer() {
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
  opts.args = {"--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir", dir_.path().string(),
               "--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no"};
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
        return redis_ping(port_);
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

std::string RedisServer::cli(std::vector<std::string> args) {
  std::vector<std::string> full = {"-h", "127.0.0.1", "-p", std::to_string(port_)};
  full.insert(full.end(), args.begin(), args.end());
  return run_command("redis-cli", full).out;
}

}  // namespace alliance::testing
