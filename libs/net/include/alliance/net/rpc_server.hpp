#pragma once
// RpcServer: the listening side of service-to-service RPC (protobuf frames over
// mutual TLS, see frame.hpp). A service registers one coroutine per method; the
// server owns sockets, framing, deadlines and error mapping.
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

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
// methods. Everything runs on the executor given (a single-threaded io_context):
// register handlers, listen(), stop() and destroy it from that thread.
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
    std::size_t max_frame = kDefaultMaxFrame;
    std::chrono::milliseconds handshake_timeout{5000};
    std::size_t max_calls_per_connection = 4096;  // beyond: RESOURCE_EXHAUSTED
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
  template <class Req, class Resp>
  void handle(std::string method,
              std::function<asio::awaitable<Result<Resp>>(const Req&, const CallContext&)> fn) {
    auto typed = std::make_shared<decltype(fn)>(std::move(fn));
    handle_raw(std::move(method), [typed](std::string_view payload, const CallContext& ctx) {
      return invoke_typed<Req, Resp>(typed, payload, ctx);
    });
  }
  void handle_raw(std::string method, RawHandler fn);

  // What Health/Check reports as `ready` (default: always true).
  void set_readiness(std::function<bool()> ready);

  // Binds host:port, starts accepting, returns the bound port (port 0 => a free one).
  // Throws std::runtime_error naming host:port if it cannot be bound (start-up failure).
  std::uint16_t listen();
  // Stops accepting and closes every connection; calls in flight get no answer.
  void stop();
  // Connections currently open (TLS handshake in progress included).
  std::size_t open_connections() const;

  class Impl;

 private:
  template <class Req, class Resp>
  static asio::awaitable<Result<std::string>> invoke_typed(
      std::shared_ptr<std::function<asio::awaitable<Result<Resp>>(const Req&, const CallContext&)>> fn,
      std::string_view payload, const CallContext& ctx) {
    Req req;
    if (!req.ParseFromArray(payload.data(), static_cast<int>(payload.size())))
      co_return make_error(Code::kInvalidArgument, "malformed request");
    Result<Resp> resp = co_await (*fn)(req, ctx);
    if (!resp) co_return std::move(resp).error();
    co_return resp->SerializeAsString();
  }

  std::shared_ptr<Impl> impl_;
};

}  // namespace alliance::net
