// The only file of alliance::client that instantiates Beast and TLS stream types
// (they cost about a minute and 2 GB of compiler per file): HttpsClient and WebSocket.
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cctype>
#include <deque>
#include <exception>
#include <optional>

#include "alliance/client/alliance_client.hpp"
#include "alliance/client/https_client.hpp"
#include "alliance/client/web_socket.hpp"
#include "alliance/core/asio.hpp"

namespace alliance::client {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr std::uint64_t kMaxResponseBody = 64 * 1024 * 1024;
constexpr std::string_view kUserAgent = "alliance-client/0.1";

std::string authority(const Endpoint& ep) {
  bool v6 = ep.host.find(':') != std::string::npos;
  return (v6 ? "[" + ep.host + "]" : ep.host) + ":" + std::to_string(ep.port);
}

// TLS 1.2+ client context that verifies the server against the endpoint's CA file.
Result<std::shared_ptr<ssl::context>> make_tls_context(const Endpoint& ep) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code ec;
  if (ep.ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
  } else {
    ctx->load_verify_file(ep.ca_file.string(), ec);
  }
  if (ec) {
    return invalid_argument("ca", "ca: cannot load CA certificates from '" + ep.ca_file.string() +
                                      "': " + ec.message());
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

// Server name checks (IP SAN for addresses, DNS SAN otherwise) and SNI for names.
template <class SslStream>
Status prepare_tls(SslStream& s, const Endpoint& ep) {
  s.set_verify_callback(ssl::host_name_verification(ep.host));
  error_code ec;
  asio::ip::make_address(ep.host, ec);
  if (ec && !SSL_set_tlsext_host_name(s.native_handle(), ep.host.c_str())) {
    return make_error(Code::kInternal, "cannot set TLS server name");
  }
  return {};
}

bool is_timeout(const error_code& ec) {
  return ec == beast::error::timeout || ec == asio::error::timed_out;
}

// One wording for every transport failure: what we were doing, to whom, why.
Error transport_error(std::string_view stage, const Endpoint& ep, const error_code& ec,
                      std::chrono::milliseconds timeout) {
  if (is_timeout(ec)) {
    return make_error(Code::kDeadlineExceeded, std::string(stage) + " " + authority(ep) + ": no answer within " +
                                                   std::to_string(timeout.count()) + " ms");
  }
  return make_error(Code::kUnavailable, std::string(stage) + " " + authority(ep) + " failed: " + ec.message());
}

// Resolves (names only; addresses are used as they are) and connects, within the
// stream's current expiry.
asio::awaitable<error_code> connect_tcp(beast::tcp_stream& s, const Endpoint& ep) {
  error_code ec;
  auto address = asio::ip::make_address(ep.host, ec);
  if (!ec) {
    auto [cec] = co_await s.async_connect(tcp::endpoint(address, ep.port), use_tuple);
    co_return cec;
  }
  tcp::resolver resolver(co_await asio::this_coro::executor);
  auto [rec, results] = co_await resolver.async_resolve(ep.host, std::to_string(ep.port), use_tuple);
  if (rec) co_return rec;
  auto [cec, connected] = co_await s.async_connect(results, use_tuple);
  (void)connected;
  co_return cec;
}

template <class Body, class Fields>
HttpResponse to_response(http::response<Body, Fields>&& res) {
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  out.body = std::move(res.body());
  for (const auto& field : res) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto& slot = out.headers[name];
    if (!slot.empty()) slot += ", ";
    slot += std::string(field.value());
  }
  return out;
}

// Runs `op` on `ioc` until it finishes; an exception escaping it (a bug) is
// rethrown on the calling thread, which is the one that asked for the work.
void run_to_completion(asio::io_context& ioc, asio::awaitable<void> op) {
  std::exception_ptr escaped;
  bool done = false;
  asio::co_spawn(ioc, std::move(op), [&](std::exception_ptr e) {
    escaped = e;
    done = true;
  });
  ioc.restart();
  while (!done && ioc.run_one() > 0) {
  }
  if (escaped) std::rethrow_exception(escaped);
}

}  // namespace

