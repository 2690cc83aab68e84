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

std::string LoginThrottle::pending_key(const std::string& key) { return key + ":inflight"; }

namespace {

// KEYS: account counter, its in-flight set, address counter, its in-flight set (the
// address pair only when ARGV[7] = 1). ARGV: now ms, attempt id, its deadline ms,
// account threshold, address threshold, account in-flight cap, address given.
// Returns 0 (reserved) or how long to wait in ms. One script, so no other login
// reads the counters between this one's check and its reservation.
constexpr char kReserveScript[] = R"lua(
local now = tonumber(ARGV[1])
local function wait(h, z, threshold, cap)
  redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
  local p = redis.call('ZCARD', z)
  local n = tonumber(redis.call('HGET', h, 'n') or '0')
  local u = tonumber(redis.call('HGET', h, 'until') or '0')
  if u > now then return u - now end
  if (cap > 0 and p >= cap) or (p > 0 and n + p >= threshold) then return 1000 end
  return 0
end
local w = wait(KEYS[1], KEYS[2], tonumber(ARGV[4]), tonumber(ARGV[6]))
if w == 0 and ARGV[7] == '1' then w = wait(KEYS[3], KEYS[4], tonumber(ARGV[5]), 0) end
if w > 0 then return w end
local ttl = tonumber(ARGV[3]) - now + 1000
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ttl)
if ARGV[7] == '1' then
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
  redis.call('PEXPIRE', KEYS[4], ttl)
end
return 0
)lua";

// A refusal because attempts are in flight: their verdicts come within about this.
constexpr milliseconds kInFlightWait{1000};

}  // namespace

milliseconds LoginThrottle::memory_reserve(const Reservation& r, std::int64_t now) {
  std::lock_guard lock(mutex_);
  auto wait = [&](const std::string& key, std::int64_t threshold, int cap) {
    std::int64_t failures = 0;
    if (auto it = memory_.find(key); it != memory_.end() && it->second.expires_ms > now) {
      if (it->second.locked_until_ms > now) return milliseconds(it->second.locked_until_ms - now);
      failures = it->second.failures;
    }
    const int pending = memory_pending_.count(key) ? memory_pending_[key] : 0;
    if ((cap > 0 && pending >= cap) || (pending > 0 && failures + pending >= threshold)) return kInFlightWait;
    return milliseconds(0);
  };
  const auto akey = account_key(r.account);
  const auto dkey = address_key(r.address);
  auto w = wait(akey, options_.backoff_after, kAccountInFlight);
  if (w.count() == 0 && !r.address.empty()) w = wait(dkey, 4 * std::int64_t{options_.backoff_after}, 0);
  if (w.count() > 0) return w;
  ++memory_pending_[akey];
  if (!r.address.empty()) ++memory_pending_[dkey];
  return milliseconds(0);
}

void LoginThrottle::memory_unreserve(const Reservation& r) {
  if (r.in_redis) return;
  std::lock_guard lock(mutex_);
  for (const auto& key : {account_key(r.account), address_key(r.address)}) {
    auto it = memory_pending_.find(key);
    if (it != memory_pending_.end() && --it->second <= 0) memory_pending_.erase(it);
  }
}

asio::awaitable<void> LoginThrottle::redis_unreserve(const Reservation& r) {
  if (!redis_ || !r.in_redis) co_return;
  std::vector<std::vector<std::string>> cmds;
  cmds.push_back({"ZREM", pending_key(account_key(r.account)), r.id});
  if (!r.address.empty()) cmds.push_back({"ZREM", pending_key(address_key(r.address)), r.id});
  auto done = co_await redis_->pipeline(std::move(cmds));
  // Not removed: it stops counting at its deadline (kReservationLifetime).
  if (!done) redis_failed(done.error());
}

asio::awaitable<LoginThrottle::Reservation> LoginThrottle::reserve(std::string account, std::string address) {
  const auto now = now_unix_ms();
  Reservation r{std::move(account), std::move(address), new_id()};
  if (redis_) {
    const auto akey = account_key(r.account);
    const auto dkey = address_key(r.address);
    std::vector<std::string> cmd{"EVAL",
                                 kReserveScript,
                                 "4",
                                 akey,
                                 pending_key(akey),
                                 dkey,
                                 pending_key(dkey),
                                 std::to_string(now),
                                 r.id,
                                 std::to_string(now + kReservationLifetime.count()),
                                 std::to_string(options_.backoff_after),
                                 std::to_string(4 * std::int64_t{options_.backoff_after}),
                                 std::to_string(kAccountInFlight),
                                 r.address.empty() ? "0" : "1"};
    auto reply = co_await redis_->command(std::move(cmd));
    if (reply && reply->type == redis::Reply::Type::kInteger) {
      redis_ok();
      r.in_redis = true;
      r.refused_for = milliseconds(std::max<std::int64_t>(0, reply->integer));
      co_return r;
    }
    redis_failed(!reply ? reply.error() : make_error(Code::kInternal, "unexpected script reply: " + reply->str));
  }
  r.refused_for = memory_reserve(r, now);
  co_return r;
}

asio::awaitable<void> LoginThrottle::release(const Reservation& r) {
  memory_unreserve(r);
  co_await redis_unreserve(r);
}

asio::awaitable<void> LoginThrottle::record_failure(const Reservation& r) {
  const std::string& account = r.account;
  const std::string& address = r.address;
  // Counted before the reservation goes, so the attempt never stops counting between.
  co_await count_failure(account, address);
  co_await release(r);
}

asio::awaitable<void> LoginThrottle::count_failure(const std::string& account, const std::string& address) {
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

asio::awaitable<void> LoginThrottle::record_success(const Reservation& r) {
  co_await release(r);
  const auto akey = account_key(r.account);
  {
    std::lock_guard lock(mutex_);
    memory_.erase(akey);
  }
  if (!redis_) co_return;
  std::vector<std::string> cmd{"DEL", akey};
  auto deleted = co_await redis_->command(std::move(cmd));
  if (!deleted) redis_failed(deleted.error());
}

asio::awaitable<HashSlots::Slot> HashSlots::acquire(std::string source) {
  auto& s = sources_[source];
  if (s.holders < kPerSource) {
    ++s.holders;
    co_return Slot(this, std::move(source));
  }
  auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor,
                                                    asio::steady_timer::time_point::max());
  s.waiters.push_back(timer);
  // Woken by cancel() from release(), which hands this waiter its place.
  auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;
  co_return Slot(this, std::move(source));
}

void HashSlots::release(const std::string& source) {
  auto it = sources_.find(source);
  if (it == sources_.end()) return;
  auto& s = it->second;
  if (!s.waiters.empty()) {
    s.waiters.front()->cancel();
    s.waiters.pop_front();
    return;
  }
  if (--s.holders <= 0) sources_.erase(it);
}

}  // namespace alliance::identity
