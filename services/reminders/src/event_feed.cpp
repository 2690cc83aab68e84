#include "event_feed.hpp"

#include <set>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/net/rpc_client.hpp"
#include "alliance/redis/client.hpp"
#include "alliance/scheduling/v1/scheduling.pb.h"
#include "reminder_render.hpp"

namespace alliance::reminders {

namespace spb = ::alliance::scheduling::v1;

asio::awaitable<Result<EventPage>> SchedulingEvents::since(std::int64_t after_seq, int limit) {
  spb::ListEventsSinceRequest req;
  req.set_after_seq(after_seq);
  req.set_limit(limit);
  auto resp =
      co_await scheduling_.call<spb::ListEventsSinceResponse>("alliance.scheduling.v1.Scheduling/ListEventsSince", req);
  if (!resp) co_return std::move(resp).error();
  EventPage page;
  page.last_seq = resp->last_seq();
  page.oldest_seq = resp->oldest_seq();
  page.events.reserve(static_cast<std::size_t>(resp->events_size()));
  for (const auto& e : resp->events()) {
    auto row = appointment_of(e.event());
    if (!row) {
      // Applied as nothing: the cursor still moves past it.
      log::error("appointment event unusable; skipped", {{"seq", e.seq()}, {"reason", row.error().message}});
      EventInput skip;  // no appointment id: the store passes over it
      skip.seq = e.seq();
      page.events.push_back(std::move(skip));
      continue;
    }
    page.events.push_back(EventInput{e.seq(), std::move(*row), e.event().occurred_unix_ms()});
  }
  co_return page;
}

EventFeed::EventFeed(asio::any_io_executor ex, ReminderStore& store, EventSource& source, PeopleDirectory& people,
                     Options options, std::function<void()> on_applied)
    : store_(store),
      source_(source),
      people_(people),
      options_(std::move(options)),
      on_applied_(std::move(on_applied)),
      timer_(ex) {}

void EventFeed::wake() {
  woken_ = true;
  timer_.cancel();
}

void EventFeed::stop() {
  stopping_ = true;
  timer_.cancel();
}

asio::awaitable<void> EventFeed::run() {
  while (!stopping_) {
    if (woken_) {
      woken_ = false;
      auto more = co_await step();
      if (more) {
        woken_ = true;
        continue;
      }
    }
    timer_.expires_after(options_.poll);
    auto [ec] = co_await timer_.async_wait(use_tuple);
    if (!ec) woken_ = true;
  }
}

asio::awaitable<bool> EventFeed::step() {
  auto at = co_await store_.cursor();
  if (!at) {
    log::warn("reminders database unreadable", {{"reason", at.error().message}});
    co_return false;
  }
  auto page = co_await source_.since(*at, options_.batch);
  if (!page) {
    log::warn("cannot read appointment events from scheduling", {{"reason", page.error().message}});
    co_return false;
  }
  if (*at > 0 && page->oldest_seq > *at + 1 && !warned_gap_) {
    warned_gap_ = true;
    log::error("appointment events were removed by scheduling's retention before they were applied",
               {{"cursor", *at}, {"oldest_seq", page->oldest_seq}});
  }
  if (page->events.empty()) {
    cursor_ = *at;
    co_return false;
  }
  // The client's own zone, as identity knows it now; else the one in the event.
  std::vector<std::string> clients;
  std::set<std::string, std::less<>> seen;
  for (const auto& e : page->events)
    if (!e.appointment.client_id.empty() && seen.insert(e.appointment.client_id).second)
      clients.push_back(e.appointment.client_id);
  auto people = co_await people_.lookup(std::move(clients));
  if (people) {
    for (auto& e : page->events) {
      auto p = people->users.find(e.appointment.client_id);
      if (p != people->users.end() && find_zone(p->second.time_zone)) e.appointment.client_zone = p->second.time_zone;
    }
  }
  auto events = std::move(page->events);
  const auto n = events.size();
  auto applied = co_await store_.apply_events(*at, std::move(events), now_unix_ms());
  if (!applied) {
    log::warn("cannot apply appointment events", {{"reason", applied.error().message}});
    co_return false;
  }
  cursor_ = applied->cursor;
  if (!applied->applied) co_return true;  // another instance moved the cursor: read from there
  applied_ += n;
  if ((applied->planned > 0 || applied->cancelled > 0 || applied->checkins > 0) && on_applied_) on_applied_();
  co_return static_cast<int>(n) == options_.batch;
}

asio::awaitable<void> EventFeed::watch_stream(redis::Client& client) {
  std::string last_id = "$";
  asio::steady_timer pause(co_await asio::this_coro::executor);
  const auto block = std::chrono::milliseconds(5000);
  while (!stopping_) {
    std::vector<std::string> args{"XREAD", "COUNT", "100", "BLOCK", std::to_string(block.count()), "STREAMS",
                                  options_.stream, last_id};
    auto reply = co_await client.command(std::move(args), client.options().command_timeout + block);
    if (stopping_) break;
    if (!reply || reply->is_error()) {
      pause.expires_after(std::chrono::milliseconds(500));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    // [[stream, [[id, fields], ...]]]; nil when nothing came.
    bool any = false;
    for (const auto& per_stream : reply->elements) {
      if (per_stream.elements.size() != 2) continue;
      for (const auto& entry : per_stream.elements[1].elements) {
        if (entry.elements.empty()) continue;
        last_id = entry.elements[0].str;
        any = true;
      }
    }
    if (any) wake();
  }
}

}  // namespace alliance::reminders
