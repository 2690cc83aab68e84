// alliance-scheduling: appointment types, availability, slots, bookings, series,
// waitlist and calendar feeds.
// Wiring only: config -> logging -> store -> Redis -> identity client -> event
// publisher -> waitlist -> service and calendar -> RPC.
#include "alliance/core/runtime.hpp"
#include "alliance/net/rpc_client.hpp"
#include "alliance/redis/client.hpp"
#include "event_publisher.hpp"
#include "scheduling_audit.hpp"
#include "scheduling_config.hpp"
#include "scheduling_rpc.hpp"

int main(int argc, char** argv) {
  using namespace alliance;
  keep_new_files_private();
  auto cfg = load_service_config("scheduling", argc, argv, scheduling::load_scheduling_config);
  if (!cfg) return 1;

  try {
    asio::io_context io(1);
    auto store = scheduling::SchedulingStore::open(cfg->database, std::move(cfg->keys));
    if (!store) throw std::runtime_error("database: " + store.error().message);
    redis::Client redis(io.get_executor(), cfg->redis);
    redis.start();
    auto client_tls = net::make_rpc_client_context(cfg->tls);
    net::RpcClient identity(io.get_executor(), client_tls, net::rpc_client_options(cfg->identity, cfg->identity_name));
    scheduling::IdentityDirectory identity_directory(identity);
    scheduling::CachingUserDirectory directory(identity_directory, {});
    scheduling::EventPublisher publisher(io.get_executor(), **store, redis, {.retention = cfg->event_retention});
    scheduling::Waitlist waitlist(io.get_executor(), **store, directory, &redis,
                                  {.hold = cfg->waitlist_hold, .cancellation_window = cfg->cancellation_window},
                                  [&publisher] { publisher.notify(); });
    scheduling::CalendarFeed feed(**store, directory);
    scheduling::Calendar calendar(**store, directory, cfg->cancellation_window, {}, &redis);
    scheduling::SchedulingService service(
        **store, directory,
        {.cancellation_window = cfg->cancellation_window,
         .slot_freed = [&waitlist](scheduling::FreedSlot slot) { waitlist.slot_freed(std::move(slot)); }},
        [&publisher] { publisher.notify(); });
    auto server_tls = net::make_rpc_server_context(cfg->tls);
    net::RpcServer server(io.get_executor(), server_tls,
                          {.service_name = "scheduling",
                           .host = cfg->listen.host,
                           .port = cfg->listen.port,
                           .unix_path = cfg->listen_unix,
                           .threads = cfg->threads});
    audit::AuditSender audit_sender(io.get_executor(), identity, {});
    if (cfg->audit_off_for_benchmarks) log::warn("NOT AUDITED: audit_off_for_benchmarks is set; no audit records are sent");
    if (const int n = (*store)->rewrapped_data_keys(); n > 0) {
      log::info("data keys re-wrapped under the new KEK", {{"count", n}, {"kek_id", (*store)->kek_id()}});
      const std::string kek = (*store)->kek_id();
      if (!cfg->audit_off_for_benchmarks)
        audit_sender.record({}, {.action = "data_keys.rewrapped", .object_type = "kek", .object_id = kek});
    }
    const auto auditor =
        cfg->audit_off_for_benchmarks ? net::CallObserver{} : scheduling::scheduling_auditor(audit_sender);
    scheduling::register_scheduling_rpc(server, service, cfg->allowed_peers, auditor);
    scheduling::register_waitlist_rpc(server, waitlist, feed, cfg->allowed_peers, auditor);
    scheduling::register_calendar_rpc(server, calendar, cfg->allowed_peers, auditor);
    const auto port = server.listen();
    asio::co_spawn(io, publisher.run(), log_escaped("event publisher failed"));
    asio::co_spawn(io, waitlist.run(), log_escaped("waitlist loop failed"));
    const StopSignals stops;
    write_ready_file(stops, cfg->ready_file, {{"rpc_port", port}});
    log::info("serving", {{"rpc_port", port}});
    asio::steady_timer drain(io);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await stops.wait();
          log::info("stopping");
          server.stop();  // in-flight handlers finish their writes
          publisher.stop();
          waitlist.stop();
          co_await audit_sender.flush(std::chrono::seconds(2));  // what identity cannot take by then is lost (README)
          // Give the last handlers a moment, then stop whatever still holds work
          // (the identity client's reconnect timer, Redis).
          drain.expires_after(std::chrono::milliseconds(500));
          co_await drain.async_wait(use_tuple);
          co_await server.drain(std::chrono::seconds(2));  // no I/O thread hands this one more work
          redis.stop();
          io.stop();
        },
        log_escaped("stop failed"));
    io.run();
  } catch (const std::exception& e) {
    log::error("scheduling failed to start", {{"reason", e.what()}});
    return 1;
  }
  return 0;
}
