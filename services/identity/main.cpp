// alliance-identity: practices, users, care teams, sessions and tokens.
// Wiring only: config -> logging -> store -> Redis -> hash pool -> service -> RPC.
#include <boost/asio/thread_pool.hpp>

#include "alliance/core/runtime.hpp"
#include "alliance/redis/client.hpp"
#include "identity_config.hpp"
#include "identity_rpc.hpp"

int main(int argc, char** argv) {
  using namespace alliance;
  keep_new_files_private();
  auto cfg = load_service_config("identity", argc, argv, identity::load_identity_config);
  if (!cfg) return 1;
  try {
    asio::io_context io(1);
    auto store = identity::IdentityStore::open(cfg->database, std::move(cfg->keys));
    if (!store) throw std::runtime_error("database: " + store.error().message);
    redis::Client redis(io.get_executor(), cfg->redis);
    redis.start();
    asio::thread_pool hash_pool(2);
    identity::IdentityService service(**store, &redis, hash_pool.get_executor(), std::move(*cfg->signing_key),
                                      cfg->service);
    auto audit_key = identity::load_or_create_audit_key(cfg->audit_signing_key);
    if (!audit_key) throw std::runtime_error("audit_signing_key_file: " + audit_key.error().message);
    auto audit = identity::AuditLog::open(io.get_executor(), cfg->audit, std::move(*audit_key));
    if (!audit) throw std::runtime_error("audit_database: " + audit.error().message);
    service.set_audit_log(audit->get());
    if (const int n = (*store)->rewrapped_data_keys(); n > 0) {
      log::info("data keys re-wrapped under the new KEK", {{"count", n}, {"kek_id", (*store)->kek_id()}});
      (*audit)->record(identity::data_keys_rewrapped(n, (*store)->kek_id()));
    }
    auto tls = net::make_rpc_server_context(cfg->tls);
    net::RpcServer server(io.get_executor(), tls,
                          {.service_name = "identity",
                           .host = cfg->listen.host,
                           .port = cfg->listen.port,
                           .unix_path = cfg->listen_unix,
                           .threads = cfg->threads});
    identity::register_identity_rpc(server, service, cfg->allowed_peers);
    const auto port = server.listen();
    const StopSignals stops;
    write_ready_file(stops, cfg->ready_file, {{"rpc_port", port}});
    log::info("serving", {{"rpc_port", port}});
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await stops.wait();
          log::info("stopping");
          server.stop();            // in-flight handlers finish their writes, then io.run() returns
          co_await server.drain();  // no I/O thread hands this one more work after this
          co_await (*audit)->drain();
          co_await (*audit)->seal();  // the tail of the log is signed before it stops
          redis.stop();
        },
        [](std::exception_ptr e) {
          try {
            if (e) std::rethrow_exception(e);
          } catch (const std::exception& x) {
            log::error("stop failed", {{"reason", x.what()}});
          }
        });
    io.run();
    hash_pool.join();
  } catch (const std::exception& e) {
    log::error("identity failed to start", {{"reason", e.what()}});
    return 1;
  }
  return 0;
}
