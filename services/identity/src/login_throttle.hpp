#pragma once
// LoginThrottle: counts failed sign-ins per account and per source address and
// says when either is locked (exponential backoff). Counters live in Redis so every
// identity instance sees them; while Redis is unreachable it falls back to
// in-process counters (warning logged once per outage) so login keeps working.
// Call it from the service's executor; the fallback map is mutex-guarded.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

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

  // How long the account (hex key, see login_account_key) or the address is still
  // locked; zero if neither is. An empty address is not counted.
  asio::awaitable<std::chrono::milliseconds> locked_for(std::string account, std::string address);
  asio::awaitable<void> record_failure(std::string account, std::string address);
  // Resets the account's counter (the address's window keeps counting).
  asio::awaitable<void> record_success(std::string account);

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
};

}  // namespace alliance::identity
