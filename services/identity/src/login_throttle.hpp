#pragma once
// LoginThrottle: counts failed sign-ins per account and per source address and
// says when either is locked (exponential backoff). A login reserves its attempt
// (one Lua script, so concurrent logins cannot all read "not locked") before it
// hashes; an attempt in flight counts as a failure until its verdict is recorded.
// Counters live in Redis so every identity instance sees them; while Redis is
// unreachable it falls back to in-process counters (warning logged once per outage)
// so login keeps working. Call it from the service's executor; the fallback maps are
// mutex-guarded.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"

namespace alliance::redis {
class Client;
}

namespace alliance::identity {

class LoginThrottle {
 public:
  struct Options {
    int backoff_after = 5;  // consecutive account failures before the first lock
    std::chrono::milliseconds backoff_max = std::chrono::minutes(15);
    std::chrono::milliseconds address_window = std::chrono::minutes(15);
    std::chrono::milliseconds account_memory = std::chrono::hours(24);  // counter expiry
  };
  // `redis` may be null (in-process counters only); it must outlive the throttle.
  LoginThrottle(redis::Client* redis, Options options);

  // A cap on the password checks of one account in flight at once besides the
  // threshold (0: none). Checks in flight count as failures until their verdict, so
  // at most `backoff_after` run at once for an account; a user signing in on several
  // devices at the same moment (up to that many) is not refused.
  static constexpr int kAccountInFlight = 0;
  // An attempt whose instance died before its verdict stops counting after this.
  static constexpr std::chrono::milliseconds kReservationLifetime = std::chrono::seconds(30);

  // One login attempt between reserve() and its verdict; refused_for > 0: refused.
  struct Reservation {
    std::string account;  // hex key, see login_account_key
    std::string address;  // "" is not counted
    std::string id;
    bool in_redis = false;
    std::chrono::milliseconds refused_for{0};
    explicit operator bool() const { return refused_for.count() == 0; }
  };
  // Refused while the account or the address is locked, or while attempts in flight
  // plus failures reach its threshold.
  asio::awaitable<Reservation> reserve(std::string account, std::string address);
  // Each accepted reservation ends with exactly one of these three.
  asio::awaitable<void> record_failure(const Reservation& r);
  // Resets the account's counter (the address's window keeps counting).
  asio::awaitable<void> record_success(const Reservation& r);
  // No verdict (e.g. the store failed): the attempt stops counting.
  asio::awaitable<void> release(const Reservation& r);

  // min(2^(failures - threshold) s, backoff_max) once failures >= threshold, else 0.
  static std::chrono::milliseconds lock_duration(std::int64_t failures, std::int64_t threshold,
                                                 std::chrono::milliseconds max);

 private:
  struct Counter {
    std::int64_t failures = 0;
    std::int64_t locked_until_ms = 0;
    std::int64_t expires_ms = 0;
  };
  static std::string account_key(const std::string& account);
  static std::string address_key(const std::string& address);
  static std::string pending_key(const std::string& key);
  std::chrono::milliseconds memory_reserve(const Reservation& r, std::int64_t now);
  void memory_unreserve(const Reservation& r);
  asio::awaitable<void> redis_unreserve(const Reservation& r);
  asio::awaitable<void> count_failure(const std::string& account, const std::string& address);
  void redis_failed(const Error& error);
  void redis_ok();
  std::int64_t memory_locked_until(const std::string& key, std::int64_t now);
  void memory_failure(const std::string& key, std::int64_t threshold, std::chrono::milliseconds window,
                      bool sliding, std::int64_t now);

  redis::Client* redis_;
  Options options_;
  bool warned_ = false;
  std::mutex mutex_;
  std::unordered_map<std::string, Counter> memory_;
  std::unordered_map<std::string, int> memory_pending_;  // attempts in flight, by counter key
};

// HashSlots: at most kPerSource password checks of one source address queued on or
// running in the hash pool; more wait here in arrival order, so one source's burst
// holds few places in the pool's FIFO ahead of other practices' logins. Lives on the
// service's (single-threaded) executor.
class HashSlots {
 public:
  static constexpr int kPerSource = 2;

  // Releases its place (handing it to the next waiter of the source) when destroyed.
  class Slot {
   public:
    Slot(HashSlots* owner, std::string source) : owner_(owner), source_(std::move(source)) {}
    Slot(Slot&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)), source_(std::move(o.source_)) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (owner_) owner_->release(source_);
    }

   private:
    HashSlots* owner_;
    std::string source_;
  };

  asio::awaitable<Slot> acquire(std::string source);

 private:
  struct Source {
    int holders = 0;
    std::deque<std::shared_ptr<asio::steady_timer>> waiters;
  };
  void release(const std::string& source);

  std::unordered_map<std::string, Source> sources_;
};

}  // namespace alliance::identity
