#pragma once
// Shared by the redis tests: a real redis-server, an io_context pumped by the test
// thread, and helpers that run a coroutine or wait for a condition with a deadline.
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <optional>

#include "alliance/core/asio.hpp"
#include "alliance/redis/client.hpp"
#include "redis_login.hpp"
#include "redis_server.hpp"

namespace alliance::redis::test {

using namespace std::chrono_literals;

// Runs `io` until pred() holds or `timeout` passes; returns pred().
inline bool pump_until(asio::io_context& io, const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = 5s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  io.restart();
  while (!pred()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return pred();
    io.run_one_for(std::min<std::chrono::steady_clock::duration>(deadline - now, 10ms));
    io.restart();
  }
  return true;
}

// Starts the coroutine on `io`; done(result) runs when it finishes. (co_spawn's own
// handler wants a default-constructible result, which Result<T> is not.)
template <class T, class Done>
void spawn(asio::io_context& io, asio::awaitable<T> aw, Done done) {
  asio::co_spawn(
      io,
      [aw = std::move(aw), done = std::move(done)]() mutable -> asio::awaitable<void> {
        done(co_await std::move(aw));
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
}

// Runs the coroutine to completion on `io`; fails the test (and throws) if it takes longer than `timeout`.
template <class T>
T run(asio::io_context& io, asio::awaitable<T> aw, std::chrono::milliseconds timeout = 5s) {
  std::optional<T> result;
  std::exception_ptr error;
  bool done = false;
  asio::co_spawn(
      io,
      [&, aw = std::move(aw)]() mutable -> asio::awaitable<void> {
        result.emplace(co_await std::move(aw));
      },
      [&](std::exception_ptr e) {
        done = true;
        error = e;
      });
  if (!pump_until(io, [&] { return done; }, timeout)) {
    ADD_FAILURE() << "coroutine did not finish within " << timeout.count() << " ms";
    throw std::runtime_error("coroutine timed out");
  }
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

// Logs in as `user` (one of the ACL users the test server has; admin may do anything).
inline Options options_for(const alliance::testing::RedisServer& server, const std::string& user = "admin") {
  Options o = alliance::testing::redis_login(server, user);
  o.name = "test";
  return o;
}

// Runs a command and returns its reply, failing the test if the command itself failed.
inline Reply must(asio::io_context& io, Client& client, std::vector<std::string> args) {
  auto r = run(io, client.command(std::move(args)));
  if (!r) {
    ADD_FAILURE() << "command failed: " << r.error().message;
    return Reply{};
  }
  return std::move(*r);
}

}  // namespace alliance::redis::test
