#pragma once
// The gateway on several I/O threads, each a shared-nothing copy: its own io_context,
// RPC connections to the services, Redis connections (pub/sub included), token cache,
// push hub and a listener on the shared public port (SO_REUSEPORT, see
// HttpServer::group). What crosses threads: an upgraded WebSocket moving to the thread
// that owns its user, and the operator's /metrics and /readyz, which ask every thread.
// The first thread also serves the operator listener and waits for the stop signal.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "alliance/core/runtime.hpp"
#include "alliance/net/rpc_client.hpp"
#include "alliance/redis/types.hpp"
#include "gateway.hpp"
#include "http_server.hpp"

namespace alliance::gateway {

// What every thread's copy is built from (main reads it from the config once).
struct GatewaySetup {
  std::size_t threads = 1;
  GatewayOptions options;
  HttpServerOptions http;           // the public listener
  HttpServerOptions operator_http;  // metrics_listen, on the first thread
  std::vector<std::pair<std::string, net::RpcClient::Options>> upstreams;  // by service name ("identity", ...)
  redis::Options redis;
};

class GatewayThreads {
 public:
  // The TLS contexts are shared by the threads (OpenSSL's are thread-safe) and must outlive this.
  GatewayThreads(const GatewaySetup& setup, asio::ssl::context& public_tls, asio::ssl::context& rpc_tls);
  ~GatewayThreads();
  GatewayThreads(const GatewayThreads&) = delete;
  GatewayThreads& operator=(const GatewayThreads&) = delete;

  struct Ports {
    std::uint16_t https = 0;
    std::uint16_t metrics = 0;
  };
  // Starts Redis, binds the listeners and queues every thread's work; nothing runs until run().
  Ports start();
  // Runs the threads (the calling one is the first) until `stops` sees SIGINT or SIGTERM,
  // then stops accepting, closes the sockets and returns once every thread has ended.
  void run(const StopSignals& stops);

 private:
  struct Shard;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace alliance::gateway
