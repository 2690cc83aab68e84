#pragma once
// RpcClient: the calling side of service-to-service RPC (protobuf frames over
// mutual TLS, see frame.hpp and rpc_server.hpp).
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "alliance/core/asio.hpp"
#include "alliance/core/config.hpp"
#include "alliance/core/result.hpp"
#include "alliance/net/circuit_breaker.hpp"
#include "alliance/net/frame.hpp"
#include "alliance/rpc/v1/rpc.pb.h"

namespace boost::asio::ssl {
class context;
}

namespace alliance::net {

// One multiplexed connection to a service, established lazily on the first call
// and re-established with exponential backoff (50 ms .. 2 s) when it drops.
// call() waits for a connection up to its deadline; calls pending on a connection
// that drops fail kUnavailable; a call with no answer by its deadline fails
// kDeadlineExceeded. A circuit breaker (circuit_breaker.hpp) counts transport
// failures (failed connects, lost connections, calls with no answer): once it is
// open, calls fail kUnavailable at once, with Error::retry_after saying when the
// next probe may go, instead of each waiting out its deadline; calls already
// waiting for a connection fail when it opens. A new connection or any answer
// closes it. The server's name is verified against Options::server_name
// (certificate SAN/CN, RFC 2818). Thread: the executor given; call from
// coroutines running on it, and co_await each call at once (arguments are read
// when the coroutine starts).
class RpcClient {
 public:
  struct Options {
    std::string host;           // "127.0.0.1", "identity.internal"
    std::uint16_t port = 0;
    // When set, connects to this Unix-domain socket (a server on the same host, see
    // RpcServer::Options::unix_path) instead of host:port. TLS is the same either way.
    std::string unix_path;
    std::string server_name;    // expected name in the server certificate, e.g. "identity"
    // Larger requests fail kInvalidArgument locally; keep it <= the server's
    // max_frame, or the server closes the connection (and every call on it).
    std::size_t max_frame = kDefaultMaxFrame;
    std::chrono::milliseconds default_timeout{2000};  // when call() gets no timeout
    CircuitBreaker::Options breaker;
  };

  // `tls` (from make_rpc_client_context) must outlive the client.
  RpcClient(asio::any_io_executor ex, asio::ssl::context& tls, Options opts);
  // Closes the connection; calls still waiting complete with kUnavailable.
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;

  // Typed call: `co_await client.call<pb::LoginResponse>("alliance.identity.v1.Identity/Login", req, caller)`.
  template <class Resp, class Req>
  asio::awaitable<Result<Resp>> call(std::string_view method, const Req& req,
                                     const alliance::rpc::v1::Caller& caller = {},
                                     std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    Result<std::string> raw =
        co_await call_raw(method, req.SerializeAsString(), caller, timeout.value_or(default_timeout()));
    if (!raw) co_return std::move(raw).error();
    Resp resp;
    if (!resp.ParseFromString(*raw)) co_return make_error(Code::kInternal, "malformed response");
    co_return resp;
  }

  // Untyped form used by the gateway's generic routing (payload already serialized).
  asio::awaitable<Result<std::string>> call_raw(std::string_view method, std::string payload,
                                                const alliance::rpc::v1::Caller& caller,
                                                std::chrono::milliseconds timeout);

  // True while a connection is established.
  bool connected() const;
  std::chrono::milliseconds default_timeout() const;

  struct Stats {
    std::uint64_t calls;          // calls started
    std::uint64_t errors;         // calls that ended in an Error (any code)
    std::uint64_t refused;        // calls refused at once by the open breaker
    std::uint64_t breaker_opened; // times the breaker opened
  };
  Stats stats() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// Options for the server at `address` (from Config::rpc_address: host:port or a
// Unix-domain socket) whose certificate must carry `server_name`.
RpcClient::Options rpc_client_options(const RpcAddress& address, std::string server_name);

}  // namespace alliance::net
