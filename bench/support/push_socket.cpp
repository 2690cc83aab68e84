#include "push_socket.hpp"

#include <netinet/in.h>
#include <openssl/ssl.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <cstdio>
#include <exception>
#include <stdexcept>

namespace alliance::bench {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// Lets the kernel pick the source port at connect() time, per destination, instead
// of at bind() time: without it every source address runs out at ~28k ports in total.
using BindAddressNoPort = asio::detail::socket_option::boolean<IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT>;

}  // namespace

std::shared_ptr<ssl::context> push_client_tls(const std::filesystem::path& ca) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code ec;
  ctx->load_verify_file(ca.string(), ec);
  if (ec) throw std::runtime_error("--ca: cannot load '" + ca.string() + "': " + ec.message());
  ctx->set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

std::string error_kind(std::string_view step, const error_code& ec) {
  std::string what;
  if (ec == beast::error::timeout) {
    what = "timeout";
  } else if (ec == asio::error::connection_refused) {
    what = "refused";
  } else if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) {
    what = "reset";
  } else if (ec == asio::error::eof || ec == http::error::end_of_stream || ec == ssl::error::stream_truncated ||
             ec == websocket::error::closed) {
    what = "closed";
  } else if (ec == asio::error::address_in_use || ec == boost::system::errc::address_not_available) {
    what = "no_local_port";
  } else if (ec == asio::error::no_descriptors) {
    what = "too_many_open_files";
  } else {
    what = ec.message();
    auto reason = what.find(" (SSL routines)");
    if (reason != std::string::npos) what.erase(reason);
    for (auto& ch : what) ch = (ch == ' ' || ch == ':') ? '_' : static_cast<char>(std::tolower(ch));
  }
  return std::string(step) + ":" + what;
}

void spawn_logged(asio::io_context& ctx, asio::awaitable<void> work, const char* what) {
  asio::co_spawn(ctx, std::move(work), [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "%s failed: %s\n", what, x.what());
    }
  });
}

asio::awaitable<error_code> connect_tcp(beast::tcp_stream& stream, const tcp::endpoint& remote,
                                        const std::string& source) {
  error_code ec;
  if (!source.empty()) {
    auto& socket = stream.socket();
    socket.open(tcp::v4(), ec);
    if (ec) co_return ec;
    socket.set_option(BindAddressNoPort(true), ec);  // best effort: an old kernel just binds early
    socket.bind(tcp::endpoint(asio::ip::make_address_v4(source), 0), ec);
    if (ec) co_return ec;
  }
  auto [cec] = co_await stream.async_connect(remote, use_tuple);
  if (cec) co_return cec;
  stream.socket().set_option(tcp::no_delay(true), ec);
  co_return error_code{};
}

asio::awaitable<std::string> tls_handshake(TlsStream& stream, const std::string& host) {
  stream.set_verify_callback(ssl::host_name_verification(host));
  error_code not_address;
  asio::ip::make_address(host, not_address);
  if (not_address && !SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) co_return "tls:server_name";
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
  if (ec) co_return error_kind("tls", ec);
  co_return std::string();
}

asio::awaitable<std::string> open_push_socket(PushSocket& ws, beast::flat_buffer& buffer,
                                              const PushSocketRequest& request,
                                              std::chrono::milliseconds handshake_timeout) {
  if (auto failed = co_await tls_handshake(ws.next_layer(), request.host); !failed.empty()) co_return failed;
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = handshake_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();  // the server pings; Beast answers
  timeouts.keep_alive_pings = false;
  ws.set_option(timeouts);
  std::string authorization = "Bearer " + request.token;
  std::string user_agent = request.user_agent;
  ws.set_option(websocket::stream_base::decorator([authorization, user_agent](websocket::request_type& req) {
    req.set(http::field::authorization, authorization);
    req.set(http::field::user_agent, user_agent);
  }));
  websocket::response_type res;
  auto [uec] = co_await ws.async_handshake(res, request.host_header, request.path, use_tuple);
  if (uec) {
    if (res.result_int() != 0 && res.result() != http::status::switching_protocols)
      co_return "upgrade:status_" + std::to_string(res.result_int());
    co_return error_kind("upgrade", uec);
  }
  auto [rec, n] = co_await ws.async_read(buffer, use_tuple);
  if (rec) co_return error_kind("first_frame", rec);
  error_code jec;
  auto frame = boost::json::parse(beast::buffers_to_string(buffer.data()), jec);
  buffer.consume(n);
  const auto* type = (!jec && frame.is_object()) ? frame.as_object().if_contains("type") : nullptr;
  if (!type || !type->is_string() || type->as_string() != "session.ready") co_return "first_frame:not_session_ready";
  co_return std::string();
}

asio::awaitable<void> close_push_socket(PushSocket& ws, std::chrono::milliseconds timeout) {
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws.set_option(timeouts);
  co_await ws.async_close(websocket::close_code::normal, use_tuple);
}

}  // namespace alliance::bench
