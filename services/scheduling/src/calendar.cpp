#include "calendar.hpp"

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "handler_common.hpp"

namespace alliance::scheduling {
namespace {

using std::chrono::days;
using std::chrono::hours;

constexpr std::size_t kMaxBlockReason = 200;
constexpr days kMaxBlockListRange{3 * 366};

Error block_not_found() { return not_found("block_id", "block_id: no such time block"); }

// The block as `caller` may see it: a client sees that the time is taken, not why.
pb::TimeBlock shown_to(const Caller& caller, const TimeBlock& block) {
  pb::TimeBlock out;
  fill(out, block);
  if (caller.role == Role::kClient) {
    out.clear_reason();
    out.clear_created_by();
  }
  return out;
}

}  // namespace

Calendar::Calendar(SchedulingStore& store, UserDirectory& directory, std::function<Instant()> clock)
    : store_(store), directory_(directory), clock_(std::move(clock)) {}

Instant Calendar::now() const { return clock_ ? clock_() : now_instant(); }

asio::awaitable<Status> Calendar::may_arrange(const Caller& caller, const std::string& therapist_id) {
  if (caller.role == Role::kTherapist) {
    if (therapist_id != caller.user_id)
      co_return denied("therapist_id: a therapist can only arrange their own calendar", "therapist_id");
    co_return Status{};
  }
  if (!caller.is_staff()) co_return denied("only the therapist, the front desk or an admin can arrange time blocks");
  co_return co_await require_practice_therapist(directory_, caller, therapist_id);
}

asio::awaitable<Result<pb::TimeBlockResponse>> Calendar::create_time_block(const pb::CreateTimeBlockRequest& req,
                                                                           const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (auto s = require_id(req.therapist_id(), "therapist_id"); !s) co_return s.error();
  if (auto s = co_await may_arrange(*caller, req.therapist_id()); !s) co_return s.error();
  auto start = parse_instant(req.start_time(), "start_time");
  if (!start) co_return start.error();
  auto end = parse_instant(req.end_time(), "end_time");
  if (!end) co_return end.error();
  if (start->time_since_epoch() % std::chrono::minutes(1) != std::chrono::seconds(0))
    co_return invalid_argument("start_time", "start_time: must be a whole minute");
  if (end->time_since_epoch() % std::chrono::minutes(1) != std::chrono::seconds(0))
    co_return invalid_argument("end_time", "end_time: must be a whole minute");
  if (*end <= *start) co_return invalid_argument("end_time", "end_time: must be after start_time");
  if (*end - *start > hours(24))
    co_return invalid_argument("end_time", "end_time: a block is at most 24 hours; use time off for whole days");
  if (*start < now() - days(366)) co_return invalid_argument("start_time", "start_time: too far in the past");
  if (*start > now() + days(3 * 366)) co_return invalid_argument("start_time", "start_time: too far in the future");
  const std::string& repeat = req.repeat().empty() ? std::string("none") : req.repeat();
  if (repeat != "none" && repeat != "weekly")
    co_return invalid_argument("repeat", "repeat: must be \"none\" or \"weekly\"");
  if (repeat == "none" && !req.repeat_until().empty())
    co_return invalid_argument("repeat_until", "repeat_until: only for a weekly block");
  if (!req.reason().empty()) {
    if (auto s = validate_text("reason", req.reason(), kMaxBlockReason, Lines::kMany); !s) co_return s.error();
  }
  auto availability = co_await store_.find_availability(req.therapist_id());
  if (!availability) co_return availability.error();
  if (!*availability || (*availability)->practice_id != caller->practice_id)
    co_return precondition("therapist_id", "therapist_id: set the therapist's availability (and so their time zone) first");

  TimeBlock block;
  block.id = new_id();
  block.practice_id = caller->practice_id;
  block.therapist_id = req.therapist_id();
  block.times = BlockTimes{*start, *end, (*availability)->availability.time_zone, repeat == "weekly", std::nullopt};
  if (!req.repeat_until().empty()) {
    auto until = parse_date(req.repeat_until(), "repeat_until");
    if (!until) co_return until.error();
    auto zone = find_time_zone(block.times.time_zone);
    if (!zone) co_return zone.error();
    const auto first_day = local_date(*zone, *start);
    if (date::sys_days(*until) < date::sys_days(first_day))
      co_return invalid_argument("repeat_until", "repeat_until: must not be before start_time's date");
    if (date::sys_days(*until) > date::sys_days(first_day) + days(3 * 366))
      co_return invalid_argument("repeat_until", "repeat_until: at most 3 years after start_time");
    block.times.until = *until;
  }
  block.reason = req.reason();
  block.created_by = caller->user_id;
  block.created_unix_ms = now_unix_ms();
  if (auto s = co_await store_.create_time_block(block); !s) co_return s.error();
  log::info("time block created", {{"block_id", block.id}, {"therapist_id", block.therapist_id}, {"by", caller->user_id}});
  pb::TimeBlockResponse resp;
  *resp.mutable_block() = shown_to(*caller, block);
  co_return resp;
}

asio::awaitable<Result<pb::ListTimeBlocksResponse>> Calendar::list_time_blocks(const pb::ListTimeBlocksRequest& req,
                                                                              const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (auto s = require_id(req.therapist_id(), "therapist_id"); !s) co_return s.error();
  Instant from = now(), to = now() + days(366);
  if (!req.from().empty()) {
    auto f = parse_instant(req.from(), "from");
    if (!f) co_return f.error();
    from = *f;
    if (req.to().empty()) to = from + days(366);
  }
  if (!req.to().empty()) {
    auto t = parse_instant(req.to(), "to");
    if (!t) co_return t.error();
    to = *t;
  }
  if (to <= from) co_return invalid_argument("to", "to: must be after from");
  if (to - from > kMaxBlockListRange) co_return invalid_argument("to", "to: range longer than 3 years");
  if (auto s = co_await require_practice_therapist(directory_, *caller, req.therapist_id()); !s) co_return s.error();
  auto blocks = co_await store_.list_time_blocks(req.therapist_id(), from, to);
  if (!blocks) co_return blocks.error();
  pb::ListTimeBlocksResponse resp;
  for (const auto& b : *blocks)
    if (!block_occurrences(b.times, from, to).empty()) *resp.add_blocks() = shown_to(*caller, b);
  co_return resp;
}

asio::awaitable<Result<pb::TimeBlockResponse>> Calendar::delete_time_block(const pb::DeleteTimeBlockRequest& req,
                                                                           const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (auto s = require_id(req.therapist_id(), "therapist_id"); !s) co_return s.error();
  if (auto s = require_id(req.block_id(), "block_id"); !s) co_return s.error();
  auto block = co_await store_.find_time_block(req.block_id());
  if (!block) co_return block.error();
  if (!*block || (*block)->practice_id != caller->practice_id || (*block)->therapist_id != req.therapist_id())
    co_return block_not_found();
  if (auto s = co_await may_arrange(*caller, req.therapist_id()); !s) co_return s.error();
  auto deleted = co_await store_.delete_time_block(req.block_id());
  if (!deleted) co_return deleted.error();
  if (!*deleted) co_return block_not_found();
  log::info("time block deleted", {{"block_id", req.block_id()}, {"by", caller->user_id}});
  pb::TimeBlockResponse resp;
  *resp.mutable_block() = shown_to(*caller, **block);
  co_return resp;
}

}  // namespace alliance::scheduling
