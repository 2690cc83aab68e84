#include "transport.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <optional>

#include "alliance/net/lean_tls_stream.hpp"
#include "alliance/net/tls.hpp"

namespace alliance::redis::detail {

using boost::system::error_code;
using tcp = asio::ip::tcp;

// Before the handshake the socket is `socket`; with TLS, `tls` then owns it.
// LeanTlsStream keeps no record buffers while nothing is in flight, which suits a
// connection that mostly waits (a subscriber).
struct Transport::State {
  explicit State(asio::any_io_executor ex) : resolver(ex), socket(ex) {}
  tcp::resolver resolver;
  tcp::socket socket;
  std::optional<net::LeanTlsStream> tls;
  bool closed = false;
};

Transport::Transport(asio::any_io_executor ex) : state_(std::make_unique<State>(std::move(ex))) {}

Transport::~Transport() { close(); }

void Transport::close() {
  state_->closed = true;
  state_->resolver.cancel();
  error_code ignored;
  if (state_->tls)
    state_->tls->close();
  else
    state_->socket.close(ignored);
}

namespace {

// Why the handshake failed: OpenSSL's reason and, for a certificate it refused, the
// verifier's ("certificate verify failed: hostname mismatch").
std::string handshake_failure(SSL* ssl, const error_code& ec) {
  std::string why = ec.message();
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    why += ": ";
    why += X509_verify_cert_error_string(verify);
  }
  return why;
}

}  // namespace

asio::awaitable<std::string> Transport::connect(const Options& opts) {
  State& s = *state_;
  error_code ec;
  auto address = asio::ip::make_address(opts.host, ec);
  if (!ec) {
    auto [cec] = co_await s.socket.async_connect(tcp::endpoint(address, opts.port), use_tuple);
    ec = cec;
  } else {
    auto [rec, results] = co_await s.resolver.async_resolve(opts.host, std::to_string(opts.port), use_tuple);
    if (rec) co_return "cannot resolve " + opts.host + ": " + rec.message();
    if (s.closed) co_return std::string("closed");
    auto [cec, endpoint] = co_await asio::async_connect(s.socket, results, use_tuple);
    ec = cec;
  }
  if (ec) co_return "connect: " + ec.message();
  if (s.closed) co_return std::string("closed");
  error_code ignored;
  s.socket.set_option(tcp::no_delay(true), ignored);
  if (!opts.tls) co_return std::string();

  s.tls.emplace(std::move(s.socket), *opts.tls);
  SSL* ssl = s.tls->native_handle();
  const std::string& name = opts.tls_server_name.empty() ? opts.host : opts.tls_server_name;
  if (!net::expect_server_name(ssl, name)) co_return "tls: cannot check the server's certificate for \"" + name + "\"";
  auto [hec] = co_await s.tls->async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (hec) co_return "tls handshake with \"" + name + "\": " + handshake_failure(ssl, hec);
  co_return std::string();
}

asio::awaitable<std::pair<error_code, std::size_t>> Transport::read_some(asio::mutable_buffer b) {
  if (state_->tls) {
    auto [ec, n] = co_await state_->tls->async_read_some(b, use_tuple);
    co_return std::pair{ec, n};
  }
  auto [ec, n] = co_await state_->socket.async_read_some(b, use_tuple);
  co_return std::pair{ec, n};
}

asio::awaitable<error_code> Transport::write(asio::const_buffer b) {
  if (state_->tls) {
    auto [ec, n] = co_await asio::async_write(*state_->tls, b, use_tuple);
    co_return ec;
  }
  auto [ec, n] = co_await asio::async_write(state_->socket, b, use_tuple);
  co_return ec;
}

std::string Transport::describe(const error_code& ec) {
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) return "closed by Redis";
  return ec.message();
}

}  // namespace alliance::redis::detail
