#pragma once
// Internal: the bytes of one Redis connection, over TCP or TLS over TCP (Options::tls).
// The TLS stream lives in transport.cpp only (its templates are costly to compile).
// Lives on one single-threaded executor; at most one read and one write pending at a time.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "alliance/core/asio.hpp"
#include "alliance/redis/types.hpp"

namespace alliance::redis::detail {

class Transport {
 public:
  explicit Transport(asio::any_io_executor ex);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Resolves opts.host, connects, and with opts.tls does the TLS handshake, checking
  // Redis's certificate for opts.tls_server_name (or opts.host). Returns why it failed
  // ("tls handshake: certificate verify failed: hostname mismatch"), empty on success.
  asio::awaitable<std::string> connect(const Options& opts);
  // Reads what has arrived (at least one byte) into `b`.
  asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_some(asio::mutable_buffer b);
  // Writes all of `b`.
  asio::awaitable<boost::system::error_code> write(asio::const_buffer b);
  // Closes the socket; pending operations complete with an error.
  void close();

  // An error from read_some/write in words for a log line ("closed by Redis", ...).
  static std::string describe(const boost::system::error_code& ec);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace alliance::redis::detail
