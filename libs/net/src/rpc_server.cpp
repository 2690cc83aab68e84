#include "alliance/net/rpc_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "alliance/core/log.hpp"
#include "connection.hpp"

namespace alliance::net {

namespace pb = alliance::rpc::v1;
using detail::FrameConnection;
using detail::LogEscaped;

namespace {

constexpr std::string_view kHealthMethod = "alliance.rpc.v1.Health/Check";
// A request that names no timeout still must not pin a handler forever.
constexpr std::chrono::milliseconds kDefaultCallTimeout{60'000};

void send_error(FrameConnection& conn, std::uint64_t call_id, const Error& error) {
  pb::Frame frame;
  frame.set_call_id(call_id);
  frame.set_status(error.code == Code::kOk ? pb::INTERNAL : to_proto(error.code));
  frame.set_error_message(error.message);
  frame.set_error_field(error.field);
  if (error.retry_after.count() > 0)
    frame.set_retry_after_ms(static_cast<std::uint32_t>(error.retry_after.count()));
  if (!error.detail.empty()) frame.set_payload(error.detail);
  conn.send(encode_frame(frame));
}

}  // namespace

class RpcServer::Impl : public std::enable_shared_from_this<RpcServer::Impl> {
 public:
  Impl(asio::any_io_executor ex, asio::ssl::context& tls, Options opts)
      : ex_(std::move(ex)), tls_(tls), opts_(std::move(opts)) {}

  static asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self);
  static asio::awaitable<void> session(std::shared_ptr<Impl> self, std::shared_ptr<FrameConnection> conn);
  static asio::awaitable<void> run_call(std::shared_ptr<Impl> self, std::shared_ptr<FrameConnection> conn,
                                        std::shared_ptr<const RawHandler> handler, pb::Frame frame);
  void dispatch(const std::shared_ptr<FrameConnection>& conn, pb::Frame&& frame);

