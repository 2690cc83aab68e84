#include "connection.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/socket.h>

#include <array>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "alliance/net/frame.hpp"

namespace alliance::net::detail {
namespace {

// A peer that stops reading while we keep answering is cut off rather than
// allowed to grow our memory without bound.
std::size_t max_outbox(std::size_t max_frame) { return 4 * max_frame + (1 << 20); }

}  // namespace

FrameConnection::FrameConnection(LeanTlsStream::socket_type socket, asio::ssl::context& tls,
                                 std::size_t max_frame)
    : stream_(std::move(socket), tls),
      wake_(stream_.get_executor()),
      watchdog_(stream_.get_executor()),
      max_frame_(max_frame) {}

void FrameConnection::arm_watchdog(std::chrono::milliseconds timeout) {
  watchdog_fired_ = false;
  watchdog_.expires_after(timeout);
  watchdog_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec) return;  // disarmed
    self->watchdog_fired_ = true;
    self->close();
  });
}

bool FrameConnection::disarm_watchdog() {
  watchdog_.cancel();
  return watchdog_fired_;
}

asio::awaitable<std::string> FrameConnection::handshake(asio::ssl::stream_base::handshake_type type) {
  auto [ec] = co_await stream_.async_handshake(type, use_tuple);
  if (!ec) co_return std::string();
  if (watchdog_fired_) co_return std::string("timed out");
  std::string reason = describe(ec);
  if (long v = SSL_get_verify_result(stream_.native_handle()); v != X509_V_OK) {
    reason += ": ";
    if ((v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH) && !expected_name.empty())
      reason += "server certificate is not valid for name \"" + expected_name + "\"";
    else
      reason += X509_verify_cert_error_string(v);
  }
  co_return reason;
}

bool FrameConnection::send(std::string_view encoded) {
  if (closed_) return false;
  if (outbox_.size() + encoded.size() > max_outbox(max_frame_)) {
    log::warn("rpc peer is not reading, closing", {{"peer", peer_address}});
    close();
    return false;
  }
  outbox_.append(encoded.data(), encoded.size());
  wake_.cancel();
  return true;
}

asio::awaitable<void> FrameConnection::write_loop(std::shared_ptr<FrameConnection> self) {
  while (!self->closed_) {
    if (self->outbox_.empty()) {
      self->wake_.expires_at(asio::steady_timer::time_point::max());
      co_await self->wake_.async_wait(use_tuple);
      continue;
    }
    std::swap(self->outbox_, self->writing_);
    auto [ec, n] = co_await asio::async_write(self->stream_, asio::buffer(self->writing_), use_tuple);
    self->writing_.clear();
    if (ec) {
      self->close();  // the reader sees it and reports why
      co_return;
    }
  }
}

asio::awaitable<FrameConnection::End> FrameConnection::run(
    const std::function<void(alliance::rpc::v1::Frame&&)>& on_frame) {
  auto self = shared_from_this();
  asio::co_spawn(stream_.get_executor(), write_loop(self), LogEscaped{"rpc writer"});
  FrameDecoder decoder(max_frame_);
  std::vector<alliance::rpc::v1::Frame> frames;
  std::array<char, 16 * 1024> buf;
  for (;;) {
    auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buf), use_tuple);
    if (ec) {
      End end{false, closed_ ? std::string("closed locally") : describe(ec)};
      close();
      co_return end;
    }
    Status status = decoder.feed(std::string_view(buf.data(), n), frames);
    for (auto& frame : frames) {
      if (closed_) break;
      on_frame(std::move(frame));
    }
    frames.clear();
    if (!status) {
      close();
      co_return End{true, status.error().message};
    }
    if (closed_) co_return End{false, "closed locally"};
  }
}

void FrameConnection::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  // No TLS close_notify: this is a hard stop, and waiting for the peer's
  // close_notify could hang on a peer that misbehaves.
  socket().shutdown(asio::socket_base::shutdown_both, ignored);
  stream_.close();
  wake_.cancel();
  watchdog_.cancel();
}

std::string describe(const boost::system::error_code& ec) {
  if (ec == asio::error::eof) return "connection closed by peer";
  if (ec == asio::ssl::error::stream_truncated) return "connection closed by peer";
  if (ec == asio::error::connection_reset) return "connection reset by peer";
  if (ec == asio::error::operation_aborted) return "closed locally";
  return ec.message();
}

std::string endpoint_text(LeanTlsStream::socket_type& socket) {
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) return {};
  if (remote.protocol().family() == AF_UNIX) {
    // The connecting side of a Unix-domain socket has no name: say which socket it
    // came in on and which process it is.
    auto local = socket.local_endpoint(ec);
    asio::local::stream_protocol::endpoint path;
    if (!ec && local.size() <= path.capacity()) {
      std::memcpy(path.data(), local.data(), local.size());
      path.resize(local.size());
    }
    std::string text = "unix:" + path.path();
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
      text += " pid " + std::to_string(cred.pid);
    return text;
  }
  asio::ip::tcp::endpoint ip;
  if (remote.size() > ip.capacity()) return {};
  std::memcpy(ip.data(), remote.data(), remote.size());
  ip.resize(remote.size());
  return ip.address().to_string() + ":" + std::to_string(ip.port());
}

std::string peer_common_name(TlsStream& stream) {
  X509* cert = SSL_get0_peer_certificate(stream.native_handle());
  if (!cert) return {};
  X509_NAME* name = X509_get_subject_name(cert);
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace alliance::net::detail
