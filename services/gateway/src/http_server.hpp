#pragma once
// The public HTTPS + WSS listener (Boost.Beast). This is the only gateway file
// that instantiates Beast and SSL stream types; all decisions are made by
// Gateway. Runs on the executor given (one I/O thread's io_context).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "alliance/core/asio.hpp"

namespace alliance::gateway {

class Gateway;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::size_t body_limit = 64 * 1024;
  std::size_t header_limit = 8 * 1024;                 // the whole header block: request line and fields
  std::size_t header_fields_limit = 100;               // fields in one request; more -> 431
  std::chrono::milliseconds handshake_timeout{5000};   // TLS handshake and WebSocket upgrade
  std::chrono::milliseconds read_timeout{10000};       // a whole request, headers and body
  std::chrono::milliseconds keepalive_timeout{30000};  // between requests on one connection
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds ws_idle_timeout{60000};    // nothing heard (not even a pong) -> close 4408
  std::chrono::milliseconds ws_ping_interval{20000};
  std::size_t ws_max_queued = 1024;                    // pushes waiting on one slow socket before it is closed
  std::size_t max_connections = 100000;
  // The operator listener (metrics_listen): serves Gateway::handle_operator, no WebSockets.
  bool operator_endpoints = false;
};

class HttpServer {
 public:
  HttpServer(asio::any_io_executor ex, asio::ssl::context& tls, Gateway& gateway, HttpServerOptions options);
  ~HttpServer();
  // Puts the servers of several I/O threads (one each, on its thread's executor) on one
  // port: each listens with SO_REUSEPORT, so the kernel spreads new connections over the
  // threads, and an upgraded WebSocket moves to the server that owns its user (a hash of
  // the user id), so a user's sockets, push subscription and per-user caps sit on one
  // thread. max_connections caps the group's sum. Call before listen().
  static void group(const std::vector<HttpServer*>& servers);
  // Binds and starts accepting; returns the bound port. The overload binds `port` instead
  // of the options' (a group's other servers take the port the first one got).
  std::uint16_t listen();
  std::uint16_t listen(std::uint16_t port);
  // Stops accepting and closes every connection (WebSockets with 1001).
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace alliance::gateway
