#include "checkin_pusher.hpp"

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/redis/client.hpp"
#include "alliance/redis/push.hpp"
#include "checkin_render.hpp"

namespace alliance::reminders {
namespace {

constexpr int kBatch = 500;

}  // namespace

CheckinPusher::CheckinPusher(asio::any_io_executor ex, CheckinStore& store, redis::Client& redis,
                             std::chrono::milliseconds rescan)
    : store_(store), redis_(redis), rescan_(rescan), timer_(ex) {}

void CheckinPusher::wake() {
  woken_ = true;
  timer_.cancel();
}

void CheckinPusher::stop() {
  stopping_ = true;
  timer_.cancel();
}

asio::awaitable<void> CheckinPusher::run() {
  while (!stopping_) {
    woken_ = false;
    co_await scan();
    if (stopping_ || woken_) continue;
    timer_.expires_after(rescan_);
    co_await timer_.async_wait(use_tuple);
  }
}

asio::awaitable<void> CheckinPusher::scan() {
  const auto now = now_unix_ms();
  auto expired = co_await store_.expire(now);
  if (!expired) log::warn("cannot expire check-ins", {{"reason", expired.error().message}});
  auto checkins = co_await store_.unpushed(now, kBatch);
  auto alerts = co_await store_.unpushed_alerts(kBatch);
  if (!checkins) {
    log::warn("cannot read check-ins to push", {{"reason", checkins.error().message}});
    co_return;
  }
  if (!alerts) {
    log::warn("cannot read check-in alerts to push", {{"reason", alerts.error().message}});
    co_return;
  }
  if (checkins->empty() && alerts->empty()) co_return;
  std::vector<std::vector<std::string>> publishes;
  std::vector<std::string> checkin_ids, alert_ids;
  for (const auto& c : *checkins) {
    publishes.push_back(
        {"PUBLISH", redis::push_channel(c.client_id), checkin_due_frame(c, now).SerializeAsString()});
    checkin_ids.push_back(c.id);
  }
  for (const auto& a : *alerts) {
    publishes.push_back(
        {"PUBLISH", redis::push_channel(a.therapist_id), checkin_alert_frame(a, now).SerializeAsString()});
    alert_ids.push_back(a.id);
  }
  auto replies = co_await redis_.pipeline(std::move(publishes));
  if (!replies) {
    log::warn("cannot publish check-ins; will retry", {{"reason", replies.error().message}});
    co_return;
  }
  auto done = co_await store_.mark_pushed(std::move(checkin_ids), std::move(alert_ids), now);
  if (!done) log::warn("cannot record check-in pushes", {{"reason", done.error().message}});
  if (static_cast<int>(checkins->size()) == kBatch || static_cast<int>(alerts->size()) == kBatch) woken_ = true;
}

}  // namespace alliance::reminders
