// alliance-gateway: the only public listener (HTTPS + WSS). Wiring only.
#include <openssl/ssl.h>

#include <iostream>

#include "alliance/core/config.hpp"
#include "alliance/core/log.hpp"
#include "alliance/core/runtime.hpp"
#include "alliance/net/tls.hpp"
#include "src/gateway_threads.hpp"

using namespace alliance;

int main(int argc, char** argv) try {
  keep_new_files_private();
  auto config = Config::load("gateway", argc, argv);
  log::init("gateway", config.log_level());
  auto listen = config.host_port("listen", "127.0.0.1:8443");
  auto metrics_listen = config.host_port("metrics_listen", "127.0.0.1:9443");
  auto identity_at = config.rpc_address("identity", "127.0.0.1:7101");
  auto scheduling_at = config.rpc_address("scheduling", "127.0.0.1:7103");
  auto messaging_at = config.rpc_address("messaging", "127.0.0.1:7102");
  auto reminders_at = config.rpc_address("reminders", "127.0.0.1:7104");
  gateway::GatewaySetup setup;
  // One I/O thread per usable core: on a small box shared with the services an idle
  // thread costs nothing, and a busy gateway (TLS, JSON) gets every core it can use.
  setup.threads = io_threads(config);
  setup.redis = redis::load_options(config, "gateway");
  net::TlsFiles rpc_files{config.file("rpc_ca"), config.file("rpc_cert"), config.file("rpc_key")};
  auto public_cert = config.file("tls_cert");
  auto public_key = config.file("tls_key");
  auto& options = setup.options;
  options.token_issuer = config.string("token_issuer", "alliance");
  options.token_audience = config.string("token_audience", "alliance-api");
  options.rpc_timeout = config.duration("rpc_timeout", std::chrono::seconds(5));
  net::CircuitBreaker::Options breaker;
  breaker.failure_threshold = static_cast<int>(config.integer("rpc_breaker_failures", 3, 1, 1000));
  breaker.cool_down = config.duration("rpc_breaker_cool_down", std::chrono::seconds(1));
  options.ws_limits.per_session = config.integer("ws_max_per_session", 5, 1, 1'000'000);
  options.ws_limits.per_user = config.integer("ws_max_per_user", 20, 1, 1'000'000);
  auto& http = setup.http;
  http.host = listen.host;
  http.port = listen.port;
  http.body_limit = config.integer("body_limit", 256 * 1024, 1024, 16 << 20);  // a 64 KiB message in base64 plus its keys
  http.header_limit = config.integer("header_limit", 8 * 1024, 1024, 1 << 20);
  http.read_timeout = config.duration("read_timeout", std::chrono::seconds(10));
  http.keepalive_timeout = config.duration("keepalive_timeout", std::chrono::seconds(30));
  http.ws_idle_timeout = config.duration("ws_idle_timeout", std::chrono::seconds(60));
  http.ws_ping_interval = config.duration("ws_ping_interval", std::chrono::seconds(20));
  auto& operator_http = setup.operator_http;
  operator_http = http;
  operator_http.host = metrics_listen.host;
  operator_http.port = metrics_listen.port;
  operator_http.operator_endpoints = true;
  operator_http.max_connections = 64;
  auto ready_file = config.output_path("ready_file", "");
  if (auto console_dir = config.string("console_dir", ""); !console_dir.empty()) {
    auto console = gateway::StaticFiles::load(console_dir);
    if (!console) throw ConfigError("console_dir", console.error().message);
    options.console = std::make_shared<const gateway::StaticFiles>(std::move(*console));
  }
  auto upstream = [&](std::string service, const RpcAddress& at) {
    auto o = net::rpc_client_options(at, config.string(service + "_name", service));
    o.breaker = breaker;
    setup.upstreams.emplace_back(std::move(service), std::move(o));
  };
  upstream("identity", identity_at);
  upstream("scheduling", scheduling_at);
  upstream("messaging", messaging_at);
  upstream("reminders", reminders_at);
  config.reject_unknown();

  auto public_tls = net::make_public_server_context(public_cert, public_key);
  SSL_CTX_set_mode(public_tls.native_handle(), SSL_MODE_RELEASE_BUFFERS);  // idle sockets hold no TLS buffers
  auto rpc_tls = net::make_rpc_client_context(rpc_files);
  gateway::GatewayThreads gateway(setup, public_tls, rpc_tls);
  auto ports = gateway.start();
  log::info("listening", {{"url", "https://" + listen.host + ":" + std::to_string(ports.https)},
                          {"metrics", "https://" + metrics_listen.host + ":" + std::to_string(ports.metrics) + "/metrics"},
                          {"threads", std::to_string(setup.threads)}});
  const StopSignals stops;
  write_ready_file(stops, ready_file, {{"https_port", ports.https}, {"metrics_port", ports.metrics}});
  gateway.run(stops);
  return 0;
} catch (const alliance::ConfigError& e) {
  alliance::log::init("gateway");
  alliance::log::error("bad configuration", {{"key", e.key()}, {"error", e.what()}});
  std::cerr << e.what() << "\n";
  return 1;
} catch (const std::exception& e) {
  alliance::log::error("start-up failed", {{"error", e.what()}});
  return 1;
}
