#pragma once
// Client: one Redis command connection (TCP, or TLS with Options::tls) on an Asio
// executor; hiredis encodes the commands and parses the replies.
// All of a Client (its connection, its commands, its completions) lives on the one
// executor it was built with, which must be single-threaded (an io_context run by one
// thread, or a strand); it is not thread-safe. Commands and replies are binary-safe.
// The first start() of any Client/Subscriber sets SIGPIPE to ignored for the process.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/redis/types.hpp"

namespace alliance::redis {

namespace detail {
class ClientImpl;
}

class Client {
 public:
  Client(asio::any_io_executor ex, Options opts);
  // Closes the connection; commands still waiting complete with kUnavailable.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects in the background and reconnects with backoff (reconnect_min doubling to
  // reconnect_max; back to reconnect_min only after a connection that stayed up for
  // reconnect_max) forever; an outage is logged once when it starts and once when it ends.
  void start();
  // Closes the connection and stops reconnecting; pending commands get kUnavailable.
  void stop();

  bool connected() const;
  // True as soon as the connection is up, false if `timeout` passes first.
  asio::awaitable<bool> wait_connected(std::chrono::milliseconds timeout);

  // Sends one command (e.g. {"SET", key, value}). kUnavailable when not connected or the
  // connection drops before the reply; kDeadlineExceeded after command_timeout (the late
  // reply is dropped); kInvalidArgument for no args. A Redis error reply ("WRONGTYPE ...")
  // is a Reply of type kError, not an Error, so callers can decide.
  asio::awaitable<Result<Reply>> command(std::vector<std::string> args);
  // Same with a timeout for this call (blocking reads: their block time plus a margin).
  asio::awaitable<Result<Reply>> command(std::vector<std::string> args, std::chrono::milliseconds timeout);
  // Sends all commands together (one write) and returns their replies in order. Fails as a
  // whole (kUnavailable / kDeadlineExceeded) if any reply is missing.
  asio::awaitable<Result<std::vector<Reply>>> pipeline(std::vector<std::vector<std::string>> commands);

  const Options& options() const;

 private:
  std::shared_ptr<detail::ClientImpl> impl_;
};

}  // namespace alliance::redis
