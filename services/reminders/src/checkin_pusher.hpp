#pragma once
// CheckinPusher: publishes the "checkin.due" push of each new check-in to its client and
// the "checkin.alert" push of each new alert to its therapist (never anyone else), then
// records them as pushed; and marks check-ins past their expiry as expired. Woken when
// events made check-ins or an answer raised an alert, and scans at least every
// `rescan`, so a push lost to a crash between commit and publish goes out at the next
// scan (at-least-once; frames carry the check-in or alert id, by which clients
// de-duplicate). Pub/sub is only the live path: a client that was offline gets its
// open check-ins when its next socket opens. Runs on one executor.
#include <chrono>

#include <boost/asio/steady_timer.hpp>

#include "alliance/core/asio.hpp"
#include "checkin_store.hpp"

namespace alliance::redis {
class Client;
}

namespace alliance::reminders {

class CheckinPusher {
 public:
  // `store` and `redis` must outlive the loop (until run() has returned).
  CheckinPusher(asio::any_io_executor ex, CheckinStore& store, redis::Client& redis,
                std::chrono::milliseconds rescan);

  // The loop; co_spawn it with a completion handler that logs. Returns after stop().
  asio::awaitable<void> run();
  void wake();
  void stop();

 private:
  asio::awaitable<void> scan();

  CheckinStore& store_;
  redis::Client& redis_;
  std::chrono::milliseconds rescan_;
  asio::steady_timer timer_;
  bool woken_ = true;
  bool stopping_ = false;
};

}  // namespace alliance::reminders
