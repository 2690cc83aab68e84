#include "alliance/net/rpc_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "alliance/core/log.hpp"
#include "alliance/net/tls.hpp"
#include "connection.hpp"

namespace alliance::net {

namespace pb = alliance::rpc::v1;
using detail::FrameConnection;
using detail::LogEscaped;

namespace {

constexpr std::chrono::milliseconds kMinBackoff{50};
constexpr std::chrono::milliseconds kMaxBackoff{2000};
constexpr std::chrono::milliseconds kConnectTimeout{5000};

}  // namespace

class RpcClient::Impl : public std::enable_shared_from_this<RpcClient::Impl> {
 public:
  // One call waiting for its answer; lives in the calling coroutine's frame.
  struct Pending {
    explicit Pending(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;  // expires at the deadline, cancelled when answered
    std::optional<Result<std::string>> result;
  };

  Impl(asio::any_io_executor ex, asio::ssl::context& tls, Options opts)
      : ex_(std::move(ex)), tls_(tls), opts_(std::move(opts)), backoff_timer_(ex_), breaker_(opts_.breaker) {
    if (opts_.server_name.empty()) opts_.server_name = opts_.host;
  }

  // The request's frame, length prefix included, encoded at once from the call's parts:
  // the Caller is borrowed, not copied, and the frame message is reused.
  std::string encode_request(std::uint64_t call_id, std::string_view method, std::string payload,
                             const pb::Caller& caller, std::chrono::milliseconds timeout);
  static asio::awaitable<Result<std::string>> call(std::shared_ptr<Impl> self, std::uint64_t call_id,
                                                   std::string bytes, std::chrono::milliseconds timeout);
  static asio::awaitable<void> connect_loop(std::shared_ptr<Impl> self);
  asio::awaitable<std::string> establish(std::shared_ptr<FrameConnection> conn);
  void on_response(pb::Frame&& frame);
  void fail_pending(const std::string& reason);
  void wake_waiters();
  // A transport failure for the breaker; calls waiting for a connection fail once it opens.
  void transport_failed();
  // Why a call cannot go now (full detail, for logs; the gateway shows none of it).
  Error unavailable(std::chrono::milliseconds retry_after) const;
  void stop();
  bool is_connected() const { return conn_ && !conn_->closed(); }
  std::string target() const { return opts_.server_name + " (" + address() + ")"; }
  // Where the server is: "host:port" or "unix:PATH".
  std::string address() const {
    return opts_.unix_path.empty() ? opts_.host + ":" + std::to_string(opts_.port) : "unix:" + opts_.unix_path;
  }

