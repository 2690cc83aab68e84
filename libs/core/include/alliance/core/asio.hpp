#pragma once
// The Asio vocabulary every Alliance library uses. Asio and Beast are compiled
// once (BOOST_ASIO_SEPARATE_COMPILATION), in libs/core/src/asio_impl.cpp.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace alliance {
namespace asio = boost::asio;
// `auto [ec, n] = co_await op(..., use_tuple);`
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}  // namespace alliance
