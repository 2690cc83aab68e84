#include "alliance/net/rpc_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <unordered_map>

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

// The extra I/O threads, one io_context each. Destroying it lets their work run out
// and joins them.
class RpcServer::IoThreads {
 public:
  explicit IoThreads(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
      guards_.emplace_back(contexts_.back()->get_executor());
    }
    for (auto& io : contexts_) threads_.emplace_back([ctx = io.get()] { ctx->run(); });
  }
  ~IoThreads() {
    guards_.clear();
    for (auto& t : threads_) t.join();
  }
  // For a server destroyed while calls are still waiting on the handlers' executor:
  // stops and joins the threads but keeps their io_contexts (leaked), because those
  // calls' frames, owned by that executor's queue, still hold sockets of theirs.
  void abandon() {
    guards_.clear();
    for (auto& io : contexts_) io->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    for (auto& io : contexts_) static_cast<void>(io.release());
    contexts_.clear();
  }
  std::vector<asio::any_io_executor> executors() const {
    std::vector<asio::any_io_executor> out;
    for (auto& io : contexts_) out.emplace_back(io->get_executor());
    return out;
  }

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
};

class RpcServer::Impl : public std::enable_shared_from_this<RpcServer::Impl> {
 public:
  Impl(asio::any_io_executor ex, asio::ssl::context& tls, Options opts)
      : ex_(std::move(ex)), tls_(tls), opts_(std::move(opts)) {
    io_.push_back({ex_, 0});
  }

  // The I/O thread with the fewest open connections (under mutex_).
  std::size_t pick_thread() const {
    std::size_t best = 0;
    for (std::size_t i = 1; i < io_.size(); ++i)
      if (io_[i].connections < io_[best].connections) best = i;
    return best;
  }
  void add(const std::shared_ptr<FrameConnection>& conn, std::size_t thread) {
    std::lock_guard lock(mutex_);
    connections_.emplace(conn, thread);
    ++io_[thread].connections;
  }
  void remove(const std::shared_ptr<FrameConnection>& conn) {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(conn);
    if (it == connections_.end()) return;
    --io_[it->second].connections;
    connections_.erase(it);
  }

  template <class Acceptor>
  static asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self, Acceptor& acceptor);
  static asio::awaitable<void> session(std::shared_ptr<Impl> self, std::shared_ptr<FrameConnection> conn, bool tcp);
  void listen_unix();
  void close_acceptors();
  static asio::awaitable<void> run_call(std::shared_ptr<Impl> self, std::shared_ptr<FrameConnection> conn,
                                        std::shared_ptr<const RawHandler> handler, pb::Frame frame);
  void dispatch(const std::shared_ptr<FrameConnection>& conn, pb::Frame&& frame);

  asio::any_io_executor ex_;
  asio::ssl::context& tls_;
  Options opts_;
  std::unordered_map<std::string, std::shared_ptr<const RawHandler>> handlers_;
  std::function<bool()> ready_ = [] { return true; };
  std::optional<asio::ip::tcp::acceptor> acceptor_;
  std::optional<asio::local::stream_protocol::acceptor> unix_acceptor_;  // when opts_.unix_path is set
  bool unix_bound_ = false;  // the socket file at opts_.unix_path is ours (removed on stop)
  struct IoThread {
    asio::any_io_executor ex;
    std::size_t connections = 0;
  };
  std::vector<IoThread> io_;  // [0] is ex_; the rest are IoThreads' (fixed after listen())
  mutable std::mutex mutex_;  // guards connections_ and the counts in io_
  std::unordered_map<std::shared_ptr<FrameConnection>, std::size_t> connections_;  // -> index in io_
  std::atomic<std::size_t> calls_running_{0};  // every connection's, for drain()
  std::atomic<bool> stopped_{false};
};

