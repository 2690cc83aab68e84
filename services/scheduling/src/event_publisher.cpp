#include "event_publisher.hpp"

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/push/v1/push.pb.h"
#include "alliance/redis/client.hpp"
#include "alliance/redis/push.hpp"
#include "alliance/scheduling/v1/scheduling.pb.h"

namespace alliance::scheduling {
namespace {

// The PUBLISH of an event to its practice's staff channel: which appointment changed
// and how, enough for a front desk's screen to refresh (no client, reason or notes).
// Empty if the event does not parse.
std::vector<std::string> staff_push(const std::string& event_bytes, std::int64_t now_ms) {
  v1::AppointmentEvent event;
  if (!event.ParseFromString(event_bytes) || event.appointment().practice_id().empty()) return {};
  const auto& full = event.appointment();
  v1::AppointmentEvent brief;
  brief.set_event_id(event.event_id());
  brief.set_type(event.type());
  brief.set_version(event.version());
  brief.set_occurred_unix_ms(event.occurred_unix_ms());
  brief.set_previous_start_time(event.previous_start_time());
  auto* a = brief.mutable_appointment();
  a->set_id(full.id());
  a->set_practice_id(full.practice_id());
  a->set_therapist_id(full.therapist_id());
  a->set_start_time(full.start_time());
  a->set_end_time(full.end_time());
  a->set_status(full.status());
  a->set_version(full.version());
  const auto frame = redis::push_frame(event.event_id(), "appointment.changed", now_ms, brief);
  return {"PUBLISH", redis::staff_push_channel(full.practice_id()), frame.SerializeAsString()};
}

}  // namespace

EventPublisher::EventPublisher(asio::any_io_executor ex, SchedulingStore& store, redis::Client& redis,
                               Options options)
    : store_(store), redis_(redis), options_(std::move(options)), wake_(ex) {}

void EventPublisher::notify() {
  pending_ = true;
  wake_.cancel();
}

void EventPublisher::stop() {
  stopping_ = true;
  wake_.cancel();
}

asio::awaitable<void> EventPublisher::run() {
  while (!stopping_) {
    if (std::chrono::steady_clock::now() >= next_prune_) {
      co_await prune();
      next_prune_ = std::chrono::steady_clock::now() + options_.prune_interval;
      if (stopping_) break;
    }
    if (pending_) {
      pending_ = false;
      bool more = co_await publish_batch();
      if (more) pending_ = true;
      if (failing_) {
        // Try again after the backoff even without a new notify.
        pending_ = true;
        wake_.expires_after(backoff_);
        co_await wake_.async_wait(use_tuple);
        continue;
      }
      if (pending_) continue;
    }
    wake_.expires_after(options_.poll_interval);
    auto [ec] = co_await wake_.async_wait(use_tuple);
    if (!ec) pending_ = true;  // the poll: also picks up anything a notify missed
  }
}

asio::awaitable<void> EventPublisher::prune() {
  const std::int64_t now = options_.now_ms ? options_.now_ms() : now_unix_ms();
  const std::int64_t before = now - options_.retention.count();
  std::int64_t total = 0;
  while (!stopping_) {
    auto deleted = co_await store_.prune_events(before, options_.prune_batch);
    if (!deleted) {
      log::warn("outbox prune failed; will retry", {{"reason", deleted.error().message}});
      break;
    }
    total += *deleted;
    if (*deleted < options_.prune_batch) break;
  }
  pruned_ += static_cast<std::uint64_t>(total);
  if (total > 0) log::info("pruned published appointment events past the retention", {{"deleted", total}});
}

asio::awaitable<bool> EventPublisher::publish_batch() {
  auto entries = co_await store_.unsent_events(options_.batch);
  if (!entries) {
    log::warn("outbox read failed", {{"reason", entries.error().message}});
    failing_ = true;
    backoff_ = options_.retry_max;
    co_return false;
  }
  if (entries->empty()) co_return false;
  std::vector<std::vector<std::string>> commands;
  commands.reserve(entries->size());
  for (const auto& e : *entries)
    commands.push_back({"XADD", options_.stream, "MAXLEN", "~", std::to_string(options_.max_len_approx), "*",
                        "event", e.payload, "event_id", e.event_id});
  // Then, as a wake-up for the practice's front desk screens, each event on its staff
  // channel; their replies are not looked at (pub/sub is at-most-once anyway).
  const auto now = now_unix_ms();
  for (const auto& e : *entries)
    if (auto publish = staff_push(e.payload, now); !publish.empty()) commands.push_back(std::move(publish));
  auto replies = co_await redis_.pipeline(std::move(commands));
  std::vector<std::int64_t> sent;
  std::string failure;
  if (!replies) {
    failure = replies.error().message;
  } else {
    for (std::size_t i = 0; i < replies->size() && i < entries->size(); ++i) {
      if ((*replies)[i].is_error()) {
        failure = (*replies)[i].str;
        break;
      }
      sent.push_back((*entries)[i].seq);
    }
  }
  if (!sent.empty()) {
    auto marked = co_await store_.mark_sent(sent, now_unix_ms());
    if (!marked) log::warn("outbox update failed", {{"reason", marked.error().message}});
    published_ += sent.size();
  }
  if (!failure.empty()) {
    if (!failing_)
      log::warn("cannot publish appointment events; will retry",
                {{"stream", options_.stream}, {"reason", failure}, {"waiting", static_cast<std::int64_t>(entries->size())}});
    failing_ = true;
    backoff_ = backoff_.count() == 0 ? options_.retry_min : std::min(backoff_ * 2, options_.retry_max);
    co_return false;
  }
  if (failing_) log::info("publishing appointment events again", {{"stream", options_.stream}});
  failing_ = false;
  backoff_ = std::chrono::milliseconds(0);
  co_return static_cast<int>(entries->size()) == options_.batch;
}

}  // namespace alliance::scheduling