// ---------------------------------------------------------------- HttpsClient

std::string HttpResponse::header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

struct HttpsClient::Impl {
  using Stream = beast::ssl_stream<beast::tcp_stream>;

  explicit Impl(Endpoint e) : ep(std::move(e)) {
    auto ctx = make_tls_context(ep);
    if (ctx) {
      tls = std::move(*ctx);
    } else {
      setup_error = ctx.error();
    }
  }
  ~Impl() { drop(); }

  void drop() {
    if (stream) {
      error_code ignored;
      beast::get_lowest_layer(*stream).socket().close(ignored);
      // Nothing is pending between calls, so the stream can go right away.
      stream.reset();
    }
    buffer.clear();
  }

  asio::awaitable<Status> open(Clock::time_point deadline, std::chrono::milliseconds timeout) {
    drop();
    stream = std::make_unique<Stream>(ioc, *tls);
    if (auto st = prepare_tls(*stream, ep); !st) co_return st;
    auto& tcp_layer = beast::get_lowest_layer(*stream);
    tcp_layer.expires_at(deadline);
    if (auto ec = co_await connect_tcp(tcp_layer, ep); ec) {
      drop();
      co_return transport_error("connect to", ep, ec, timeout);
    }
    tcp_layer.expires_at(deadline);
    auto [hec] = co_await stream->async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
      drop();
      co_return transport_error("TLS handshake with", ep, hec, timeout);
    }
    ++opened;
    co_return Status{};
  }

  // Reads one response on the open stream; `*got_bytes` says whether any byte arrived.
  asio::awaitable<Result<HttpResponse>> read_response(Clock::time_point deadline,
                                                      std::chrono::milliseconds timeout, bool* got_bytes) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    beast::get_lowest_layer(*stream).expires_at(deadline);
    std::size_t before = buffer.size();
    auto [ec, n] = co_await http::async_read(*stream, buffer, parser, use_tuple);
    *got_bytes = n > 0 || buffer.size() > before || parser.got_some();
    if (ec) {
      drop();
      co_return transport_error("reading the response from", ep, ec, timeout);
    }
    bool keep_alive = parser.get().keep_alive();
    HttpResponse out = to_response(parser.release());
    if (!keep_alive) drop();
    co_return out;
  }

  asio::awaitable<void> send(const http::request<http::string_body>& req, std::chrono::milliseconds timeout,
                             std::optional<Result<HttpResponse>>& out) {
    auto deadline = Clock::now() + timeout;
    // A reused connection may have been closed by the server while idle; the
    // request then never reached it, so one retry on a fresh connection is safe.
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = stream != nullptr;
      if (!reused) {
        auto st = co_await open(deadline, timeout);
        if (!st) {
          out = st.error();
          co_return;
        }
      }
      beast::get_lowest_layer(*stream).expires_at(deadline);
      auto [wec, wn] = co_await http::async_write(*stream, req, use_tuple);
      (void)wn;
      if (wec) {
        drop();
        if (reused && !is_timeout(wec)) continue;
        out = transport_error("sending the request to", ep, wec, timeout);
        co_return;
      }
      bool got_bytes = false;
      auto res = co_await read_response(deadline, timeout, &got_bytes);
      if (!res && reused && !got_bytes && res.error().code == Code::kUnavailable) continue;
      out = std::move(res);
      co_return;
    }
  }

  asio::awaitable<void> send_raw(std::string_view bytes, std::chrono::milliseconds timeout,
                                 std::optional<Result<HttpResponse>>& out) {
    auto deadline = Clock::now() + timeout;
    auto st = co_await open(deadline, timeout);
    if (!st) {
      out = st.error();
      co_return;
    }
    // A server that rejects a request early (431, 413) answers and closes before
    // it has read everything; its reset can destroy an answer we have not read
    // yet. So the response is read while the bytes are still being written (TLS
    // streams allow one read and one write at a time).
    auto ex = co_await asio::this_coro::executor;
    beast::get_lowest_layer(*stream).expires_at(deadline);
    asio::steady_timer writer_done(ex, Clock::time_point::max());
    bool wrote = false;
    error_code wec;
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          auto [ec, n] = co_await asio::async_write(*stream, asio::buffer(bytes.data(), bytes.size()), use_tuple);
          (void)n;
          wec = ec;
        },
        [&](std::exception_ptr e) {
          if (e) wec = asio::error::fault;  // nothing in an async_write throws; keep the shape safe
          wrote = true;
          writer_done.cancel();
        });
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    auto [rec, rn] = co_await http::async_read(*stream, buffer, parser, use_tuple);
    bool got_bytes = rn > 0 || parser.got_some();
    if (!wrote) {
      // The answer came before the server read all we sent: stop writing.
      error_code ignored;
      beast::get_lowest_layer(*stream).socket().close(ignored);
      auto [ignored_ec] = co_await writer_done.async_wait(use_tuple);
      (void)ignored_ec;
    }
    if (rec) {
      drop();
      if (wec && !got_bytes && !is_timeout(rec)) {
        out = transport_error("sending the request to", ep, wec, timeout);
      } else {
        out = transport_error("reading the response from", ep, rec, timeout);
      }
      co_return;
    }
    bool keep_alive = parser.get().keep_alive() && !wec && beast::get_lowest_layer(*stream).socket().is_open();
    out = to_response(parser.release());
    if (!keep_alive) drop();
  }

  Endpoint ep;
  asio::io_context ioc{1};
  std::shared_ptr<ssl::context> tls;
  std::optional<Error> setup_error;
  std::unique_ptr<Stream> stream;
  beast::flat_buffer buffer;
  int opened = 0;
};

