#include "http_server.hpp"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <atomic>
#include <functional>
#include <iterator>
#include <optional>
#include <unordered_set>
#include <vector>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/net/lean_tls_stream.hpp"
#include "alliance/push/v1/push.pb.h"
#include "gateway.hpp"
#include "handler_memory.hpp"
#include "json_mapping.hpp"
#include "request_limits.hpp"
#include "ws_frame.hpp"

namespace alliance::gateway {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
// OpenSSL straight on the socket: idle connections keep no TLS record buffers.
using TlsStream = net::LeanTlsStream;
using WsStream = websocket::stream<TlsStream>;
using Clock = std::chrono::steady_clock;

namespace {

void spawn(asio::any_io_executor ex, asio::awaitable<void> work) {
  asio::co_spawn(ex, std::move(work), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("connection failed", {{"error", ex.what()}});
    }
  });
}

// The steady-clock moment a token expiring at `unix_seconds` expires.
Clock::time_point steady_deadline(std::int64_t unix_seconds) {
  return Clock::now() + std::chrono::milliseconds(unix_seconds * 1000 - now_unix_ms());
}

}  // namespace

class WsSession;

// Sessions with frames queued, written together once the handler that queued them has
// returned: the pushes one Redis read brings for a socket leave in one send(2), a read
// that wakes many sockets costs one post rather than one per socket, and the clock is
// read once per round (a token that expired meanwhile closes its socket instead of
// taking the push). One per server, on its thread.
class WriteRound : public std::enable_shared_from_this<WriteRound> {
 public:
  explicit WriteRound(asio::any_io_executor ex) : ex_(std::move(ex)) {}
  void add(std::shared_ptr<WsSession> session);

 private:
  void run();
  asio::any_io_executor ex_;
  std::vector<std::shared_ptr<WsSession>> waiting_, running_;
};

