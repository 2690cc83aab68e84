#pragma once
// EventPublisher: moves AppointmentEvents from the store's outbox to the Redis
// stream "scheduling:events" (field "event" = serialized AppointmentEvent, field
// "event_id"), oldest first, and marks them sent. Events reach the outbox in the
// transaction of their change, so an event is published only after its commit
// and is never lost: if Redis is down the loop retries with backoff while the
// service keeps serving. At-least-once (a crash between XADD and marking sent
// repeats an event): consumers dedupe by event_id. Runs on one executor (the
// service's io_context); notify() and stop() are called from that executor.
#include <chrono>
#include <cstddef>
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
  };

  // `store` and `redis` must outlive the loop (until run() has returned).
  EventPublisher(asio::any_io_executor ex, SchedulingStore& store, redis::Client& redis, Options options);

  // The loop; co_spawn it with a completion handler that logs. Returns after stop().
  asio::awaitable<void> run();
  // Something was written to the outbox: publish now rather than at the next poll.
  void notify();
  void stop();

  std::uint64_t published() const { return published_; }

 private:
  asio::awaitable<bool> publish_batch();  // true if it published a full batch (more may wait)

  SchedulingStore& store_;
  redis::Client& redis_;
  Options options_;
  asio::steady_timer wake_;
  bool pending_ = true;
  bool stopping_ = false;
  bool failing_ = false;
  std::chrono::milliseconds backoff_{0};
  std::uint64_t published_ = 0;
};

}  // namespace alliance::scheduling