HttpsClient::HttpsClient(Endpoint ep) : impl_(std::make_unique<Impl>(std::move(ep))) {}
HttpsClient::~HttpsClient() = default;

Result<HttpResponse> HttpsClient::request(std::string_view method, std::string_view target, std::string_view body,
                                          std::string_view bearer, std::chrono::milliseconds timeout,
                                          const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  if (impl_->setup_error) return *impl_->setup_error;
  if (target.empty() || target.front() != '/') return invalid_argument("target", "target: must start with '/'");
  http::request<http::string_body> req;
  auto verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
  req.target(target);
  req.version(11);
  req.set(http::field::host, authority(impl_->ep));
  req.set(http::field::user_agent, kUserAgent);
  req.set(http::field::accept, "application/json");
  if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + std::string(bearer));
  bool has_content_type = false;
  for (const auto& [name, value] : extra_headers) {
    if (beast::iequals(name, "content-type")) has_content_type = true;
    req.set(name, value);
  }
  if (!body.empty() && !has_content_type) req.set(http::field::content_type, "application/json");
  req.body() = std::string(body);
  req.keep_alive(true);
  req.prepare_payload();

  std::optional<Result<HttpResponse>> out;
  run_to_completion(impl_->ioc, impl_->send(req, timeout, out));
  if (!out) return make_error(Code::kInternal, "request did not complete");
  return std::move(*out);
}

Result<HttpResponse> HttpsClient::raw(std::string_view bytes, std::chrono::milliseconds timeout) {
  if (impl_->setup_error) return *impl_->setup_error;
  std::optional<Result<HttpResponse>> out;
  run_to_completion(impl_->ioc, impl_->send_raw(bytes, timeout, out));
  if (!out) return make_error(Code::kInternal, "request did not complete");
  return std::move(*out);
}

