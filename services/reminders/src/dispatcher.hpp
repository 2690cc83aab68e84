#pragma once
// Dispatcher: fires reminders at their due instant. It leases the reminders due
// within `lookahead` (ReminderStore::claim_due), keeps them in memory ordered by due
// instant, and sleeps on one timer until the earliest (to the millisecond, no
// polling). At the instant it marks them sent under its fence in one transaction
// per 500 (so a reminder cancelled or taken over meanwhile is never pushed), then
// publishes their "reminder.due" frames to each client's push channel in one
// pipelined write while the next 500 are marked sent, whose transaction also records
// these deliveries (the last batch's get their own). A reminder marked sent whose push was never recorded
// (the process died in between) is pushed again by whoever holds it next: pushes
// are at-least-once and carry the reminder id, by which clients de-duplicate.
// Besides its own timer it scans when woken (new plans, another instance's wake-up)
// and at least every `rescan`, and when another holder's lease runs out, so a
// second instance takes over a dead one's reminders within `lease` of their due
// instant. Runs on one executor.
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "alliance/core/asio.hpp"
#include "people_directory.hpp"
#include "reminder_store.hpp"

namespace alliance::redis {
class Client;
}

namespace alliance::reminders {

// Instances sharing one database PUBLISH their instance name here when they planned
// something, so the others scan at once.
inline constexpr std::string_view kWakeChannel = "reminders:wake";

class Dispatcher {
 public:
  struct Options {
    std::string instance;                       // names this process's leases
    std::chrono::milliseconds lease{1000};
    std::chrono::milliseconds lookahead{2000};
    std::chrono::milliseconds rescan{5000};
    int claim_limit = 20000;                    // reminders leased per scan
    std::chrono::milliseconds expiry_sweep{30000};  // marks reminders of started appointments expired
  };
  struct Stats {
    std::uint64_t claimed = 0, sent = 0, resent = 0, expired = 0, opted_out = 0, lost = 0;
    std::uint64_t push_failures = 0;
  };

  // `store`, `people` and `redis` must outlive the loop (until run() has returned).
  Dispatcher(asio::any_io_executor ex, ReminderStore& store, PeopleDirectory& people, redis::Client& redis,
             Options options);

  // The loop; co_spawn it with a completion handler that logs. Returns after stop().
  asio::awaitable<void> run();
  // Plans may have changed: scan now.
  void wake();
  void stop();

  const Stats& stats() const { return stats_; }
  std::size_t armed() const { return armed_.size(); }

 private:
  asio::awaitable<void> scan();
  asio::awaitable<void> fire_due();
  asio::awaitable<void> publish(std::vector<std::vector<std::string>> publishes, std::vector<std::string> pushed,
                                std::int64_t sent_at);
  // Records the pushes not recorded yet unless a batch is being (or about to be)
  // marked sent, whose transaction records them instead.
  void flush_deliveries();
  asio::awaitable<void> record(std::vector<Delivery> delivered);

  asio::any_io_executor ex_;
  ReminderStore& store_;
  PeopleDirectory& people_;
  redis::Client& redis_;
  Options options_;
  asio::steady_timer timer_;
  std::multimap<std::int64_t, Claim> armed_;  // by due instant (ms)
  std::set<std::string, std::less<>> armed_ids_;
  std::int64_t next_scan_ms_ = 0;
  std::int64_t next_expiry_ms_ = 0;
  std::vector<Delivery> published_;           // pushed, not recorded yet
  bool firing_ = false;                       // a fire transaction is under way
  bool scan_now_ = true;
  bool stopping_ = false;
  Stats stats_;
};

}  // namespace alliance::reminders
