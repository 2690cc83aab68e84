#include "login_throttle.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/redis/client.hpp"

namespace alliance::identity {
namespace {

using std::chrono::milliseconds;

std::int64_t reply_int(const redis::Reply& r, std::int64_t fallback = 0) {
  if (r.type == redis::Reply::Type::kInteger) return r.integer;
  if (r.type == redis::Reply::Type::kString || r.type == redis::Reply::Type::kStatus) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(r.str.data(), r.str.data() + r.str.size(), v);
    if (ec == std::errc() && p == r.str.data() + r.str.size()) return v;
  }
  return fallback;
}

}  // namespace

LoginThrottle::LoginThrottle(redis::Client* redis, Options options) : redis_(redis), options_(options) {}

milliseconds LoginThrottle::lock_duration(std::int64_t failures, std::int64_t threshold, milliseconds max) {
  if (threshold <= 0 || failures < threshold) return milliseconds(0);
  const std::int64_t exponent = std::min<std::int64_t>(failures - threshold, 30);
  return std::min(milliseconds((std::int64_t{1} << exponent) * 1000), max);
}

std::string LoginThrottle::account_key(const std::string& account) {
  return "identity:loginfail:acct:" + account;
}
std::string LoginThrottle::address_key(const std::string& address) {
  return "identity:loginfail:addr:" + address;
}

void LoginThrottle::redis_failed(const Error& error) {
  std::lock_guard lock(mutex_);
  if (warned_) return;
  warned_ = true;
  log::warn("login throttle: redis unavailable, counting failed logins in process",
            {{"reason", error.message}});
}

void LoginThrottle::redis_ok() {
  std::lock_guard lock(mutex_);
  if (warned_) log::info("login throttle: redis available again");
  warned_ = false;
}

std::int64_t LoginThrottle::memory_locked_until(const std::string& key, std::int64_t now) {
  std::lock_guard lock(mutex_);
  auto it = memory_.find(key);
  if (it == memory_.end()) return 0;
  if (it->second.expires_ms <= now) {
    memory_.erase(it);
    return 0;
  }
  return it->second.locked_until_ms;
}

void LoginThrottle::memory_failure(const std::string& key, std::int64_t threshold, milliseconds window,
                                   bool sliding, std::int64_t now) {
  std::lock_guard lock(mutex_);
  if (memory_.size() > 100000) {
    // Bounded: drop what has expired (an attacker spraying addresses cannot grow it forever).
    std::erase_if(memory_, [now](const auto& kv) { return kv.second.expires_ms <= now; });
    if (memory_.size() > 100000) memory_.clear();
  }
  auto& c = memory_[key];
  if (c.expires_ms <= now) c = Counter{0, 0, now + window.count()};
  ++c.failures;
  if (sliding) c.expires_ms = now + window.count();
  auto lock_for = lock_duration(c.failures, threshold, options_.backoff_max);
  if (lock_for.count() > 0) {
    c.locked_until_ms = now + lock_for.count();
    c.expires_ms = std::max(c.expires_ms, c.locked_until_ms);
  }
}

asio::awaitable<milliseconds> LoginThrottle::locked_for(std::string account, std::string address) {
  const auto now = now_unix_ms();
  const auto akey = account_key(account);
  const auto dkey = address_key(address);
  std::int64_t until = 0;
  bool from_redis = false;
  if (redis_) {
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back({"HGET", akey, "until"});
    if (!address.empty()) cmds.push_back({"HGET", dkey, "until"});
    auto replies = co_await redis_->pipeline(std::move(cmds));
    if (replies) {
      redis_ok();
      from_redis = true;
      for (auto& r : *replies) until = std::max(until, reply_int(r));
    } else {
      redis_failed(replies.error());
    }
  }
  if (!from_redis) {
    until = memory_locked_until(akey, now);
    if (!address.empty()) until = std::max(until, memory_locked_until(dkey, now));
  }
  co_return milliseconds(std::max<std::int64_t>(0, until - now));
}

asio::awaitable<void> LoginThrottle::record_failure(std::string account, std::string address) {
  const auto now = now_unix_ms();
  const auto akey = account_key(account);
  const auto dkey = address_key(address);
  const std::int64_t account_threshold = options_.backoff_after;
  const std::int64_t address_threshold = 4 * std::int64_t{options_.backoff_after};
  if (redis_) {
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back({"HINCRBY", akey, "n", "1"});
    cmds.push_back({"PEXPIRE", akey, std::to_string(options_.account_memory.count())});
    if (!address.empty()) {
      cmds.push_back({"HINCRBY", dkey, "n", "1"});
      cmds.push_back({"PTTL", dkey});
    }
    auto replies = co_await redis_->pipeline(std::move(cmds));
    if (replies && replies->size() == (address.empty() ? 2u : 4u)) {
      redis_ok();
      std::vector<std::vector<std::string>> follow;
      auto acct_lock = lock_duration(reply_int((*replies)[0]), account_threshold, options_.backoff_max);
      if (acct_lock.count() > 0) {
        follow.push_back({"HSET", akey, "until", std::to_string(now + acct_lock.count())});
        follow.push_back(
            {"PEXPIRE", akey, std::to_string(std::max(acct_lock, options_.account_memory).count())});
      }
      if (!address.empty()) {
        std::int64_t ttl = reply_int((*replies)[3], -1);
        if (ttl < 0) {  // a new window starts with this failure
          ttl = options_.address_window.count();
          follow.push_back({"PEXPIRE", dkey, std::to_string(ttl)});
        }
        auto addr_lock = lock_duration(reply_int((*replies)[2]), address_threshold, options_.backoff_max);
        if (addr_lock.count() > 0) {
          follow.push_back({"HSET", dkey, "until", std::to_string(now + addr_lock.count())});
          follow.push_back({"PEXPIRE", dkey, std::to_string(std::max(ttl, addr_lock.count()))});
        }
      }
      if (follow.empty()) co_return;
      auto done = co_await redis_->pipeline(std::move(follow));
      if (done) co_return;
      redis_failed(done.error());
    } else {
      redis_failed(replies ? make_error(Code::kInternal, "unexpected pipeline reply") : replies.error());
    }
  }
  memory_failure(akey, account_threshold, options_.account_memory, true, now);
  if (!address.empty()) memory_failure(dkey, address_threshold, options_.address_window, false, now);
}

asio::awaitable<void> LoginThrottle::record_success(std::string account) {
  const auto akey = account_key(account);
  {
    std::lock_guard lock(mutex_);
    memory_.erase(akey);
  }
  if (!redis_) co_return;
  std::vector<std::string> cmd{"DEL", akey};
  auto r = co_await redis_->command(std::move(cmd));
  if (!r) redis_failed(r.error());
}

}  // namespace alliance::identity
