#pragma once
// EventPublisher: moves AppointmentEvents from the store's outbox to the Redis
// stream "scheduling:events" (field "event" = serialized AppointmentEvent, field
// "event_id"), oldest first, and marks them sent. Each is also announced as an
// "appointment.changed" push on its practice's staff channel (ids, times and status
// only), which the front desk console listens to. Events reach the outbox in the
// transaction of their change, so an event is published only after its commit
// and is never lost: if Redis is down the loop retries with backoff while the
// service keeps serving. At-least-once (a crash between XADD and marking sent
// repeats an event): consumers dedupe by event_id. The stream is only a wake-up:
// the outbox rows are the durable feed (ListEventsSince), so the same loop prunes
// them every prune_interval, deleting published rows older than the retention and
// never an unpublished one. Runs on one executor (the service's io_context);
// notify() and stop() are called from that executor.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "alliance/core/asio.hpp"
#include "scheduling_store.hpp"

namespace alliance::redis {
class Client;
}

namespace alliance::scheduling {

inline constexpr std::string_view kEventStream = "scheduling:events";

class EventPublisher {
 public:
  struct Options {
    std::string stream = std::string(kEventStream);
    std::chrono::milliseconds poll_interval{1000};  // also catches events written by another process
    std::chrono::milliseconds retry_min{100};       // after a Redis failure, doubling to retry_max
    std::chrono::milliseconds retry_max{2000};
    int batch = 256;                                 // events per pipeline
    std::size_t max_len_approx = 1000000;            // XADD MAXLEN ~
    std::chrono::milliseconds retention{std::chrono::hours(24 * 30)};  // config key event_retention
    std::chrono::milliseconds prune_interval{std::chrono::minutes(10)};
    int prune_batch = 2000;  // rows per delete transaction: a big backlog never holds the writer long
    std::function<std::int64_t()> now_ms;  // the wall clock the retention counts on; unset = the system clock
  };

  // `store` and `redis` must outlive the loop (until run() has returned).
  EventPublisher(asio::any_io_executor ex, SchedulingStore& store, redis::Client& redis, Options options);

  // The loop; co_spawn it with a completion handler that logs. Returns after stop().
  asio::awaitable<void> run();
  // Something was written to the outbox: publish now rather than at the next poll.
  void notify();
  void stop();

  std::uint64_t published() const { return published_; }
  std::uint64_t pruned() const { return pruned_; }

 private:
  asio::awaitable<bool> publish_batch();  // true if it published a full batch (more may wait)
  asio::awaitable<void> prune();

  SchedulingStore& store_;
  redis::Client& redis_;
  Options options_;
  asio::steady_timer wake_;
  bool pending_ = true;
  bool stopping_ = false;
  bool failing_ = false;
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point next_prune_{};  // the first pass of run() prunes
  std::uint64_t published_ = 0;
  std::uint64_t pruned_ = 0;
};

}  // namespace alliance::scheduling