void HttpsClient::disconnect() { impl_->drop(); }
int HttpsClient::connections_opened() const { return impl_->opened; }
const Endpoint& HttpsClient::endpoint() const { return impl_->ep; }

// ------------------------------------------------------------------ WebSocket

struct WebSocket::Impl {
  using Stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

  explicit Impl(std::shared_ptr<ssl::context> ctx) : tls(std::move(ctx)), ws(ioc, *tls) {}

  asio::awaitable<void> handshake(Endpoint ep, std::string target, std::string bearer,
                                  std::chrono::milliseconds timeout, Status& out) {
    if (auto st = prepare_tls(ws.next_layer(), ep); !st) {
      out = st;
      co_return;
    }
    auto& tcp_layer = beast::get_lowest_layer(ws);
    auto deadline = Clock::now() + timeout;
    tcp_layer.expires_at(deadline);
    if (auto ec = co_await connect_tcp(tcp_layer, ep); ec) {
      out = transport_error("connect to", ep, ec, timeout);
      co_return;
    }
    tcp_layer.expires_at(deadline);
    auto [hec] = co_await ws.next_layer().async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) {
      out = transport_error("TLS handshake with", ep, hec, timeout);
      co_return;
    }
    // From here on the WebSocket layer keeps time (Beast's recommended split).
    tcp_layer.expires_never();
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    websocket::stream_base::timeout opt{std::max(remaining, std::chrono::milliseconds(1)),
                                        websocket::stream_base::none(), false};
    ws.set_option(opt);
    ws.set_option(websocket::stream_base::decorator([bearer](websocket::request_type& req) {
      req.set(http::field::user_agent, kUserAgent);
      if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
    }));
    websocket::response_type res;
    auto [wec] = co_await ws.async_handshake(res, authority(ep), target, use_tuple);
    int status = static_cast<int>(res.result_int());
    if (status != 0 && status != 101) {
      out = error_from_response(to_response(std::move(res)));
      co_return;
    }
    if (wec) {
      out = transport_error("WebSocket upgrade with", ep, wec, timeout);
      co_return;
    }
    // Closing is bounded by close() itself, not by Beast's handshake timer.
    ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(2), websocket::stream_base::none(), false});
    out = Status{};
  }

  // The one pending read: queues messages and records how the socket ended.
  asio::awaitable<void> read_loop() {
    reading = true;
    for (;;) {
      beast::flat_buffer buf;
      auto [ec, n] = co_await ws.async_read(buf, use_tuple);
      (void)n;
      if (ec) {
        closed = true;
        // After our own close() the read may end with another error, but the
        // server's close frame (if any) is still in reason().
        if (ec == websocket::error::closed || ws.reason().code != websocket::close_code::none) {
          close_code = static_cast<int>(ws.reason().code);
          close_reason = std::string(ws.reason().reason.data(), ws.reason().reason.size());
        } else {
          close_code = 1006;
          close_reason = ec.message();
        }
        break;
      }
      inbox.push_back(beast::buffers_to_string(buf.data()));
    }
    reading = false;
  }

  void start_reading() {
    asio::co_spawn(ioc, read_loop(), [this](std::exception_ptr e) {
      if (e) escaped = e;
    });
  }

  // Runs handlers until `done()` or the deadline; false on timeout.
  template <class Pred>
  bool run_until(Pred done, Clock::time_point deadline) {
    while (!done()) {
      if (escaped) std::rethrow_exception(std::exchange(escaped, nullptr));
      if (Clock::now() >= deadline) return false;
      if (ioc.stopped()) ioc.restart();
      if (ioc.run_one_until(deadline) == 0 && ioc.stopped()) return done();  // nothing left to wait for
    }
    if (escaped) std::rethrow_exception(std::exchange(escaped, nullptr));
    return true;
  }

  // Ends everything pending (the socket is closed under it) so no handler that
  // refers to us or to a caller's buffer outlives the call. Beast's own timer may
  // stay queued (it only holds a weak reference), so wait for our operations
  // rather than for the io_context to run dry, which would take a whole timeout.
  void abort() {
    error_code ignored;
    beast::get_lowest_layer(ws).socket().close(ignored);
    run_until([&] { return !reading && pending == 0; }, Clock::now() + std::chrono::seconds(5));
    if (!closed) {
      closed = true;
      close_code = 1006;
      close_reason = "closed by the client";
    }
  }

  std::shared_ptr<ssl::context> tls;
  asio::io_context ioc{1};
  Stream ws;
  std::deque<std::string> inbox;
  bool reading = false;
  int pending = 0;  // our write/close operations in flight
  bool closed = false;
  int close_code = 0;
  std::string close_reason;
  std::exception_ptr escaped;
};