  asio::any_io_executor ex_;
  asio::ssl::context& tls_;
  Options opts_;
  std::unordered_map<std::string, std::shared_ptr<const RawHandler>> handlers_;
  std::function<bool()> ready_ = [] { return true; };
  std::optional<asio::ip::tcp::acceptor> acceptor_;
  std::unordered_set<std::shared_ptr<FrameConnection>> connections_;
  bool stopped_ = false;
};

asio::awaitable<void> RpcServer::Impl::accept_loop(std::shared_ptr<Impl> self) {
  while (!self->stopped_) {
    auto [ec, socket] = co_await self->acceptor_->async_accept(use_tuple);
    if (self->stopped_ || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Typically out of file descriptors: back off briefly instead of spinning.
      log::warn("rpc accept failed", {{"rpc_service", self->opts_.service_name}, {"error", ec.message()}});
      asio::steady_timer pause(self->ex_, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    auto conn = std::make_shared<FrameConnection>(std::move(socket), self->tls_, self->opts_.max_frame);
    asio::co_spawn(self->ex_, session(self, conn), LogEscaped{"rpc server session"});
  }
}

asio::awaitable<void> RpcServer::Impl::session(std::shared_ptr<Impl> self,
                                               std::shared_ptr<FrameConnection> conn) {
  self->connections_.insert(conn);
  boost::system::error_code ignored;
  conn->socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  conn->peer_address = detail::endpoint_text(conn->socket());

  conn->arm_watchdog(self->opts_.handshake_timeout);
  std::string failure = co_await conn->handshake(asio::ssl::stream_base::server);
  conn->disarm_watchdog();
  if (!failure.empty()) {
    if (!self->stopped_)
      log::warn("rpc handshake refused", {{"rpc_service", self->opts_.service_name},
                                          {"peer", conn->peer_address},
                                          {"reason", failure}});
    conn->close();
    self->connections_.erase(conn);
    co_return;
  }
  conn->peer_name = detail::peer_common_name(conn->stream());
  log::debug("rpc connection open", {{"rpc_service", self->opts_.service_name},
                                     {"peer", conn->peer_address},
                                     {"peer_name", conn->peer_name}});

  auto end = co_await conn->run([&self, &conn](pb::Frame&& frame) { self->dispatch(conn, std::move(frame)); });
  self->connections_.erase(conn);
  if (end.protocol_error) {
    log::warn("rpc connection closed: bad frame", {{"rpc_service", self->opts_.service_name},
                                                   {"peer", conn->peer_address},
                                                   {"peer_name", conn->peer_name},
                                                   {"reason", end.reason}});
  } else {
    log::debug("rpc connection closed", {{"rpc_service", self->opts_.service_name},
                                         {"peer", conn->peer_address},
                                         {"reason", end.reason}});
  }
}

void RpcServer::Impl::dispatch(const std::shared_ptr<FrameConnection>& conn, pb::Frame&& frame) {
  auto it = handlers_.find(frame.method());
  if (it == handlers_.end()) {
    send_error(*conn, frame.call_id(),
               make_error(Code::kInvalidArgument, "unknown method " + frame.method()));
    return;
  }
  if (conn->calls_in_flight >= opts_.max_calls_per_connection) {
    Error busy = make_error(Code::kResourceExhausted, "too many concurrent calls on one connection");
    busy.retry_after = std::chrono::milliseconds(10);
    send_error(*conn, frame.call_id(), busy);
    return;
  }
  ++conn->calls_in_flight;
  asio::co_spawn(ex_, run_call(shared_from_this(), conn, it->second, std::move(frame)),
                 LogEscaped{"rpc call"});
}

asio::awaitable<void> RpcServer::Impl::run_call(std::shared_ptr<Impl> self,
                                                std::shared_ptr<FrameConnection> conn,
                                                std::shared_ptr<const RawHandler> handler, pb::Frame frame) {
  // Either the handler or the deadline answers, whichever comes first.
  struct Answer {
    explicit Answer(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    bool sent = false;
  };
  auto answer = std::make_shared<Answer>(self->ex_);
  const std::uint64_t call_id = frame.call_id();

  CallContext ctx;
  ctx.caller = std::move(*frame.mutable_caller());
  auto timeout = frame.timeout_ms() > 0 ? std::chrono::milliseconds(frame.timeout_ms()) : kDefaultCallTimeout;
  ctx.deadline = std::chrono::steady_clock::now() + timeout;
  ctx.peer_name = conn->peer_name;

  answer->timer.expires_at(ctx.deadline);
  answer->timer.async_wait([answer, conn, call_id](boost::system::error_code ec) {
    if (ec || answer->sent) return;
    answer->sent = true;
    send_error(*conn, call_id, make_error(Code::kDeadlineExceeded, "deadline exceeded"));
  });

  Result<std::string> result = make_error(Code::kInternal, "internal error");
  try {
    result = co_await (*handler)(frame.payload(), ctx);
  } catch (const std::exception& e) {
    log::error("rpc handler threw", {{"rpc_service", self->opts_.service_name},
                                     {"method", frame.method()},
                                     {"error", e.what()}});
  } catch (...) {
    log::error("rpc handler threw", {{"rpc_service", self->opts_.service_name},
                                     {"method", frame.method()},
                                     {"error", "unknown exception"}});
  }
  --conn->calls_in_flight;
  answer->timer.cancel();
  if (answer->sent) co_return;  // the deadline answered already; the late result is dropped
  answer->sent = true;
  if (!result) {
    send_error(*conn, call_id, result.error());
    co_return;
  }
  if (result->size() > conn->max_frame() - 64) {
    log::error("rpc response too large", {{"rpc_service", self->opts_.service_name},
                                          {"method", frame.method()},
                                          {"bytes", result->size()}});
    send_error(*conn, call_id, make_error(Code::kInternal, "response too large"));
    co_return;
  }
  pb::Frame response;
  response.set_call_id(call_id);
  response.set_status(pb::OK);
  response.set_payload(std::move(*result));
  conn->send(encode_frame(response));
}

RpcServer::RpcServer(asio::any_io_executor ex, asio::ssl::context& tls, Options opts)
    : impl_(std::make_shared<Impl>(std::move(ex), tls, std::move(opts))) {
  Impl* impl = impl_.get();
  handle<pb::HealthCheckRequest, pb::HealthCheckResponse>(
      std::string(kHealthMethod),
      [impl](const pb::HealthCheckRequest&, const CallContext&) -> asio::awaitable<Result<pb::HealthCheckResponse>> {
        pb::HealthCheckResponse resp;
        resp.set_service(impl->opts_.service_name);
        resp.set_ready(impl->ready_());
        co_return resp;
      });
}

RpcServer::~RpcServer() { stop(); }

void RpcServer::handle_raw(std::string method, RawHandler fn) {
  impl_->handlers_[std::move(method)] = std::make_shared<const RawHandler>(std::move(fn));
}

void RpcServer::set_readiness(std::function<bool()> ready) { impl_->ready_ = std::move(ready); }

std::uint16_t RpcServer::listen() {
  auto& o = impl_->opts_;
  try {
    asio::ip::tcp::resolver resolver(impl_->ex_);
    auto results = resolver.resolve(o.host, std::to_string(o.port),
                                    asio::ip::tcp::resolver::passive | asio::ip::tcp::resolver::numeric_service);
    asio::ip::tcp::endpoint endpoint = *results.begin();
    asio::ip::tcp::acceptor acceptor(impl_->ex_);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    impl_->acceptor_.emplace(std::move(acceptor));
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("rpc: cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " +
                             e.code().message());
  }
  impl_->stopped_ = false;
  auto port = impl_->acceptor_->local_endpoint().port();
  log::info("rpc listening", {{"rpc_service", o.service_name}, {"host", o.host}, {"port", port}});
  asio::co_spawn(impl_->ex_, Impl::accept_loop(impl_), LogEscaped{"rpc accept"});
  return port;
}

void RpcServer::stop() {
  impl_->stopped_ = true;
  if (impl_->acceptor_) {
    boost::system::error_code ignored;
    impl_->acceptor_->close(ignored);
  }
  auto open = impl_->connections_;  // close() lets sessions erase themselves later
  for (auto& conn : open) conn->close();
}

std::size_t RpcServer::open_connections() const { return impl_->connections_.size(); }

}  // namespace alliance::net
