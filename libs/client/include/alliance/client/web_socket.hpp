#pragma once
// Blocking WebSocket over TLS (Boost.Beast behind a pimpl).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "alliance/client/endpoint.hpp"
#include "alliance/core/result.hpp"

namespace alliance::client {

// One wss:// connection owned by the thread that calls it; each call runs the
// socket's private io_context until it is done or its timeout passes. A read is
// always pending while the socket is open, so Beast answers the server's pings
// whenever a call is running (call read_text/wait_closed often enough for the
// server's ping interval). Not thread-safe.
class WebSocket {
 public:
  // Opens TLS, sends the upgrade for `target` with "Authorization: Bearer
  // <bearer>" (omitted when empty). If the server refuses the upgrade with an
  // HTTP status, the Error's code follows that status (401 -> kUnauthenticated,
  // 429 -> kResourceExhausted, ...) and carries the server's message and field.
  static Result<std::unique_ptr<WebSocket>> connect(const Endpoint& ep, std::string_view target,
                                                    std::string_view bearer,
                                                    std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~WebSocket();  // closes normally (briefly waiting for the server) if still open
  WebSocket(const WebSocket&) = delete;
  WebSocket& operator=(const WebSocket&) = delete;

  // The next text (or binary) message; nullopt on timeout or once the socket is
  // closed (check closed()). Messages that arrived earlier are returned first.
  std::optional<std::string> read_text(std::chrono::milliseconds timeout);
  // Reads and discards messages until the server closes; true if it did in time.
  bool wait_closed(std::chrono::milliseconds timeout);
  // True once the connection has ended, by a close frame or a transport error.
  bool closed() const;
  // The close code the server sent (4401, 4408, 1001, 1000, ...); 1006 when the
  // connection ended without a close frame (close_reason() then says why); 0 while open.
  int close_code() const;
  std::string close_reason() const;

  // Sends one text frame; waits up to 5 s for it to be written. A failure marks the socket closed.
  void send_text(std::string_view text);
  // Sends a normal close (1000) and waits up to 2 s for the server's close frame.
  void close();

 private:
  struct Impl;
  explicit WebSocket(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace alliance::client
