#include "dispatcher.hpp"

#include <algorithm>
#include <limits>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/core/runtime.hpp"
#include "alliance/redis/client.hpp"
#include "alliance/redis/push.hpp"
#include "reminder_render.hpp"

namespace alliance::reminders {
namespace {

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reminders marked sent per transaction. A burst goes out in slices (run() comes back
// at once for the rest): the first pushes leave while later slices are still being
// marked sent, and the gateway forwards them meanwhile, instead of everything waiting
// for one transaction over the whole burst (10k: ~230 ms before the first push).
constexpr std::size_t kFireBatch = 500;
// How far ahead of the last lease a scan reaches while reminders keep coming due (see scan()).
constexpr std::chrono::milliseconds kLeaseSlice{100};

}  // namespace

Dispatcher::Dispatcher(asio::any_io_executor ex, ReminderStore& store, PeopleDirectory& people, redis::Client& redis,
                       Options options)
    : ex_(ex), store_(store), people_(people), redis_(redis), options_(std::move(options)), timer_(ex) {}

void Dispatcher::wake() {
  scan_now_ = true;
  timer_.cancel();
}

void Dispatcher::stop() {
  stopping_ = true;
  timer_.cancel();
}

asio::awaitable<void> Dispatcher::run() {
  while (!stopping_) {
    if (scan_now_ || now_unix_ms() >= next_scan_ms_) {
      scan_now_ = false;
      co_await scan();
    }
    co_await fire_due();
    if (stopping_ || scan_now_) continue;
    // Sleep until the earliest armed reminder or the next scan, to the microsecond.
    std::int64_t until_ms = next_scan_ms_;
    if (!armed_.empty()) until_ms = std::min(until_ms, armed_.begin()->first);
    const auto wait_us = until_ms * 1000 - now_us();
    if (wait_us <= 0) continue;
    timer_.expires_after(std::chrono::microseconds(wait_us));
    co_await timer_.async_wait(use_tuple);
  }
}

asio::awaitable<void> Dispatcher::scan() {
  const auto now = now_unix_ms();
  if (now >= next_expiry_ms_) {
    next_expiry_ms_ = now + options_.expiry_sweep.count();
    auto expired = co_await store_.expire_started(now);
    if (!expired) log::warn("cannot expire reminders of started appointments", {{"reason", expired.error().message}});
  }
  auto claims = co_await store_.claim_due(options_.instance, now, now + options_.lookahead.count(),
                                          options_.lease.count(), options_.claim_limit);
  if (!claims) {
    log::warn("cannot lease due reminders", {{"reason", claims.error().message}});
    next_scan_ms_ = now + 200;
    co_return;
  }
  std::vector<std::string> people;
  for (auto& c : *claims) {
    if (!armed_ids_.insert(c.reminder.id).second) continue;
    people.push_back(c.reminder.client_id);
    people.push_back(c.reminder.therapist_id);
    const auto due = c.resend ? now : c.reminder.due_ms;
    armed_.emplace(due, std::move(c));
    ++stats_.claimed;
  }
  if (static_cast<int>(claims->size()) >= options_.claim_limit) scan_now_ = true;
  // Ask identity now, so the names are at hand when the reminders fire.
  if (!people.empty()) {
    auto prefetch = [](PeopleDirectory& d, std::vector<std::string> ids) -> asio::awaitable<void> {
      co_await d.lookup(std::move(ids));
    };
    asio::co_spawn(ex_, prefetch(people_, std::move(people)), log_escaped("directory prefetch failed"));
  }
  // Wake when the next planned reminder is (lookahead - kLeaseSlice) away, not the whole
  // lookahead: while reminders come due back to back (one every few ms), waking as each
  // one enters the window meant a scan per reminder, each walking every lease already
  // taken in the window (bench/reminders.sh: ~1.5 ms of CPU per reminder at 500/s). A
  // scan now leases about kLeaseSlice's worth, small enough that its transaction does not
  // hold up a firing queued behind it on the writer (a second's worth held it ~14 ms).
  const auto wake_ahead = options_.lookahead - std::min(options_.lookahead / 2, kLeaseSlice);
  auto next = co_await store_.next_wake(options_.instance, now_unix_ms(), wake_ahead.count());
  next_scan_ms_ = now_unix_ms() + options_.rescan.count();
  if (next && *next) next_scan_ms_ = std::min(next_scan_ms_, **next);
}

asio::awaitable<void> Dispatcher::fire_due() {
  const auto now = now_unix_ms();
  std::vector<Claim> claims;
  while (!armed_.empty() && armed_.begin()->first <= now && claims.size() < kFireBatch) {
    auto node = armed_.extract(armed_.begin());
    armed_ids_.erase(node.mapped().reminder.id);
    claims.push_back(std::move(node.mapped()));
  }
  if (claims.empty()) co_return;
  // Pushes of earlier batches are recorded in this batch's transaction once they are
  // a third of a lease old: while a burst goes out the writer keeps to marking
  // reminders sent, and a push is still recorded well before the reminder's lease runs
  // out (after which it would count as never pushed and go out again).
  std::vector<Delivery> delivered;
  if (!published_.empty() && published_.front().at_ms <= now - options_.lease.count() / 3)
    delivered = std::exchange(published_, {});
  firing_ = true;
  auto fired = co_await store_.fire(options_.instance, claims, now_unix_ms(), options_.lease.count(), delivered);
  firing_ = false;
  if (!fired) {
    // Still leased to us under the same fence (unless the lease runs out first, and
    // then the fence says so): try again shortly.
    log::warn("cannot mark reminders sent; retrying", {{"reason", fired.error().message}});
    published_.insert(published_.end(), std::make_move_iterator(delivered.begin()),
                      std::make_move_iterator(delivered.end()));
    const auto retry_at = now_unix_ms() + 100;
    for (auto& c : claims) {
      if (!armed_ids_.insert(c.reminder.id).second) continue;
      armed_.emplace(retry_at, std::move(c));
    }
    co_return;
  }
  std::vector<std::string> ids;
  for (const auto& f : *fired) {
    switch (f.outcome) {
      case Fired::Outcome::kSent: ++stats_.sent; break;
      case Fired::Outcome::kResend: ++stats_.resent; break;
      case Fired::Outcome::kExpired: ++stats_.expired; continue;
      case Fired::Outcome::kOptedOut: ++stats_.opted_out; continue;
      case Fired::Outcome::kLost: ++stats_.lost; continue;
    }
    ids.push_back(f.appointment.client_id);
    ids.push_back(f.appointment.therapist_id);
  }
  if (ids.empty()) {
    flush_deliveries();
    co_return;
  }
  auto people = co_await people_.lookup(ids);
  const People none;
  const auto sent_at = now_unix_ms();
  std::vector<std::vector<std::string>> publishes;
  std::vector<std::string> pushed;
  for (std::size_t i = 0; i < fired->size() && i < claims.size(); ++i) {
    const auto& f = (*fired)[i];
    if (f.outcome != Fired::Outcome::kSent && f.outcome != Fired::Outcome::kResend) continue;
    auto rendered = render_due(claims[i].reminder, f.appointment, f.show_therapist_name, people ? *people : none, sent_at);
    publishes.push_back({"PUBLISH", redis::push_channel(f.appointment.client_id),
                         due_frame(rendered, sent_at).SerializeAsString()});
    pushed.push_back(f.reminder_id);
  }
  // Not awaited: the next batch is marked sent while this one is on its way (the
  // Redis connection keeps the pipelines in order).
  asio::co_spawn(ex_, publish(std::move(publishes), std::move(pushed), sent_at), log_escaped("publishing reminders failed"));
}

asio::awaitable<void> Dispatcher::publish(std::vector<std::vector<std::string>> publishes,
                                          std::vector<std::string> pushed, std::int64_t sent_at) {
  auto replies = co_await redis_.pipeline(std::move(publishes));
  if (!replies) {
    // They stay sent-but-not-pushed and are pushed again once the lease runs out.
    stats_.push_failures += pushed.size();
    log::warn("cannot publish reminders; will retry", {{"count", static_cast<std::int64_t>(pushed.size())},
                                                       {"reason", replies.error().message}});
    co_return;
  }
  for (auto& id : pushed) published_.push_back(Delivery{std::move(id), sent_at});
  flush_deliveries();
}

void Dispatcher::flush_deliveries() {
  // While a burst goes out, the next batch's transaction records these.
  if (firing_ || published_.empty()) return;
  if (!armed_.empty() && armed_.begin()->first <= now_unix_ms()) return;
  asio::co_spawn(ex_, record(std::exchange(published_, {})), log_escaped("recording deliveries failed"));
}

asio::awaitable<void> Dispatcher::record(std::vector<Delivery> delivered) {
  auto done = co_await store_.record_deliveries(std::move(delivered), "live", options_.instance);
  if (!done) log::warn("cannot record reminder deliveries", {{"reason", done.error().message}});
}

}  // namespace alliance::reminders
