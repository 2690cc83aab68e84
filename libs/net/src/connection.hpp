#pragma once
// Internal: one TLS connection carrying length-prefixed frames both ways, shared
// by RpcServer and RpcClient. One reader (run()) and one writer coroutine that
// drains a byte queue, so frames queued together go out in one write. Lives on
// the executor of its socket; not thread-safe.
#include <boost/asio/ssl/stream_base.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "alliance/core/asio.hpp"
#include "alliance/core/log.hpp"
#include "alliance/net/lean_tls_stream.hpp"
#include "alliance/rpc/v1/rpc.pb.h"

namespace alliance::net::detail {

using TlsStream = LeanTlsStream;

class FrameConnection : public std::enable_shared_from_this<FrameConnection> {
 public:
  FrameConnection(LeanTlsStream::socket_type socket, asio::ssl::context& tls, std::size_t max_frame);

  TlsStream& stream() { return stream_; }
  LeanTlsStream::socket_type& socket() { return stream_.socket(); }
  std::size_t max_frame() const { return max_frame_; }

  // Closes the socket unless disarm_watchdog() is called within `timeout`
  // (bounds connect + handshake, so a silent peer cannot hold a slot forever).
  void arm_watchdog(std::chrono::milliseconds timeout);
  // True if the watchdog fired.
  bool disarm_watchdog();

  // TLS handshake; "" on success, otherwise why it failed (certificate errors spelled out).
  asio::awaitable<std::string> handshake(asio::ssl::stream_base::handshake_type type);

  // Queues one encoded frame. False if the connection is closed (or closed now
  // because the peer stopped reading and the queue overflowed).
  bool send(std::string_view encoded);

  struct End {
    bool protocol_error = false;  // a malformed or oversized frame from the peer
    std::string reason;
  };
  // Starts the writer, then reads frames and hands each to `on_frame` until the
  // connection ends; closes it before returning.
  asio::awaitable<End> run(const std::function<void(alliance::rpc::v1::Frame&&)>& on_frame);

  void close();
  bool closed() const { return closed_; }

  std::string peer_address;      // "127.0.0.1:54321" or "unix:/run/alliance/identity.sock pid 812", for logs
  std::string peer_name;         // CN of the verified peer certificate (server side)
  std::size_t calls_in_flight = 0;  // server side
  std::string expected_name;     // client side: the name the server's certificate must carry

 private:
  static asio::awaitable<void> write_loop(std::shared_ptr<FrameConnection> self);

  TlsStream stream_;
  asio::steady_timer wake_;
  asio::steady_timer watchdog_;
  std::string outbox_;
  std::string writing_;
  std::size_t max_frame_;
  bool closed_ = false;
  bool watchdog_fired_ = false;
};

// Human-readable reason for an I/O error on a TLS connection.
std::string describe(const boost::system::error_code& ec);

// The peer: "127.0.0.1:443", or "unix:PATH pid N" for a Unix-domain socket (the path
// it was accepted on); empty if the socket is not connected.
std::string endpoint_text(LeanTlsStream::socket_type& socket);

// CN of the peer's verified certificate, or "".
std::string peer_common_name(TlsStream& stream);

// Completion handler for co_spawn: logs an exception that escaped a coroutine.
struct LogEscaped {
  const char* where;
  void operator()(std::exception_ptr e) const {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("coroutine failed", {{"where", where}, {"error", ex.what()}});
    } catch (...) {
      log::error("coroutine failed", {{"where", where}, {"error", "unknown exception"}});
    }
  }
};

}  // namespace alliance::net::detail
