#pragma once
// IoTest: a fixture base for tests that drive a service object's coroutines
// directly (no RPC). It owns one io_context, run only from the test thread: run()
// takes one awaitable to completion, pump_until() runs handlers until a condition
// holds. Derived fixtures declare what runs on io_ after it (so it is destroyed first).
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <utility>

#include "alliance/core/asio.hpp"

namespace alliance::testing {

class IoTest : public ::testing::Test {
 protected:
  // Runs `a` on io_ and returns its value; rethrows what it threw; throws if it has
  // not finished within `timeout`.
  template <class T>
  T run(asio::awaitable<T> a, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::optional<T> out;
    bool done = false;
    std::exception_ptr ep;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(a)); },
        [&](std::exception_ptr e) {
          ep = e;
          done = true;
        });
    // An io_context that ran out of work stays stopped until restarted.
    if (io_.stopped()) io_.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline) io_.run_one_for(std::chrono::milliseconds(50));
    if (ep) std::rethrow_exception(ep);
    if (!done) throw std::runtime_error("operation did not finish in time");
    return std::move(*out);
  }

  // Runs io_'s handlers until `pred` holds or `timeout` passes; answers pred().
  bool pump_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred() && std::chrono::steady_clock::now() < deadline) io_.run_one_for(std::chrono::milliseconds(20));
    return pred();
  }

  asio::io_context io_;
};

}  // namespace alliance::testing
