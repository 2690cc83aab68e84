#include "gateway_threads.hpp"

#include <boost/asio/io_context.hpp>
#include <thread>

#include "alliance/core/log.hpp"
#include "alliance/core/runtime.hpp"
#include "alliance/redis/client.hpp"
#include "alliance/redis/subscriber.hpp"

namespace alliance::gateway {

// One I/O thread's copy. Members are destroyed in reverse: the listeners before the
// gateway they call, the io_context (and the handlers still queued on it) last.
struct GatewayThreads::Shard {
  Shard(const GatewaySetup& setup, asio::ssl::context& public_tls, asio::ssl::context& rpc_tls, bool first)
      : io(1), redis(io.get_executor(), setup.redis) {
    Gateway::Upstreams upstreams;
    for (const auto& [name, options] : setup.upstreams) {
      clients.push_back(std::make_unique<net::RpcClient>(io.get_executor(), rpc_tls, options));
      upstreams.emplace(name, clients.back().get());
    }
    gateway = std::make_unique<Gateway>(io.get_executor(), setup.options, std::move(upstreams), redis);
    Gateway* gw = gateway.get();
    subscriber = std::make_unique<redis::Subscriber>(
        io.get_executor(), setup.redis,
        [gw](std::string_view channel, std::string_view payload) { gw->hub().on_message(channel, payload); },
        [gw] { gw->resync_revocations(); },
        // The hub finds each push's user and drops one that has no socket here.
        redis::Subscriber::Filter::kHandler);
    gateway->attach_subscriber(*subscriber);
    server = std::make_unique<HttpServer>(io.get_executor(), public_tls, *gateway, setup.http);
    if (first) operator_server = std::make_unique<HttpServer>(io.get_executor(), public_tls, *gateway, setup.operator_http);
  }

  // On this shard's thread.
  void stop() {
    server->stop();
    if (operator_server) operator_server->stop();
    subscriber->stop();
    redis.stop();
    io.stop();
  }

  asio::io_context io;
  std::vector<std::unique_ptr<net::RpcClient>> clients;
  redis::Client redis;
  std::unique_ptr<Gateway> gateway;
  std::unique_ptr<redis::Subscriber> subscriber;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<HttpServer> operator_server;
};

GatewayThreads::GatewayThreads(const GatewaySetup& setup, asio::ssl::context& public_tls,
                               asio::ssl::context& rpc_tls) {
  const std::size_t n = std::max<std::size_t>(1, setup.threads);
  for (std::size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>(setup, public_tls, rpc_tls, i == 0));
  std::vector<Gateway*> gateways;
  std::vector<HttpServer*> servers;
  for (auto& s : shards_) {
    gateways.push_back(s->gateway.get());
    servers.push_back(s->server.get());
  }
  if (n > 1) {
    for (auto& s : shards_) s->gateway->set_group(gateways);
    HttpServer::group(servers);
  }
}

GatewayThreads::~GatewayThreads() {
  // Listeners first, everywhere: a WebSocket handed between threads may be queued on any of them.
  for (auto& s : shards_) {
    s->operator_server.reset();
    s->server.reset();
  }
}

GatewayThreads::Ports GatewayThreads::start() {
  Ports ports;
  for (auto& s : shards_) {
    s->redis.start();
    s->subscriber->start();
    ports.https = s.get() == shards_.front().get() ? s->server->listen() : s->server->listen(ports.https);
    asio::co_spawn(s->io, s->gateway->run(), log_escaped("gateway keys"));
  }
  ports.metrics = shards_.front()->operator_server->listen();
  return ports;
}

void GatewayThreads::run(const StopSignals& stops) {
  auto& first = *shards_.front();
  auto stop_all = [this, &stops]() -> asio::awaitable<void> {
    co_await stops.wait();
    log::info("stopping");
    for (auto& s : shards_) {
      Shard* shard = s.get();
      asio::post(shard->io, [shard] { shard->stop(); });
    }
  };
  asio::co_spawn(first.io, stop_all(), log_escaped("stop signal"));
  std::vector<std::thread> others;
  for (std::size_t i = 1; i < shards_.size(); ++i) {
    Shard* shard = shards_[i].get();
    others.emplace_back([shard] { shard->io.run(); });
  }
  first.io.run();
  for (auto& t : others) t.join();
}

}  // namespace alliance::gateway