// One authenticated WebSocket, driven by completion handlers rather than a reader
// and a writer coroutine: an idle session then holds one pending websocket read and
// one timer wait (a few hundred bytes) instead of two coroutine stacks, which matters
// at tens of thousands of idle sockets. The writer side is `pump()`: at most one of a
// flush, a ping or the close is in flight (`writing_`), and its completion calls pump()
// again. Pushes do not go through Beast's write operation: pump() frames them itself
// (ws_frame.hpp) and hands them to the TLS stream's write_now, which encrypts and sends
// at once, so a delivered push costs no asynchronous operation, handler, post or timer
// operation. Several queued frames are gathered and leave in one send(2); what the
// socket does not take is kept by the stream and flushed under the write deadline while
// later pushes queue (bounded: ws_max_queued, then close 1008). Beast still writes the
// control frames (ping, close, and its own pongs, which queue behind a kept flush); a
// push waits for one of those in flight by going through Beast itself.
// The wake-up timer, for the next ping or the token's expiry, stays armed while
// pushes are written.
// The socket lives until its access token expires (close 4401) unless the client hands
// it a fresh one ({"type":"auth",...}).
// Lives on the server's executor.
class WsSession : public PushSink, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(TlsStream tls, const HttpServerOptions& options, Gateway& gateway, WriteRound& round,
            crypto::AccessClaims claims, std::function<void(WsSession*)> on_end)
      : ws_(std::move(tls)),
        wake_(ws_.get_executor()),
        options_(options),
        gateway_(gateway),
        round_(round),
        user_id_(std::move(claims.subject)),
        session_id_(std::move(claims.session_id)),
        practice_id_(std::move(claims.practice_id)),
        role_(std::move(claims.role)),
        expires_(steady_deadline(claims.expires_at)),
        on_end_(std::move(on_end)) {}

  WsStream& stream() { return ws_; }
  const std::string& user_id() const { return user_id_; }
  const std::string& session_id() const { return session_id_; }
  // The practice whose staff channel this socket hears: a front desk's or an admin's.
  std::string_view staff_practice() const {
    return role_ == "front_desk" || role_ == "admin" ? std::string_view(practice_id_) : std::string_view();
  }

  // The socket's user as the caller of an RPC made on its behalf.
  rpc::v1::Caller caller() const {
    rpc::v1::Caller c;
    c.set_user_id(user_id_);
    c.set_practice_id(practice_id_);
    c.set_role(role_);
    c.set_session_id(session_id_);
    return c;
  }

  // Queues `frames` unless the socket has gone meanwhile.
  static void deliver_to(const std::weak_ptr<WsSession>& weak, std::vector<std::string> frames) {
    auto self = weak.lock();
    if (!self) return;
    for (auto& f : frames) self->deliver(std::make_shared<const std::string>(std::move(f)));
  }

  void deliver(std::shared_ptr<const std::string> json) override {
    if (closing_ || dead_) return;
    if (queue_.size() - head_ >= options_.ws_max_queued) {
      close_with(1008, "push queue overflow");
      return;
    }
    queue_.push_back(std::move(json));
    if (started_ && !writing_ && !in_round_) {
      in_round_ = true;
      round_.add(shared_from_this());
    }
  }

  // From the write round, `now` read once for all of its sessions.
  void write_queued(Clock::time_point now) {
    in_round_ = false;
    if (!writing_) pump(now);  // else its completion writes what is queued
  }

  void close_expired() {
    gateway_.metrics().count("ws_closed_token_expired");
    close_with(kCloseSessionRevoked, "access token expired");  // starts the close
  }

  void close_with(int code, std::string reason) override {
    if (closing_ || dead_) return;
    closing_ = true;
    gateway_.hub().remove(user_id_, session_id_, this);  // a closing socket holds no place under the caps
    close_code_ = code;
    close_reason_ = std::move(reason);
    // Nothing queued is written after the close frame: the frames go now, not at the end.
    std::vector<std::shared_ptr<const std::string>>().swap(queue_);
    head_ = 0;
    if (started_ && !writing_) return pump();
    // A write in flight (a slow reader's, stuck on a full socket) finishes first, then
    // the close frame: both get the whole write deadline from now, so a reader that
    // resumes within it sees this close code rather than a cut connection.
    if (writing_) beast::get_lowest_layer(ws_).expires_after(options_.write_timeout);
  }

  // After the upgrade (the hub admitted it before): starts reading (pongs, close).
  void start() {
    last_heard_ = Clock::now();
    ws_.control_callback([this](websocket::frame_type, beast::string_view) { last_heard_ = Clock::now(); });
    read();
  }

  // Once the push subscription is live: `ready` goes first, then pushes and pings.
  void start_writer(std::shared_ptr<const std::string> ready) {
    if (ready) queue_.insert(queue_.begin() + static_cast<std::ptrdiff_t>(head_), std::move(ready));
    next_ping_ = Clock::now() + options_.ws_ping_interval;
    started_ = true;
    pump();
  }

 private:
  void read() {
    ws_.async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) {
        self->dead_ = true;
        if (self->started_ && !self->writing_) self->pump();
        return;
      }
      self->last_heard_ = Clock::now();
      if (self->ws_.got_text() && n > 0) self->on_frame(beast::buffers_to_string(self->read_buffer_.data()));
      self->read_buffer_.consume(n);
      self->read_buffer_.shrink_to_fit();  // an idle socket keeps no read buffer
      self->read();
    });
  }

  // A client frame (an acknowledgement, a fresh token): answered on this socket. At most
  // kMaxFramesInFlight are handled at once per socket; beyond that the frame is
  // refused, so one socket cannot queue unbounded work.
  void on_frame(std::string text) {
    static constexpr int kMaxFramesInFlight = 16;
    if (frames_in_flight_ >= kMaxFramesInFlight) {
      deliver(std::make_shared<const std::string>(
          R"({"type":"error","error":{"code":"resource_exhausted","message":"too many frames in flight; wait for answers"}})"));
      return;
    }
    ++frames_in_flight_;
    std::weak_ptr<WsSession> weak = weak_from_this();
    auto fresh = gateway_.on_socket_frame(caller(), std::move(text), [weak](std::string answer) {
      auto self = weak.lock();
      if (!self) return;
      --self->frames_in_flight_;
      self->deliver(std::make_shared<const std::string>(std::move(answer)));
    });
    // The pending wake-up may be for the old expiry; pump() then looks again.
    if (!fresh) return;
    if (auto until = steady_deadline(fresh->expires_at); until > expires_) {
      expires_ = until;
      role_ = std::move(fresh->role);
    }
  }

  // Writes what is queued unless the token has expired (then closes 4401 instead), then
  // starts a ping or the close if one is due, or (with nothing to send) makes sure the
  // wake-up timer is armed for the next ping or the token's expiry. Never called while a
  // flush, ping or close is in flight.
  void pump() { pump(Clock::now()); }
  void pump(Clock::time_point now) {
    auto& lowest = beast::get_lowest_layer(ws_);
    if (now >= expires_ && !closing_ && !dead_) return close_expired();  // the queued pushes are dropped
    while (!dead_ && !closing_ && head_ < queue_.size()) {
      if (!ws_.is_open()) return;  // the client's close is being answered: the read ends next
      if (!lowest.write_ready()) return write_through_beast();
      if (!write_direct()) {
        if (dead_) finish();  // the socket failed: its read may never end on its own
        return;               // else a flush is in flight
      }
    }
    if (dead_) return finish();
    if (closing_) {
      writing_ = true;
      lowest.expires_after(options_.write_timeout);
      ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(close_code_), close_reason_),
                      [self = shared_from_this()](beast::error_code) {
                        self->writing_ = false;
                        self->dead_ = true;
                        self->finish();
                      });
      return;
    }
    if (now >= next_ping_) {
      if (now - last_heard_ > options_.ws_idle_timeout) {
        close_with(kCloseIdle, "idle timeout");  // starts the close
        return;
      }
      next_ping_ = now + options_.ws_ping_interval;
      lowest.expires_after(options_.write_timeout);
      writing_ = true;
      ws_.async_ping({}, [self = shared_from_this()](beast::error_code ec) { self->after_write(ec); });
      return;
    }
    lowest.expires_never();
    // The wait already in flight stays unless it is for a later instant (a fresh token
    // moves expires_ later, which it can wake up early for and then look again).
    const auto wake_at = std::min(next_ping_, expires_);
    if (waiting_ && wake_at_ <= wake_at) return;
    waiting_ = true;
    wake_at_ = wake_at;
    wake_.expires_at(wake_at);  // cancels a wait in flight: its handler sees operation_aborted
    wake_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec == asio::error::operation_aborted) return;  // re-armed, or finish()
      self->waiting_ = false;
      if (!self->writing_) self->pump();  // else the write's completion looks at the time
    });
  }

  // Writes up to kMaxBatched frames or kMaxBatchedBytes from the queue now (several are
  // gathered and leave in one send). False if the socket did not take them all: the
  // stream keeps the rest and a flush is in flight (or the socket failed: dead_).
  bool write_direct() {
    auto& lowest = beast::get_lowest_layer(ws_);
    const bool gather = queue_.size() - head_ > 1;
    if (gather) lowest.batch_writes(true);
    beast::error_code ec;
    int frames = 0;
    std::size_t bytes = 0;
    while (!ec && head_ < queue_.size() && frames < kMaxBatched && bytes < kMaxBatchedBytes) {
      // The hub reuses a push's rendering once every socket has let go of it: at once here.
      const std::shared_ptr<const std::string> msg = std::move(queue_[head_++]);
      const FrameHeader header = text_frame_header(msg->size());
      ec = lowest.write_now(asio::buffer(header.bytes.data(), header.size), asio::buffer(*msg));
      ++frames;
      bytes += msg->size();
    }
    if (gather) lowest.batch_writes(false);
    if (head_ == queue_.size()) {
      queue_.clear();
      head_ = 0;
      // Idle sockets keep no queue beyond a few slots (a burst's grown queue is freed).
      if (queue_.capacity() > kKeptQueueSlots) std::vector<std::shared_ptr<const std::string>>().swap(queue_);
    }
    if (!ec && lowest.batch_pending()) ec = lowest.flush_now();
    if (ec) {
      dead_ = true;
      return false;
    }
    if (!lowest.batch_pending()) return true;
    writing_ = true;
    lowest.expires_after(options_.write_timeout);
    lowest.async_flush(asio::bind_allocator(HandlerAllocator<void>{}, [self = shared_from_this()](
                                                                         beast::error_code fec) {
      self->after_write(fec);
    }));
    return false;
  }

  // One frame through Beast's write, which waits for Beast's own write in flight (a pong
  // to the client's ping that the socket has not taken yet) and then goes after it.
  void write_through_beast() {
    auto msg = std::move(queue_[head_++]);
    if (head_ == queue_.size()) {
      queue_.clear();
      head_ = 0;
    }
    auto& lowest = beast::get_lowest_layer(ws_);
    ws_.text(true);
    lowest.expires_after(options_.write_timeout);
    writing_ = true;
    const std::string& body = *msg;
    ws_.async_write(asio::buffer(body),
                    asio::bind_allocator(HandlerAllocator<void>{},
                                         [self = shared_from_this(), msg = std::move(msg)](beast::error_code ec,
                                                                                          std::size_t) {
                                           self->after_write(ec);
                                         }));
  }

  void after_write(beast::error_code ec) {
    writing_ = false;
    if (ec) dead_ = true;
    pump();
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    wake_.cancel();  // its handler holds the session
    gateway_.hub().remove(user_id_, session_id_, this);
    auto& lowest = beast::get_lowest_layer(ws_);
    lowest.expires_never();
    lowest.close();
    std::vector<std::shared_ptr<const std::string>>().swap(queue_);
    if (on_end_) std::exchange(on_end_, nullptr)(this);
  }

  WsStream ws_;
  asio::steady_timer wake_;
  const HttpServerOptions& options_;
  Gateway& gateway_;
  WriteRound& round_;
  std::string user_id_;
  std::string session_id_;
  std::string practice_id_;
  std::string role_;
  Clock::time_point expires_;  // the access token's expiry: close 4401 then
  std::function<void(WsSession*)> on_end_;
  int frames_in_flight_ = 0;
  beast::flat_buffer read_buffer_;  // empty (no allocation) until a client sends a frame
  std::vector<std::shared_ptr<const std::string>> queue_;  // [head_, end) waiting to be written
  std::size_t head_ = 0;
  Clock::time_point last_heard_;
  Clock::time_point next_ping_;
  static constexpr std::size_t kKeptQueueSlots = 4;
  Clock::time_point wake_at_;  // what the wake_ wait in flight is for
  bool started_ = false;  // start_writer ran: pushes may be written
  bool writing_ = false;  // a flush, Beast write, ping or close is in flight
  bool waiting_ = false;  // a wake_ wait is in flight
  bool in_round_ = false;  // in round_, to write what is queued
  // Frames and bytes per send at most: what a slow reader's socket holds in ciphertext
  // is bounded (a burst of large frames is flushed every 128 KiB).
  static constexpr int kMaxBatched = 64;
  static constexpr std::size_t kMaxBatchedBytes = 128 * 1024;
  bool closing_ = false;
  bool dead_ = false;
  bool finished_ = false;
  int close_code_ = 1000;
  std::string close_reason_;
};

