#pragma once
// RpcServer: the listening side of service-to-service RPC (protobuf frames over
// mutual TLS, see frame.hpp). A service registers one coroutine per method; the
// server owns sockets, framing, deadlines and error mapping.
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/net/frame.hpp"
#include "alliance/rpc/v1/rpc.pb.h"

namespace boost::asio::ssl {
class context;
}

namespace alliance::net {

// What a handler knows about the call besides its request.
struct CallContext {
  alliance::rpc::v1::Caller caller;  // as forwarded by the gateway (empty for service-internal calls)
  std::chrono::steady_clock::time_point deadline;  // the caller has given up after this
  std::string peer_name;  // CN of the peer's verified client certificate ("gateway", ...)
};

// Accepts mutually authenticated connections and dispatches frames to registered
// methods. Handlers always run on the executor given (a single-threaded io_context,
// the one that owns the service's state): register handlers, listen(), stop() and
// destroy it from that thread.
//
// With Options::threads = N > 1 the server also starts N-1 I/O threads of its own and
// spreads connections over all N (each new connection goes to the thread holding the
// fewest). A connection's TLS, framing, request decoding and response encoding run on
// its thread; only the handler itself is handed to the service's executor and its
// result handed back, so handlers need no locks and see one thread, as with N = 1.
// With N > 1, co_await drain() after stop() and before destroying the server (one
// destroyed with calls still running stops its threads and leaks their io_contexts).
//
// Each connection has one reader and one writer coroutine (responses that queue up
// go out in one write); every call runs in its own coroutine, so one connection
// carries many concurrent calls. A call still running at its deadline is answered
// DEADLINE_EXCEEDED (the handler keeps running; its late result is dropped).
// Malformed or oversized frames close that connection only (logged at warn with
// the peer address). Unknown method -> INVALID_ARGUMENT "unknown method X". A
// handler that throws -> INTERNAL (logged); the server keeps serving.
// Built in: "alliance.rpc.v1.Health/Check" -> HealthCheckResponse{service, ready}.
class RpcServer {
 public:
  struct Options {
    std::string service_name;  // reported by Health/Check and in logs
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  // 0 = any free port (see listen())
    // When set, listen() also accepts on this Unix-domain socket, for callers on the
    // same host: the kernel then skips its TCP/IP path on every frame (bench/README.md,
    // "RPC over Unix-domain sockets"). The same mutual TLS runs over it.
    // The socket file is made 0600 (callers run as the service's own user); a stale
    // one left by a process that ended is replaced, a live one or any other file is not.
    std::string unix_path;
    std::size_t max_frame = kDefaultMaxFrame;
    std::chrono::milliseconds handshake_timeout{5000};
    std::size_t max_calls_per_connection = 4096;  // beyond: RESOURCE_EXHAUSTED
    std::size_t threads = 1;  // I/O threads, the caller's included (see the class comment)
  };

  // A method on serialized bytes: the typed handle() below wraps one of these.
  using RawHandler = std::function<asio::awaitable<Result<std::string>>(std::string_view payload,
                                                                        const CallContext& ctx)>;

  // `tls` (from make_rpc_server_context) must outlive the server.
  RpcServer(asio::any_io_executor ex, asio::ssl::context& tls, Options opts);
  // Stops (as stop()). Handlers still running keep their own state alive, so
  // objects they reference must outlive them: stop() and let the io_context drain.
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Registers `method` ("alliance.identity.v1.Identity/Login"). A request that does
  // not parse as Req is answered INVALID_ARGUMENT "malformed request". An Error the
  // handler returns reaches the client intact (code, message, field, retry_after).
  // Register every method before listen(): the table is read by every I/O thread.
  template <class Req, class Resp>
  void handle(std::string method,
              std::function<asio::awaitable<Result<Resp>>(const Req&, const CallContext&)> fn) {
    auto typed = std::make_shared<decltype(fn)>(std::move(fn));
    handle_on_io_thread(std::move(method), [typed, ex = handler_executor()](std::string_view payload,
                                                                             const CallContext& ctx) {
      return invoke_typed<Req, Resp>(typed, ex, payload, ctx);
    });
  }
  // Runs `fn` on the server's executor (bytes in, bytes out).
  void handle_raw(std::string method, RawHandler fn);

  // The executor every handler runs on (the one given to the constructor).
  const asio::any_io_executor& handler_executor() const;

  // What Health/Check reports as `ready` (default: always true).
  void set_readiness(std::function<bool()> ready);

  // Binds host:port (and unix_path, if set), starts accepting, returns the bound port
  // (port 0 => a free one). Throws std::runtime_error naming the address it cannot bind
  // (start-up failure).
  std::uint16_t listen();
  // Stops accepting (removing the Unix-domain socket's file) and closes every connection;
  // calls in flight get no answer.
  void stop();
  // After stop(): completes once every connection has ended and every call has
  // finished (or after `limit`), so no I/O thread will hand the service more work.
  asio::awaitable<void> drain(std::chrono::milliseconds limit = std::chrono::seconds(10));
  // Connections currently open (TLS handshake in progress included).
  std::size_t open_connections() const;
  // The same per I/O thread ([0] is the handlers' thread; one entry until listen()).
  std::vector<std::size_t> connections_per_thread() const;

  class Impl;
  class IoThreads;

 private:
  // Registers a handler that is called on the connection's I/O thread and hands
  // its own work to handler_executor() (as invoke_typed does).
  void handle_on_io_thread(std::string method, RawHandler fn);

  // Decodes here (the connection's thread), runs fn on `ex`, encodes here.
  template <class Req, class Resp>
  static asio::awaitable<Result<std::string>> invoke_typed(
      std::shared_ptr<std::function<asio::awaitable<Result<Resp>>(const Req&, const CallContext&)>> fn,
      asio::any_io_executor ex, std::string_view payload, const CallContext& ctx) {
    Req req;
    if (!req.ParseFromArray(payload.data(), static_cast<int>(payload.size())))
      co_return make_error(Code::kInvalidArgument, "malformed request");
    auto work = (*fn)(req, ctx);
    Result<Resp> resp = co_await run_on(ex, std::move(work));
    if (!resp) co_return std::move(resp).error();
    co_return resp->SerializeAsString();
  }

  // Runs `work` on `ex` and resumes on the caller's executor with its result (or
  // exception); runs it in place when the caller is already on `ex`.
  template <class T>
  static asio::awaitable<T> run_on(asio::any_io_executor ex, asio::awaitable<T> work) {
    if ((co_await asio::this_coro::executor) == ex) co_return co_await std::move(work);
    std::optional<T> out;
    auto hop = asio::co_spawn(ex, fill(std::move(work), out), asio::use_awaitable);
    co_await std::move(hop);
    co_return std::move(*out);
  }
  template <class T>
  static asio::awaitable<void> fill(asio::awaitable<T> work, std::optional<T>& out) {
    out.emplace(co_await std::move(work));
  }

  std::shared_ptr<Impl> impl_;
  std::unique_ptr<IoThreads> io_threads_;  // the N-1 extra threads; joined last
};

}  // namespace alliance::net
