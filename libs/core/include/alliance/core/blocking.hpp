#pragma once
// Runs blocking work (SQLite, scrypt) on a thread pool and resumes the awaiting
// coroutine on its own executor, so no I/O thread ever blocks.
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/thread_pool.hpp>
#include <exception>
#include <type_traits>

#include "alliance/core/asio.hpp"

namespace alliance {

// `f` must not throw (return a Result for expected failures); an exception
// escaping it is a bug and terminates the process.
template <class Executor, class F>
asio::awaitable<std::invoke_result_t<F&>> run_blocking(Executor pool, F f) {
  using R = std::invoke_result_t<F&>;
  static_assert(!std::is_void_v<R>, "return a value (Status) from blocking work");
  auto home = co_await asio::this_coro::executor;
  // Named outside the co_await: g++ 12 double-frees lambdas with non-trivial
  // captures that are built inside a co_await expression.
  auto initiation = [pool, home](auto handler, F fn) mutable {
    asio::post(pool, [handler = std::move(handler), fn = std::move(fn), home]() mutable noexcept {
      R result = fn();
      asio::post(home, [handler = std::move(handler), result = std::move(result)]() mutable {
        std::move(handler)(std::move(result));
      });
    });
  };
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(R)>(
      std::move(initiation), asio::use_awaitable, std::move(f));
}

}  // namespace alliance