void WriteRound::add(std::shared_ptr<WsSession> session) {
  if (waiting_.empty()) asio::post(ex_, [self = shared_from_this()] { self->run(); });
  waiting_.push_back(std::move(session));
}

void WriteRound::run() {
  running_.swap(waiting_);  // sessions queued while this round writes go in the next one
  const auto now = Clock::now();
  for (auto& s : running_) s->write_queued(now);
  running_.clear();
}

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::any_io_executor ex, ssl::context& tls, Gateway& gateway, HttpServerOptions options)
      : ex(ex), tls(tls), gateway(gateway), options(std::move(options)), acceptor(ex) {}

  asio::any_io_executor ex;
  ssl::context& tls;
  Gateway& gateway;
  HttpServerOptions options;
  tcp::acceptor acceptor;
  // Open connections, shared by the servers of a group (options.max_connections caps the sum).
  std::shared_ptr<std::atomic<std::size_t>> connections = std::make_shared<std::atomic<std::size_t>>(0);
  std::vector<Impl*> group;  // the servers on one port, in thread order (empty: this one alone)
  std::size_t index = 0;     // this server's place in group
  bool stopping = false;
  std::unordered_set<WsSession*> sessions;
  std::shared_ptr<WriteRound> write_round = std::make_shared<WriteRound>(ex);

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        log::warn("accept failed", {{"error", ec.message()}});
        asio::steady_timer t(ex, std::chrono::milliseconds(50));  // e.g. out of file descriptors
        co_await t.async_wait(use_tuple);
        continue;
      }
      if (*connections >= options.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);
        gateway.metrics().count("connections_refused");
        continue;
      }
      // An answer larger than one segment must not wait for the client's delayed ACK
      // (Nagle): a 20 KB answer stalled ~40 ms without this.
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      spawn(ex, serve(std::move(socket)));
    }
  }

  asio::awaitable<void> write_plain_refusal(beast::tcp_stream& stream) {
    HttpReply reply = error_reply(400, "invalid_argument", "this port only accepts HTTPS (TLS)");
    stamp_request_id(reply, new_unique_id());
    std::string refusal;
    write_response(reply, 11, false, refusal);
    stream.expires_after(options.write_timeout);
    co_await asio::async_write(stream, asio::buffer(refusal), use_tuple);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  // For answers made here, before a request reaches the gateway's logic.
  asio::awaitable<void> send(TlsStream& tls_stream, HttpReply reply, unsigned version, bool keep_alive) {
    stamp_request_id(reply, new_unique_id());
    std::string out;
    write_response(reply, version, keep_alive, out);
    beast::get_lowest_layer(tls_stream).expires_after(options.write_timeout);
    co_await asio::async_write(tls_stream, asio::buffer(out), use_tuple);
  }

  // Reads the first bytes under the handshake timeout and tells TLS from plaintext
  // (answered with a 400). The socket if it is TLS; the bytes read are in `buffer`.
  asio::awaitable<std::optional<tcp::socket>> detect_tls(tcp::socket socket, beast::flat_buffer& buffer,
                                                         Clock::time_point deadline) {
    beast::tcp_stream stream(std::move(socket));
    stream.expires_at(deadline);
    auto [dec, is_tls] = co_await beast::async_detect_ssl(stream, buffer, use_tuple);
    if (dec) co_return std::nullopt;
    if (!is_tls) {
      gateway.metrics().count("plaintext_refused");
      co_await write_plain_refusal(stream);
      co_return std::nullopt;
    }
    stream.expires_never();
    co_return stream.release_socket();
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    auto self = shared_from_this();
    ++*connections;
    ++gateway.http_connections_open;
    bool counted = true;
    auto uncount = [&] {
      if (counted) {
        --gateway.http_connections_open;
        counted = false;
      }
    };
    beast::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    std::string remote_address = ec ? std::string() : remote.address().to_string();

    // One deadline for telling TLS from plaintext and for the TLS handshake.
    auto handshake_deadline = Clock::now() + options.handshake_timeout;
    beast::flat_buffer buffer;
    auto tls_socket = co_await detect_tls(std::move(socket), buffer, handshake_deadline);
    if (!tls_socket) {
      uncount();
      --*connections;
      co_return;
    }
    TlsStream tls_stream(std::move(*tls_socket), tls);
    tls_stream.expires_at(handshake_deadline);
    auto [hec, used] = co_await tls_stream.async_handshake(ssl::stream_base::server, buffer.data(), use_tuple);
    if (hec) {
      log::debug("TLS handshake failed", {{"remote", remote_address}, {"error", hec.message()}});
      uncount();
      --*connections;
      co_return;
    }
    buffer.consume(used);

    bool first = true;
    bool unread_input = false;  // we answered before reading the whole request
    std::string out;            // the answer being written
    while (!stopping) {
      RequestParser parser;
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
      parser.body_limit(options.body_limit);
      beast::get_lowest_layer(tls_stream).expires_after(first ? options.read_timeout : options.keepalive_timeout);
      // Wait for the first byte of the next request under the keep-alive limit,
      // then give the whole request the read limit.
      if (!first && buffer.size() == 0) {
        // The client sends its next request after reading this answer: nothing to read yet.
        tls_stream.wait_before_next_read();
        auto [rec, n] = co_await tls_stream.async_read_some(buffer.prepare(4096), use_tuple);
        if (rec) break;
        buffer.commit(n);
        beast::get_lowest_layer(tls_stream).expires_after(options.read_timeout);
      }
      first = false;
      auto rec = co_await read_request(tls_stream, buffer, parser);
      if (rec == http::error::end_of_stream) break;
      if (rec == http::error::header_limit) {
        co_await send(tls_stream, error_reply(431, "invalid_argument", "request headers are too large"), 11, false);
        unread_input = true;
        break;
      }
      if (rec == http::error::body_limit) {
        unread_input = true;
        co_await send(tls_stream,
                      error_reply(413, "invalid_argument",
                                  "body: request body is larger than " + std::to_string(options.body_limit) +
                                      " bytes"),
                      11, false);
        break;
      }
      if (rec == beast::error::timeout) {
        gateway.metrics().count("request_timeouts");
        break;
      }
      if (rec == http::error::bad_transfer_encoding) {
        // The body's end is ambiguous, so nothing after this header can be trusted.
        unread_input = true;
        co_await send(tls_stream,
                      error_reply(400, "invalid_argument",
                                  "transfer-encoding: only \"chunked\" is accepted, and not with content-length"),
                      11, false);
        break;
      }
      if (rec) {
        if (rec.category() == http::make_error_code(http::error::bad_method).category()) {
          unread_input = true;
          co_await send(tls_stream, error_reply(400, "invalid_argument", "malformed HTTP request"), 11, false);
        }
        break;
      }
      auto& req = parser.get();
      auto [path, query] = split_target(std::string_view(req.target().data(), req.target().size()));
      if (websocket::is_upgrade(req)) {
        if (path != "/v1/ws" || options.operator_endpoints) {
          co_await send(tls_stream, error_reply(404, "not_found", "no such endpoint"), req.version(), false);
          break;
        }
        uncount();
        // The session outlives this frame (it is handler-driven); `connections`
        // drops when it ends.
        if (!co_await serve_websocket(std::move(tls_stream), parser.release())) --*connections;
        co_return;
      }
      HttpRequestView view;
      view.method = std::string_view(req.method_string().data(), req.method_string().size());
      view.target = std::string_view(req.target().data(), req.target().size());
      auto auth = req[http::field::authorization];
      view.authorization = std::string_view(auth.data(), auth.size());
      auto validator = req[http::field::if_none_match];
      view.if_none_match = std::string_view(validator.data(), validator.size());
      view.body = req.body();
      view.remote_address = remote_address;
      view.request_id = new_unique_id();
      auto handling = options.operator_endpoints ? gateway.handle_operator(view) : gateway.handle(view);
      HttpReply reply = co_await std::move(handling);
      stamp_request_id(reply, view.request_id);  // the operator listener's answers too
      bool keep_alive = req.keep_alive() && !stopping;
      // One buffer, written as one TLS record for a small answer; it keeps its capacity
      // for the connection's next answer.
      out.clear();
      write_response(reply, req.version(), keep_alive, out);
      beast::get_lowest_layer(tls_stream).expires_after(options.write_timeout);
      auto [wec, wn] = co_await asio::async_write(tls_stream, asio::buffer(out), use_tuple);
      if (wec || !keep_alive) break;
    }
    if (unread_input) {
      // Closing with the client's bytes still unread would reset the connection
      // and could destroy our answer before the client reads it: stop sending,
      // then read and discard for a moment so the client sees the response.
      co_await drain_and_close(beast::get_lowest_layer(tls_stream));
    } else {
      beast::get_lowest_layer(tls_stream).expires_after(std::chrono::seconds(1));
      co_await tls_stream.async_shutdown(use_tuple);
    }
    uncount();
    --*connections;
  }

  // Reads one request, its header under HeaderBudget (request_limits.hpp). Parses what is
  // buffered first and reads only when the parser needs more, so a request that arrived in
  // one read costs no asynchronous step. Errors as Beast's http::async_read gives them.
  asio::awaitable<beast::error_code> read_request(TlsStream& tls_stream, beast::flat_buffer& buffer,
                                                  RequestParser& parser) {
    HeaderBudget budget(RequestLimits{options.header_limit, options.header_fields_limit});
    parser.eager(true);  // a put() after the header's takes the body bytes buffered with it
    for (;;) {
      const bool in_header = !parser.is_header_done();
      if (in_header)
        if (auto ec = budget.before_step(parser)) co_return ec;
      if (buffer.size() > 0) {
        beast::error_code ec;
        const std::size_t n = parser.put(buffer.data(), ec);
        buffer.consume(n);
        if (in_header) budget.consumed(n);
        if (ec && ec != http::error::need_more) co_return ec;
        if (in_header && parser.is_header_done())
          if (auto hec = budget.check_header(parser.get())) co_return hec;
        if (parser.is_done()) co_return beast::error_code{};
        if (!ec && n > 0) continue;  // progress (the header is done): parse the rest
      }
      const std::size_t room = std::max<std::size_t>(4096, buffer.capacity() - buffer.size());
      auto [rec, got] = co_await tls_stream.async_read_some(buffer.prepare(std::min<std::size_t>(room, 65536)),
                                                            use_tuple);
      if (rec == asio::error::eof) {
        if (!parser.got_some()) co_return http::error::end_of_stream;
        beast::error_code ec;
        parser.put_eof(ec);
        co_return ec ? ec : beast::error_code(http::error::partial_message);
      }
      if (rec) co_return rec;
      buffer.commit(got);
    }
  }

  static asio::awaitable<void> drain_and_close(TlsStream& tls_stream) {
    using namespace asio::experimental::awaitable_operators;
    auto& socket = tls_stream.socket();
    beast::error_code ec;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    auto drain = [&socket]() -> asio::awaitable<void> {
      std::array<char, 16384> sink;
      std::size_t total = 0;
      while (total < (4u << 20)) {
        auto [rec, n] = co_await socket.async_read_some(asio::buffer(sink), use_tuple);
        if (rec) break;
        total += n;
      }
    };
    asio::steady_timer deadline(socket.get_executor(), std::chrono::seconds(1));
    co_await (drain() || deadline.async_wait(asio::use_awaitable));
    socket.close(ec);
  }

  // Answers an upgrade with an HTTP error and closes the connection.
  asio::awaitable<void> refuse_upgrade(TlsStream& tls_stream, const HttpReply& reply, unsigned version) {
    co_await send(tls_stream, reply, version, false);
    beast::get_lowest_layer(tls_stream).expires_after(std::chrono::seconds(1));
    co_await tls_stream.async_shutdown(use_tuple);
  }

  // Authenticates the upgrade and starts the session, here or (in a group) on the server
  // that owns the user; true if that went ahead (the session then owns the connection count).
  asio::awaitable<bool> serve_websocket(TlsStream tls_stream, http::request<http::string_body> req) {
    auto [path, query] = split_target(std::string_view(req.target().data(), req.target().size()));
    auto auth = req[http::field::authorization];
    auto claims = gateway.authenticate(std::string_view(auth.data(), auth.size()), query);
    if (!claims) {
      gateway.metrics().count("ws_upgrades_rejected");
      co_await refuse_upgrade(tls_stream, error_reply(claims.error()), req.version());
      co_return false;
    }
    if (group.size() > 1) {
      const std::size_t home = std::hash<std::string_view>{}(claims->subject) % group.size();
      if (home != index) co_return hand_over(*group[home], std::move(tls_stream), std::move(req), std::move(*claims));
    }
    co_return co_await start_websocket(std::move(tls_stream), std::move(req), std::move(*claims));
  }

  // Moves an authenticated upgrade to `home`'s thread (its descriptor and TLS session; nothing
  // is pending on it now), where adopt() carries on with it.
  bool hand_over(Impl& home, TlsStream tls_stream, http::request<http::string_body> req,
                 crypto::AccessClaims claims) {
    auto detached = tls_stream.detach();
    if (!detached) return false;
    gateway.metrics().count("ws_handed_over");
    asio::post(home.ex, [home = home.shared_from_this(), detached = std::move(detached), req = std::move(req),
                         claims = std::move(claims)]() mutable {
      spawn(home->ex, home->adopt(std::move(detached), std::move(req), std::move(claims)));
    });
    return true;
  }

  asio::awaitable<void> adopt(TlsStream::Detached detached, http::request<http::string_body> req,
                              crypto::AccessClaims claims) {
    auto self = shared_from_this();
    if (stopping) {
      --*connections;  // dropping `detached` closes it
      co_return;
    }
    TlsStream tls_stream(std::move(detached), ex);
    if (!co_await start_websocket(std::move(tls_stream), std::move(req), std::move(claims))) --*connections;
  }

  // Starts the session of an authenticated upgrade on this server's thread; true if it started.
  asio::awaitable<bool> start_websocket(TlsStream tls_stream, http::request<http::string_body> req,
                                        crypto::AccessClaims claims) {
    // A revocation this thread heard after another thread checked the token.
    if (gateway.tokens().is_revoked(claims.session_id)) {
      gateway.metrics().count("ws_upgrades_rejected");
      co_await refuse_upgrade(tls_stream, error_reply(Error{Code::kUnauthenticated, "session has been revoked", {}}),
                              req.version());
      co_return false;
    }
    std::shared_ptr<WsSession> session;
    {
      auto on_end = [self = shared_from_this()](WsSession* s) {
        self->sessions.erase(s);
        --*self->connections;
      };
      session = std::make_shared<WsSession>(std::move(tls_stream), options, gateway, *write_round,
                                            std::move(claims), std::move(on_end));
    }
    auto& ws = session->stream();
    // Counted under the caps from here on, so upgrades racing each other cannot all pass.
    if (auto admitted = gateway.hub().add(session->user_id(), session->session_id(), session.get(),
                                             session->staff_practice());
        !admitted) {
      gateway.metrics().count("ws_upgrades_over_limit");
      co_await refuse_upgrade(ws.next_layer(), error_reply(admitted.error()), req.version());
      co_return false;
    }
    beast::get_lowest_layer(ws).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options.handshake_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();  // the session pings and enforces idleness
    timeouts.keep_alive_pings = false;
    ws.set_option(timeouts);
    ws.read_message_max(4096);
    ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(http::field::server, "alliance");
      res.set("X-Request-Id", new_unique_id());
    }));
    auto [aec] = co_await ws.async_accept(req, use_tuple);
    if (aec) {
      gateway.hub().remove(session->user_id(), session->session_id(), session.get());
      co_return false;
    }
    req = {};  // the session keeps nothing of the upgrade request
    sessions.insert(session.get());
    session->start();
    // Tell the client once its pushes are flowing, so it never misses one sent after this frame.
    std::shared_ptr<const std::string> ready_frame;
    if (co_await gateway.wait_push_ready(session->user_id(), std::chrono::seconds(5))) {
      push::v1::PushFrame ready;
      ready.set_id(new_id());
      ready.set_type("session.ready");
      ready.set_sent_unix_ms(now_unix_ms());
      ready_frame = std::make_shared<const std::string>(message_to_json(ready));
    } else {
      session->close_with(1011, "push service unavailable");
    }
    const bool push_ready = ready_frame != nullptr;
    session->start_writer(std::move(ready_frame));
    if (push_ready) {
      // Reminders sent while this device was away (unacknowledged) follow session.ready.
      std::weak_ptr<WsSession> weak = session;
      auto caller = session->caller();
      session.reset();
      auto frames = co_await gateway.pending_reminder_frames(std::move(caller));
      WsSession::deliver_to(weak, std::move(frames));
    }
    co_return true;
  }
};

