#pragma once
// The benchmarks' TLS connections to the gateway, made the way a client makes them,
// shared by the held push sockets (sockets.cpp), alliance-loadgen and the messaging
// benchmark's senders: TCP (from a chosen source address if need be), the TLS handshake
// (the server's certificate checked against the CA and the host), and for a push
// WebSocket the upgrade on GET /v1/ws with Authorization: Bearer and the first frame,
// which must be session.ready.
// Includes Beast: only for the files that already instantiate its stream types.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "alliance/core/asio.hpp"

namespace alliance::bench {

using TlsStream = asio::ssl::stream<boost::beast::tcp_stream>;
using PushSocket = boost::beast::websocket::stream<TlsStream>;

// TLS 1.2+ client context trusting `ca` only; record buffers are released while a
// connection idles, so thousands of held sockets cost the tool little memory. Throws
// std::runtime_error naming the file if it does not load.
std::shared_ptr<asio::ssl::context> push_client_tls(const std::filesystem::path& ca);

// "read:timeout", "connect:refused", "tls:certificate_verify_failed", ...: a failure's
// kind for a report, by step.
std::string error_kind(std::string_view step, const boost::system::error_code& ec);

// co_spawn on `ctx` with a completion handler that logs an escaped exception to stderr as
// "<what> failed: <its message>" (a bug: the tool goes on with its other connections).
void spawn_logged(asio::io_context& ctx, asio::awaitable<void> work, const char* what);

// Connects `stream` to `remote` with TCP_NODELAY, from `source` (an IPv4 address; any
// local address when empty), within the stream's current expiry.
asio::awaitable<boost::system::error_code> connect_tcp(boost::beast::tcp_stream& stream,
                                                       const asio::ip::tcp::endpoint& remote,
                                                       const std::string& source = {});

// The client's TLS handshake on a connected stream (its deadline set by the caller), as
// the client SDK does it: the server's certificate must chain to the context's CA and
// name `host` (an IP SAN for an address; a DNS SAN, with SNI, for a name). Empty on
// success, else the failure's kind ("tls:certificate_verify_failed", ...).
asio::awaitable<std::string> tls_handshake(TlsStream& stream, const std::string& host);

struct PushSocketRequest {
  std::string host;         // checked against the certificate; an IP literal
  std::string host_header;  // "127.0.0.1:8443"
  std::string path = "/v1/ws";
  std::string token;        // the access token, sent as Authorization: Bearer
  std::string user_agent = "alliance-bench";
};

// On a connected socket (its deadline set by the caller, for the whole setup):
// tls_handshake, the upgrade and the first frame (read into `buffer` and consumed). Empty
// when the socket is ready; else the failure's kind ("tls:...", "upgrade:status_401",
// "first_frame:not_session_ready"). The server's pings are answered by Beast afterwards.
asio::awaitable<std::string> open_push_socket(PushSocket& ws, boost::beast::flat_buffer& buffer,
                                              const PushSocketRequest& request,
                                              std::chrono::milliseconds handshake_timeout);

// Sends a normal close and waits (up to `timeout`) for the server's.
asio::awaitable<void> close_push_socket(PushSocket& ws, std::chrono::milliseconds timeout);

}  // namespace alliance::bench
