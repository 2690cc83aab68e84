// alliance-reminders: turns appointment events into reminder plans, fires them on
// time as pushes to the client's sockets, and keeps what happened to each.
// Wiring only: config -> logging -> store -> Redis -> identity and scheduling
// clients -> event feed -> dispatcher -> service -> audit sender -> RPC.
#include "alliance/core/runtime.hpp"
#include "alliance/net/rpc_client.hpp"
#include "alliance/redis/client.hpp"
#include "alliance/redis/subscriber.hpp"
#include "alliance/audit/audit_sender.hpp"
#include "checkin_audit.hpp"
#include "checkin_pusher.hpp"
#include "checkin_service.hpp"
#include "dispatcher.hpp"
#include "event_feed.hpp"
#include "reminders_config.hpp"
#include "reminders_audit.hpp"
#include "reminders_rpc.hpp"

int main(int argc, char** argv) {
  using namespace alliance;
  keep_new_files_private();
  auto cfg = load_service_config("reminders", argc, argv, reminders::load_reminders_config);
  if (!cfg) return 1;

  try {
    asio::io_context io(1);
    auto store = reminders::ReminderStore::open(cfg->database);
    if (!store) throw std::runtime_error("database: " + store.error().message);
    redis::Client redis(io.get_executor(), cfg->redis);
    redis.start();
    auto stream_options = cfg->redis;
    stream_options.name = "reminders-stream";
    redis::Client stream_redis(io.get_executor(), stream_options);  // blocked in XREAD most of the time
    stream_redis.start();
    auto client_tls = net::make_rpc_client_context(cfg->tls);
    auto identity_options = net::rpc_client_options(cfg->identity, cfg->identity_name);
    identity_options.default_timeout = std::chrono::milliseconds(1000);
    net::RpcClient identity(io.get_executor(), client_tls, identity_options);
    net::RpcClient scheduling(io.get_executor(), client_tls,
                              net::rpc_client_options(cfg->scheduling, cfg->scheduling_name));
    (*store)->set_checkin_expiry(cfg->checkin_expiry);
    reminders::CheckinStore checkin_store((*store)->database());
    reminders::CheckinPusher checkin_pusher(io.get_executor(), checkin_store, redis, cfg->rescan);
    reminders::IdentityPeople identity_people(identity);
    reminders::CachingPeople people(identity_people, {.ttl = cfg->directory_cache});
    reminders::Dispatcher dispatcher(io.get_executor(), **store, people, redis,
                                     {.instance = cfg->instance, .lease = cfg->lease, .lookahead = cfg->lookahead,
                                      .rescan = cfg->rescan});
    // Other instances sharing the database say when they planned something.
    const std::string wake_channel(reminders::kWakeChannel);
    auto tell_others = [&] {
      auto publish = [](redis::Client& r, std::string channel, std::string from) -> asio::awaitable<void> {
        std::vector<std::string> args{"PUBLISH", std::move(channel), std::move(from)};
        co_await r.command(std::move(args));
      };
      asio::co_spawn(io, publish(redis, wake_channel, cfg->instance), asio::detached);
    };
    redis::Subscriber wakes(
        io.get_executor(), cfg->redis,
        [&](std::string_view, std::string_view from) {
          if (from == cfg->instance) return;
          dispatcher.wake();
          checkin_pusher.wake();
        },
        [&] {
          dispatcher.wake();
          checkin_pusher.wake();
        });
    wakes.subscribe(wake_channel);
    wakes.start();
    reminders::SchedulingEvents events(scheduling);
    reminders::EventFeed feed(io.get_executor(), **store, events, people, {.poll = cfg->event_poll}, [&] {
      dispatcher.wake();
      checkin_pusher.wake();
      tell_others();
    });
    reminders::CheckinService checkins(checkin_store, {.alert_raised = [&] { checkin_pusher.wake(); }});
    auto ack_checkin = [&checkins](const net::CallContext& ctx, std::string id) {
      return checkins.acknowledge(ctx, std::move(id));
    };
    reminders::RemindersService service(**store, people, cfg->instance,
                                        {.plans_changed =
                                             [&] {
                                               dispatcher.wake();
                                               tell_others();
                                             },
                                         .ack_other = ack_checkin});
    auto server_tls = net::make_rpc_server_context(cfg->tls);
    net::RpcServer server(io.get_executor(), server_tls,
                          {.service_name = "reminders",
                           .host = cfg->listen.host,
                           .port = cfg->listen.port,
                           .unix_path = cfg->listen_unix});
    audit::AuditSender audit_sender(io.get_executor(), identity, {});
    reminders::register_reminders_rpc(server, service, cfg->allowed_peers, reminders::reminder_auditor(audit_sender));
    reminders::register_checkin_rpc(server, checkins, cfg->allowed_peers, reminders::checkin_auditor(audit_sender));
    const auto port = server.listen();
    asio::co_spawn(io, dispatcher.run(), log_escaped("dispatcher failed"));
    asio::co_spawn(io, feed.run(), log_escaped("event feed failed"));
    asio::co_spawn(io, checkin_pusher.run(), log_escaped("check-in pusher failed"));
    asio::co_spawn(io, feed.watch_stream(stream_redis), log_escaped("event stream watch failed"));
    const StopSignals stops;
    write_ready_file(stops, cfg->ready_file, {{"rpc_port", port}});
    log::info("serving", {{"rpc_port", port}, {"instance", cfg->instance}});
    asio::steady_timer drain(io);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await stops.wait();
          log::info("stopping");
          server.stop();
          dispatcher.stop();
          feed.stop();
          checkin_pusher.stop();
          drain.expires_after(std::chrono::milliseconds(500));
          co_await drain.async_wait(use_tuple);
          co_await audit_sender.flush(std::chrono::seconds(2));  // what identity cannot take by then is lost (README)
          wakes.stop();
          stream_redis.stop();
          redis.stop();
          io.stop();
        },
        log_escaped("stop failed"));
    io.run();
  } catch (const std::exception& e) {
    log::error("reminders failed to start", {{"reason", e.what()}});
    return 1;
  }
  return 0;
}