HttpServer::HttpServer(asio::any_io_executor ex, ssl::context& tls, Gateway& gateway, HttpServerOptions options)
    : impl_(std::make_shared<Impl>(std::move(ex), tls, gateway, std::move(options))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::group(const std::vector<HttpServer*>& servers) {
  std::vector<Impl*> members;
  for (auto* s : servers) members.push_back(s->impl_.get());
  for (std::size_t i = 0; i < members.size(); ++i) {
    members[i]->group = members;
    members[i]->index = i;
    members[i]->connections = members[0]->connections;
  }
}

std::uint16_t HttpServer::listen() { return listen(impl_->options.port); }

std::uint16_t HttpServer::listen(std::uint16_t port) {
  using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
  tcp::endpoint ep(asio::ip::make_address(impl_->options.host), port);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  // The group's listeners share the port; the kernel spreads new connections over them.
  if (impl_->group.size() > 1) impl_->acceptor.set_option(reuse_port(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
  spawn(impl_->ex, impl_->accept_loop());
  return impl_->acceptor.local_endpoint().port();
}

void HttpServer::stop() {
  if (impl_->stopping) return;
  impl_->stopping = true;
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  auto sessions = impl_->sessions;
  for (auto* s : sessions) s->close_with(1001, "server shutting down");
}

}  // namespace alliance::gateway