template <class Acceptor>
asio::awaitable<void> RpcServer::Impl::accept_loop(std::shared_ptr<Impl> self, Acceptor& acceptor) {
  constexpr bool kTcp = std::is_same_v<Acceptor, asio::ip::tcp::acceptor>;
  while (!self->stopped_) {
    std::size_t thread = 0;
    {
      std::lock_guard lock(self->mutex_);
      thread = self->pick_thread();
    }
    auto [ec, socket] = co_await acceptor.async_accept(self->io_[thread].ex, use_tuple);
    if (self->stopped_ || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Typically out of file descriptors: back off briefly instead of spinning.
      log::warn("rpc accept failed", {{"rpc_service", self->opts_.service_name}, {"error", ec.message()}});
      asio::steady_timer pause(self->ex_, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    auto conn = std::make_shared<FrameConnection>(std::move(socket), self->tls_, self->opts_.max_frame);
    self->add(conn, thread);
    asio::co_spawn(self->io_[thread].ex, session(self, conn, kTcp), LogEscaped{"rpc server session"});
  }
}

asio::awaitable<void> RpcServer::Impl::session(std::shared_ptr<Impl> self,
                                               std::shared_ptr<FrameConnection> conn, bool tcp) {
  boost::system::error_code ignored;
  if (tcp) conn->socket().set_option(asio::ip::tcp::no_delay(true), ignored);
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
    self->remove(conn);
    co_return;
  }
  conn->peer_name = detail::peer_common_name(conn->stream());
  log::debug("rpc connection open", {{"rpc_service", self->opts_.service_name},
                                     {"peer", conn->peer_address},
                                     {"peer_name", conn->peer_name}});

  auto end = co_await conn->run([&self, &conn](pb::Frame&& frame) { self->dispatch(conn, std::move(frame)); });
  self->remove(conn);
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
  ++calls_running_;
  asio::co_spawn(conn->socket().get_executor(), run_call(shared_from_this(), conn, it->second, std::move(frame)),
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
  auto answer = std::make_shared<Answer>(conn->socket().get_executor());
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
  --self->calls_running_;  // what is left touches only this connection
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

RpcServer::~RpcServer() {
  stop();
  if (io_threads_ && impl_->calls_running_ > 0) {
    log::warn("rpc server destroyed with calls running (drain() first)",
              {{"rpc_service", impl_->opts_.service_name}, {"calls", impl_->calls_running_.load()}});
    io_threads_->abandon();
  }
  io_threads_.reset();  // joins them once their connections have ended
}

void RpcServer::handle_on_io_thread(std::string method, RawHandler fn) {
  impl_->handlers_[std::move(method)] = std::make_shared<const RawHandler>(std::move(fn));
}

void RpcServer::handle_raw(std::string method, RawHandler fn) {
  auto shared = std::make_shared<RawHandler>(std::move(fn));
  handle_on_io_thread(std::move(method), [shared, ex = impl_->ex_](std::string_view payload,
                                                                    const CallContext& ctx) {
    auto work = (*shared)(payload, ctx);
    return run_on(ex, std::move(work));
  });
}

const asio::any_io_executor& RpcServer::handler_executor() const { return impl_->ex_; }

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
  if (!o.unix_path.empty()) {
    try {
      impl_->listen_unix();
    } catch (...) {
      impl_->close_acceptors();
      throw;
    }
  }
  if (o.threads > 1 && !io_threads_) {
    io_threads_ = std::make_unique<IoThreads>(o.threads - 1);
    std::lock_guard lock(impl_->mutex_);
    for (auto& ex : io_threads_->executors()) impl_->io_.push_back({ex, 0});
  }
  impl_->stopped_ = false;
  auto port = impl_->acceptor_->local_endpoint().port();
  log::info("rpc listening", {{"rpc_service", o.service_name}, {"host", o.host}, {"port", port}});
  asio::co_spawn(impl_->ex_, Impl::accept_loop(impl_, *impl_->acceptor_), LogEscaped{"rpc accept"});
  if (impl_->unix_acceptor_) {
    log::info("rpc listening", {{"rpc_service", o.service_name}, {"unix_path", o.unix_path}});
    asio::co_spawn(impl_->ex_, Impl::accept_loop(impl_, *impl_->unix_acceptor_), LogEscaped{"rpc accept"});
  }
  return port;
}

void RpcServer::Impl::listen_unix() {
  const std::string& path = opts_.unix_path;
  auto fail = [&path](const std::string& why) {
    return std::runtime_error("rpc: cannot listen on unix:" + path + ": " + why);
  };
  try {
    asio::local::stream_protocol::endpoint endpoint(path);  // throws if the path is too long
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) throw fail("a file that is not a socket is in the way");
      // A socket file is left behind by a server that ended without stop(): take its
      // place, unless a server still answers on it.
      asio::local::stream_protocol::socket probe(ex_);
      boost::system::error_code ec;
      probe.connect(endpoint, ec);
      if (!ec) throw fail("another process is listening on it");
      if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw fail(std::string("cannot remove the stale socket: ") + std::strerror(errno));
    }
    asio::local::stream_protocol::acceptor acceptor(ex_);
    acceptor.open(endpoint.protocol());
    acceptor.bind(endpoint);
    unix_bound_ = true;
    if (::chmod(path.c_str(), 0600) != 0) throw fail(std::string("chmod 0600: ") + std::strerror(errno));
    acceptor.listen(asio::socket_base::max_listen_connections);
    unix_acceptor_.emplace(std::move(acceptor));
  } catch (const boost::system::system_error& e) {
    throw fail(e.code().message());
  }
}

void RpcServer::Impl::close_acceptors() {
  boost::system::error_code ignored;
  if (acceptor_) acceptor_->close(ignored);
  if (unix_acceptor_) unix_acceptor_->close(ignored);
  if (unix_bound_) {
    ::unlink(opts_.unix_path.c_str());
    unix_bound_ = false;
  }
}

void RpcServer::stop() {
  impl_->stopped_ = true;
  impl_->close_acceptors();
  std::vector<std::shared_ptr<FrameConnection>> open;  // close() lets sessions remove themselves later
  {
    std::lock_guard lock(impl_->mutex_);
    for (auto& [conn, thread] : impl_->connections_) open.push_back(conn);
  }
  for (auto& conn : open) {
    // A connection is closed on its own thread; on this one, at once.
    if (conn->socket().get_executor() == impl_->ex_)
      conn->close();
    else
      asio::post(conn->socket().get_executor(), [conn] { conn->close(); });
  }
}

asio::awaitable<void> RpcServer::drain(std::chrono::milliseconds limit) {
  auto impl = impl_;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  asio::steady_timer pause(impl->ex_);
  for (;;) {
    {
      std::lock_guard lock(impl->mutex_);
      if (impl->connections_.empty() && impl->calls_running_ == 0) co_return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      log::warn("rpc drain gave up", {{"rpc_service", impl->opts_.service_name}});
      co_return;
    }
    pause.expires_after(std::chrono::milliseconds(2));
    co_await pause.async_wait(use_tuple);
  }
}

std::vector<std::size_t> RpcServer::connections_per_thread() const {
  std::lock_guard lock(impl_->mutex_);
  std::vector<std::size_t> out;
  for (auto& io : impl_->io_) out.push_back(io.connections);
  return out;
}

std::size_t RpcServer::open_connections() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->connections_.size();
}

}  // namespace alliance::net
