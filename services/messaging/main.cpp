// alliance-messaging: conversations, end-to-end encrypted messages (ciphertext
// only), receipts, typing, messaging hours and notices, retention and erasure.
// Wiring only: config -> logging -> store -> Redis -> identity client -> service (+ audit sender)
// -> RPC, plus the retention sweep.
#include "alliance/core/runtime.hpp"
#include "alliance/net/rpc_client.hpp"
#include "alliance/redis/client.hpp"
#include "alliance/redis/subscriber.hpp"
#include "messaging_config.hpp"
#include "messaging_rpc.hpp"

int main(int argc, char** argv) {
  using namespace alliance;
  keep_new_files_private();
  auto cfg = load_service_config("messaging", argc, argv, messaging::load_messaging_config);
  if (!cfg) return 1;
  try {
    asio::io_context io(1);
    auto store = messaging::MessagingStore::open(cfg->database);
    if (!store) throw std::runtime_error("database: " + store.error().message);
    redis::Client redis(io.get_executor(), cfg->redis);
    redis.start();
    auto client_tls = net::make_rpc_client_context(cfg->tls);
    net::RpcClient identity(io.get_executor(), client_tls, net::rpc_client_options(cfg->identity, cfg->identity_name));
    messaging::IdentityMessagingDirectory identity_directory(identity);
    messaging::CachingDirectory cache(identity_directory, {.ttl = cfg->directory_cache});
    messaging::MessagingDirectory& directory =
        cfg->directory_cache.count() > 0 ? static_cast<messaging::MessagingDirectory&>(cache) : identity_directory;
    // Device and session changes announced by identity empty the cache.
    redis::Subscriber announcements(
        io.get_executor(), cfg->redis,
        [&cache](std::string_view, std::string_view) { cache.invalidate_all(); }, [&cache] { cache.invalidate_all(); });
    announcements.subscribe(std::string(messaging::kDeviceChannel));
    announcements.subscribe("identity:revocations");
    announcements.start();
    messaging::MessagingService service(io.get_executor(), **store, directory, &redis,
                                        {.send_rate_per_minute = cfg->send_rate_per_minute});
    audit::AuditSender audit_sender(io.get_executor(), identity, {});
    if (cfg->audit_off_for_benchmarks) {
      log::warn("NOT AUDITED: audit_off_for_benchmarks is set; no audit records are sent");
    } else {
      service.set_audit(&audit_sender);
    }
    auto server_tls = net::make_rpc_server_context(cfg->tls);
    net::RpcServer server(io.get_executor(), server_tls,
                          {.service_name = "messaging",
                           .host = cfg->listen.host,
                           .port = cfg->listen.port,
                           .unix_path = cfg->listen_unix});
    messaging::register_messaging_rpc(server, service, cfg->allowed_peers);
    const auto port = server.listen();

    asio::steady_timer sweep_timer(io);
    auto sweep_loop = [&]() -> asio::awaitable<void> {
      for (;;) {
        auto swept = co_await service.sweep_retention();
        if (!swept) log::warn("retention sweep failed", {{"reason", swept.error().message}});
        sweep_timer.expires_after(cfg->retention_sweep);
        auto [ec] = co_await sweep_timer.async_wait(use_tuple);
        if (ec) co_return;
      }
    };
    asio::co_spawn(io, sweep_loop, [](std::exception_ptr e) {
      if (e) log::error("retention sweep stopped");
    });
    const StopSignals stops;
    write_ready_file(stops, cfg->ready_file, {{"rpc_port", port}});
    log::info("serving", {{"rpc_port", port}});
    asio::steady_timer drain(io);
    auto stopper = [&]() -> asio::awaitable<void> {
      co_await stops.wait();
      log::info("stopping");
      server.stop();  // in-flight handlers finish their writes
      sweep_timer.cancel();
      co_await audit_sender.flush(std::chrono::seconds(2));  // what identity cannot take by then is lost (README)
      drain.expires_after(std::chrono::milliseconds(500));
      co_await drain.async_wait(use_tuple);
      announcements.stop();
      redis.stop();
      io.stop();
    };
    asio::co_spawn(io, stopper, [](std::exception_ptr e) {
      if (e) log::error("stop failed");
    });
    io.run();
  } catch (const std::exception& e) {
    log::error("messaging failed to start", {{"reason", e.what()}});
    return 1;
  }
  return 0;
}
