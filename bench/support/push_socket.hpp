#pragma once
// Opening one authenticated push WebSocket the way a client does, shared by the
// benchmarks' held sockets (sockets.cpp) and alliance-loadgen's ws mode: TLS (the
// server's certificate checked against the CA and the host), the upgrade on GET /v1/ws
// with Authorization: Bearer, and the first frame, which must be session.ready.
// Includes Beast: only for the files that already instantiate its stream types.
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "alliance/core/asio.hpp"

namespace alliance::bench {

using PushSocket = boost::beast::websocket::stream<asio::ssl::stream<boost::beast::tcp_stream>>;

// TLS 1.2+ client context trusting `ca` only; record buffers are released while a
// connection idles, so thousands of held sockets cost the tool little memory. Throws
// std::runtime_error naming the file if it does not load.
std::shared_ptr<asio::ssl::context> push_client_tls(const std::filesystem::path& ca);

// "read:timeout", "connect:refused", "tls:certificate_verify_failed", ...: a failure's
// kind for a report, by step.
std::string error_kind(std::string_view step, const boost::system::error_code& ec);

struct PushSocketRequest {
  std::string host;         // checked against the certificate; an IP literal
  std::string host_header;  // "127.0.0.1:8443"
  std::string path = "/v1/ws";
  std::string token;        // the access token, sent as Authorization: Bearer
  std::string user_agent = "alliance-bench";
};

// On a connected socket (its deadline set by the caller, for the whole setup): the TLS
// handshake, the upgrade and the first frame (read into `buffer` and consumed). Empty
// when the socket is ready; else the failure's kind ("tls:...", "upgrade:status_401",
// "first_frame:not_session_ready"). The server's pings are answered by Beast afterwards.
asio::awaitable<std::string> open_push_socket(PushSocket& ws, boost::beast::flat_buffer& buffer,
                                              const PushSocketRequest& request,
                                              std::chrono::milliseconds handshake_timeout);

// Sends a normal close and waits (up to `timeout`) for the server's.
asio::awaitable<void> close_push_socket(PushSocket& ws, std::chrono::milliseconds timeout);

}  // namespace alliance::bench