  asio::any_io_executor ex_;
  asio::ssl::context& tls_;
  Options opts_;
  asio::steady_timer backoff_timer_;
  std::shared_ptr<FrameConnection> conn_;        // established
  std::shared_ptr<FrameConnection> connecting_;  // being established
  std::unordered_map<std::uint64_t, Pending*> pending_;
  std::unordered_set<asio::steady_timer*> waiters_;  // calls waiting for a connection
  std::uint64_t next_call_id_ = 1;
  std::string last_error_ = "not connected yet";
  bool connector_running_ = false;
  bool stopped_ = false;
  bool failing_ = false;  // in a streak of failed connects (log the first only)
  CircuitBreaker breaker_;
  Stats stats_{0, 0, 0, 0};
  pb::Frame request_;  // encode_request's, kept so its method string keeps its storage
};

std::string RpcClient::Impl::encode_request(std::uint64_t call_id, std::string_view method, std::string payload,
                                            const pb::Caller& caller, std::chrono::milliseconds timeout) {
  request_.set_call_id(call_id);
  request_.mutable_method()->assign(method.data(), method.size());
  request_.set_timeout_ms(static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(timeout.count(), 1, std::numeric_limits<std::uint32_t>::max())));
  request_.set_payload(std::move(payload));
  // Serializing only reads the Caller (its cached size is a mutable member); it is
  // handed back even if encoding throws.
  struct Borrowed {
    pb::Frame& frame;
    ~Borrowed() {
      frame.unsafe_arena_release_caller();
      std::string().swap(*frame.mutable_payload());  // holds no request between calls
    }
  } borrowed{request_};
  request_.unsafe_arena_set_allocated_caller(const_cast<pb::Caller*>(&caller));
  return encode_frame(request_);
}

asio::awaitable<Result<std::string>> RpcClient::Impl::call(std::shared_ptr<Impl> self, std::uint64_t call_id,
                                                           std::string bytes, std::chrono::milliseconds timeout) {
  // Every way out but an answer that is not an error counts as an error.
  struct CountedError {
    Stats& stats;
    bool answered_ok = false;
    ~CountedError() {
      if (!answered_ok) ++stats.errors;
    }
  } counted{self->stats_};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (self->stopped_) co_return make_error(Code::kUnavailable, "rpc client closed");
  if (bytes.size() - kFrameHeaderSize > self->opts_.max_frame)
    co_return make_error(Code::kInvalidArgument,
                         "request too large: " + std::to_string(bytes.size() - kFrameHeaderSize) + " bytes");

  auto admission = self->breaker_.admit(std::chrono::steady_clock::now());
  if (!admission.allowed) {
    ++self->stats_.refused;
    co_return self->unavailable(admission.retry_after);
  }
  if (!self->is_connected()) {
    if (!self->connector_running_) {
      self->connector_running_ = true;
      asio::co_spawn(self->ex_, connect_loop(self), LogEscaped{"rpc connect"});
    } else if (admission.probe) {
      self->backoff_timer_.cancel();  // the probe tries now, not at the end of the backoff
    }
    while (!self->is_connected() && !self->stopped_ && std::chrono::steady_clock::now() < deadline &&
           self->breaker_.state() != CircuitBreaker::State::kOpen) {
      asio::steady_timer wait(self->ex_, deadline);
      self->waiters_.insert(&wait);
      co_await wait.async_wait(use_tuple);
      self->waiters_.erase(&wait);
    }
    if (self->stopped_) co_return make_error(Code::kUnavailable, "rpc client closed");
    if (!self->is_connected())
      co_return self->unavailable(self->breaker_.retry_after(std::chrono::steady_clock::now()));
  }

  Pending pending(self->ex_);
  pending.timer.expires_at(deadline);
  self->pending_.emplace(call_id, &pending);
  self->conn_->send(bytes);
  co_await pending.timer.async_wait(use_tuple);
  self->pending_.erase(call_id);
  if (pending.result) {
    counted.answered_ok = pending.result->ok();
    co_return std::move(*pending.result);
  }
  if (self->stopped_) co_return make_error(Code::kUnavailable, "rpc client closed");
  self->last_error_ = "no answer within " + std::to_string(timeout.count()) + " ms";
  self->transport_failed();
  co_return make_error(Code::kDeadlineExceeded, "deadline exceeded: no answer from " + self->opts_.server_name +
                                                    " within " + std::to_string(timeout.count()) + " ms");
}

asio::awaitable<std::string> RpcClient::Impl::establish(std::shared_ptr<FrameConnection> conn) {
  conn->arm_watchdog(kConnectTimeout);
  boost::system::error_code ec;
  if (!opts_.unix_path.empty()) {
    asio::local::stream_protocol::endpoint endpoint;
    try {
      endpoint = asio::local::stream_protocol::endpoint(opts_.unix_path);
    } catch (const boost::system::system_error& e) {
      conn->disarm_watchdog();
      co_return "unix socket \"" + opts_.unix_path + "\": " + e.code().message();
    }
    auto [cec] = co_await conn->socket().async_connect(endpoint, use_tuple);
    ec = cec;
  } else if (auto address = asio::ip::make_address(opts_.host, ec); !ec) {
    auto [cec] = co_await conn->socket().async_connect(asio::ip::tcp::endpoint(address, opts_.port), use_tuple);
    ec = cec;
  } else {
    asio::ip::tcp::resolver resolver(ex_);
    auto [rec, results] = co_await resolver.async_resolve(opts_.host, std::to_string(opts_.port), use_tuple);
    if (rec) {
      conn->disarm_watchdog();
      co_return "cannot resolve " + opts_.host + ": " + rec.message();
    }
    ec = asio::error::host_not_found;
    for (const auto& entry : results) {
      boost::system::error_code ignored;
      conn->socket().close(ignored);  // a failed attempt leaves the socket unusable
      auto [cec] = co_await conn->socket().async_connect(entry.endpoint(), use_tuple);
      ec = cec;
      if (!ec || conn->closed()) break;  // connected, or the watchdog gave up
    }
  }
  if (ec) {
    bool timed_out = conn->disarm_watchdog();
    co_return timed_out ? std::string("connect timed out") : "connect: " + ec.message();
  }
  boost::system::error_code ignored;
  if (opts_.unix_path.empty()) conn->socket().set_option(asio::ip::tcp::no_delay(true), ignored);

  // The server must present a chain to our CA, whatever the context says, and carry the
  // name (SNI too, for a DNS name).
  SSL_set_verify(conn->stream().native_handle(), SSL_VERIFY_PEER, nullptr);
  conn->expected_name = opts_.server_name;
  if (!expect_server_name(conn->stream().native_handle(), opts_.server_name))
    co_return "tls: cannot check the server's certificate for \"" + opts_.server_name + "\"";

  std::string failure = co_await conn->handshake(asio::ssl::stream_base::client);
  conn->disarm_watchdog();
  if (!failure.empty()) co_return "tls handshake: " + failure;
  co_return std::string();
}

asio::awaitable<void> RpcClient::Impl::connect_loop(std::shared_ptr<Impl> self) {
  auto backoff = kMinBackoff;
  while (!self->stopped_) {
    LeanTlsStream::socket_type socket(self->ex_);
    auto conn = std::make_shared<FrameConnection>(std::move(socket), self->tls_, self->opts_.max_frame);
    self->connecting_ = conn;
    std::string failure = co_await self->establish(conn);
    self->connecting_.reset();
    if (self->stopped_) {
      conn->close();
      break;
    }
    if (!failure.empty()) {
      conn->close();
      self->last_error_ = failure;
      self->transport_failed();
      if (!self->failing_) {
        log::warn("rpc connect failed",
                  {{"server", self->opts_.server_name}, {"address", self->address()}, {"reason", failure}});
        self->failing_ = true;
      } else {
        log::debug("rpc connect failed", {{"server", self->opts_.server_name}, {"reason", failure}});
      }
      self->backoff_timer_.expires_after(backoff);
      co_await self->backoff_timer_.async_wait(use_tuple);
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }

    if (self->failing_)
      log::info("rpc connected", {{"server", self->opts_.server_name}, {"address", self->address()}});
    self->failing_ = false;
    backoff = kMinBackoff;
    self->breaker_.on_success();
    self->conn_ = conn;
    self->wake_waiters();
    auto end = co_await conn->run([&self](pb::Frame&& frame) { self->on_response(std::move(frame)); });
    if (self->conn_ == conn) self->conn_.reset();
    self->last_error_ = "connection lost: " + end.reason;
    self->fail_pending(self->opts_.server_name + " connection lost: " + end.reason);
    if (self->stopped_) break;
    self->transport_failed();
    log::warn("rpc connection lost",
              {{"server", self->opts_.server_name}, {"address", self->address()}, {"reason", end.reason}});
    self->backoff_timer_.expires_after(backoff);
    co_await self->backoff_timer_.async_wait(use_tuple);
  }
  self->connector_running_ = false;
}

void RpcClient::Impl::on_response(pb::Frame&& frame) {
  auto it = pending_.find(frame.call_id());
  breaker_.on_success();  // the upstream answers, whatever it says
  if (it == pending_.end()) return;  // answered after the caller gave up
  Pending* p = it->second;
  pending_.erase(it);
  if (frame.status() == pb::OK) {
    p->result.emplace(std::move(*frame.mutable_payload()));
  } else {
    Error error;
    error.code = from_proto(frame.status());
    error.message = std::move(*frame.mutable_error_message());
    error.field = std::move(*frame.mutable_error_field());
    error.retry_after = std::chrono::milliseconds(frame.retry_after_ms());
    error.detail = std::move(*frame.mutable_payload());
    p->result.emplace(std::move(error));
  }
  p->timer.cancel();
}

void RpcClient::Impl::fail_pending(const std::string& reason) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) {
    p->result.emplace(make_error(Code::kUnavailable, reason));
    p->timer.cancel();
  }
}