WebSocket::WebSocket(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WebSocket::~WebSocket() {
  if (!impl_) return;
  try {
    if (!impl_->closed) close();
    impl_->abort();
  } catch (...) {
    // Only a bug gets here (an exception escaped a handler); a destructor must not throw.
  }
}

Result<std::unique_ptr<WebSocket>> WebSocket::connect(const Endpoint& ep, std::string_view target,
                                                      std::string_view bearer, std::chrono::milliseconds timeout) {
  if (target.empty() || target.front() != '/') return invalid_argument("target", "target: must start with '/'");
  auto ctx = make_tls_context(ep);
  if (!ctx) return ctx.error();
  auto impl = std::make_unique<Impl>(std::move(*ctx));
  Status st = make_error(Code::kInternal, "WebSocket handshake did not complete");
  run_to_completion(impl->ioc, impl->handshake(ep, std::string(target), std::string(bearer), timeout, st));
  if (!st) {
    impl->abort();
    return std::move(st).error();
  }
  impl->start_reading();
  return std::unique_ptr<WebSocket>(new WebSocket(std::move(impl)));
}

std::optional<std::string> WebSocket::read_text(std::chrono::milliseconds timeout) {
  auto& s = *impl_;
  s.run_until([&] { return !s.inbox.empty() || s.closed; }, Clock::now() + timeout);
  if (s.inbox.empty()) return std::nullopt;
  std::string msg = std::move(s.inbox.front());
  s.inbox.pop_front();
  return msg;
}

bool WebSocket::wait_closed(std::chrono::milliseconds timeout) {
  auto& s = *impl_;
  return s.run_until(
      [&] {
        s.inbox.clear();
        return s.closed && !s.reading;
      },
      Clock::now() + timeout);
}

bool WebSocket::closed() const { return impl_->closed; }
int WebSocket::close_code() const { return impl_->close_code; }
std::string WebSocket::close_reason() const { return impl_->close_reason; }

void WebSocket::send_text(std::string_view text) {
  auto& s = *impl_;
  if (s.closed) return;
  bool done = false;
  error_code result;
  s.ws.text(true);
  ++s.pending;
  s.ws.async_write(asio::buffer(text.data(), text.size()), [&](error_code ec, std::size_t) {
    --s.pending;
    result = ec;
    done = true;
  });
  if (!s.run_until([&] { return done; }, Clock::now() + std::chrono::seconds(5))) {
    s.abort();  // completes the write (it refers to `text`) before we return
  } else if (result) {
    s.abort();
  }
}

void WebSocket::close() {
  auto& s = *impl_;
  if (s.closed) return;
  bool done = false;
  ++s.pending;
  s.ws.async_close(websocket::close_code::normal, [&](error_code) {
    --s.pending;
    done = true;
  });
  // The pending read sees the server's answering close frame and ends the loop.
  if (!s.run_until([&] { return done && !s.reading; }, Clock::now() + std::chrono::seconds(2))) {
    s.abort();
  }
  if (!s.closed) {
    s.closed = true;
    s.close_code = 1000;
  }
}

}  // namespace alliance::client
