#pragma once
// EventFeed: scheduling's appointment events, read from scheduling's durable
// outbox (ListEventsSince, as the reminders service itself) from the cursor this
// service keeps in its own database, and applied to the reminder plans in the same
// transaction that moves the cursor. Redis is only a wake-up: the stream
// "scheduling:events" (read with XREAD BLOCK on a connection of its own) makes it
// ask at once; without Redis it still asks every `poll`. Several instances may run
// it against one database: the cursor moves only from the value a batch was read
// at, so each batch is applied once. Runs on one executor.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "people_directory.hpp"
#include "reminder_store.hpp"

namespace alliance::net {
class RpcClient;
}
namespace alliance::redis {
class Client;
}

namespace alliance::reminders {

struct EventPage {
  std::vector<EventInput> events;
  std::int64_t last_seq = 0;
  std::int64_t oldest_seq = 0;
};

class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual asio::awaitable<Result<EventPage>> since(std::int64_t after_seq, int limit) = 0;
};

// scheduling's ListEventsSince over RPC.
class SchedulingEvents final : public EventSource {
 public:
  explicit SchedulingEvents(net::RpcClient& scheduling) : scheduling_(scheduling) {}
  asio::awaitable<Result<EventPage>> since(std::int64_t after_seq, int limit) override;

 private:
  net::RpcClient& scheduling_;
};

class EventFeed {
 public:
  struct Options {
    std::chrono::milliseconds poll{2000};
    int batch = 500;
    std::string stream = "scheduling:events";
  };
  // `on_applied` runs after each batch that planned or cancelled something.
  EventFeed(asio::any_io_executor ex, ReminderStore& store, EventSource& source, PeopleDirectory& people,
            Options options, std::function<void()> on_applied);

  // The loop; co_spawn it with a completion handler that logs. Returns after stop().
  asio::awaitable<void> run();
  // Watches the Redis stream and calls wake() on every new entry; returns after stop().
  asio::awaitable<void> watch_stream(redis::Client& blocking_client);
  void wake();
  void stop();

  std::uint64_t applied() const { return applied_; }
  // The seq of the last event applied by this instance or seen applied.
  std::int64_t cursor() const { return cursor_; }

 private:
  asio::awaitable<bool> step();  // true if a full batch was applied (more may wait)

  ReminderStore& store_;
  EventSource& source_;
  PeopleDirectory& people_;
  Options options_;
  std::function<void()> on_applied_;
  asio::steady_timer timer_;
  bool woken_ = true;
  bool stopping_ = false;
  bool warned_gap_ = false;
  std::uint64_t applied_ = 0;
  std::int64_t cursor_ = 0;
};

}  // namespace alliance::reminders