void RpcClient::Impl::wake_waiters() {
  for (auto* t : waiters_) t->cancel();
}

void RpcClient::Impl::transport_failed() {
  const auto opened_before = breaker_.times_opened();
  breaker_.on_failure(std::chrono::steady_clock::now());
  if (breaker_.times_opened() == opened_before) return;
  log::warn("rpc circuit open: failing calls fast",
            {{"server", opts_.server_name}, {"reason", last_error_}, {"cool_down_ms", opts_.breaker.cool_down.count()}});
  wake_waiters();
}

Error RpcClient::Impl::unavailable(std::chrono::milliseconds retry_after) const {
  Error e = make_error(Code::kUnavailable, target() + " unavailable: " + last_error_);
  e.retry_after = retry_after;
  return e;
}

void RpcClient::Impl::stop() {
  if (stopped_) return;
  stopped_ = true;
  backoff_timer_.cancel();
  if (connecting_) connecting_->close();
  if (conn_) conn_->close();
  fail_pending("rpc client closed");
  wake_waiters();
}

RpcClient::RpcClient(asio::any_io_executor ex, asio::ssl::context& tls, Options opts)
    : impl_(std::make_shared<Impl>(std::move(ex), tls, std::move(opts))) {}

RpcClient::~RpcClient() { impl_->stop(); }

asio::awaitable<Result<std::string>> RpcClient::call_raw(std::string_view method, std::string payload,
                                                         const pb::Caller& caller,
                                                         std::chrono::milliseconds timeout) {
  // Not a coroutine (one frame fewer per call): the request is encoded now, and the call
  // holds the Impl, since `this` may be gone when it resumes.
  ++impl_->stats_.calls;
  const std::uint64_t call_id = impl_->next_call_id_++;
  std::string bytes = impl_->encode_request(call_id, method, std::move(payload), caller, timeout);
  return Impl::call(impl_, call_id, std::move(bytes), timeout);
}

bool RpcClient::connected() const { return impl_->is_connected(); }

std::chrono::milliseconds RpcClient::default_timeout() const { return impl_->opts_.default_timeout; }

RpcClient::Stats RpcClient::stats() const {
  Stats s = impl_->stats_;
  s.breaker_opened = impl_->breaker_.times_opened();
  return s;
}

RpcClient::Options rpc_client_options(const RpcAddress& address, std::string server_name) {
  RpcClient::Options o;
  o.host = address.host;
  o.port = address.port;
  o.unix_path = address.unix_path;
  o.server_name = std::move(server_name);
  return o;
}

}  // namespace alliance::net
