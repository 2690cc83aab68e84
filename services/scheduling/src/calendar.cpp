#include "calendar.hpp"

#include <algorithm>
#include <map>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/redis/push.hpp"
#include "domain/calendar_view.hpp"
#include "handler_common.hpp"
#include "scheduling_service.hpp"

namespace alliance::scheduling {
namespace {

using std::chrono::days;
using std::chrono::hours;

constexpr std::size_t kMaxBlockReason = 200;
constexpr days kMaxBlockListRange{3 * 366};
constexpr std::size_t kMaxViewTherapists = 20;
constexpr std::size_t kMaxPracticeTherapists = 100;
constexpr int kMaxViewAppointments = 1000;
constexpr std::size_t kMaxNote = 2000;

pb::CalendarSpan span_in(const date::time_zone* zone, Instant start, Instant end) {
  pb::CalendarSpan out;
  out.set_start_time(format_instant(start));
  out.set_end_time(format_instant(end));
  out.set_local_start(format_local_minutes(zone, start));
  out.set_local_end(format_local_minutes(zone, end));
  return out;
}

void fill(pb::AppointmentNote& out, const AppointmentNote& n) {
  out.set_appointment_id(n.appointment_id);
  out.set_note(n.note);
  out.set_updated_by(n.updated_by);
  out.set_updated_unix_ms(n.updated_unix_ms);
}

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

Calendar::Calendar(SchedulingStore& store, UserDirectory& directory, std::chrono::minutes cancellation_window,
                   std::function<Instant()> clock, redis::Client* redis)
    : store_(store),
      directory_(directory),
      cancellation_window_(cancellation_window),
      clock_(std::move(clock)),
      redis_(redis) {}

Instant Calendar::now() const { return clock_ ? clock_() : now_instant(); }

asio::awaitable<void> Calendar::announce(const TimeBlock& block, std::string_view change) {
  if (!redis_) co_return;
  pb::TimeBlock full;
  fill(full, block);
  pb::TimeBlockChange body;
  body.set_change(std::string(change));
  body.set_block_id(full.id());
  body.set_therapist_id(full.therapist_id());
  body.set_start_time(full.start_time());
  body.set_end_time(full.end_time());
  body.set_repeat(full.repeat());
  body.set_repeat_until(full.repeat_until());
  const auto frame = redis::push_frame(new_id(), kTimeBlockPush, now_unix_ms(), body);
  auto s = co_await redis::publish_staff_push(*redis_, block.practice_id, frame);
  if (!s) log::warn("time block push failed", {{"block_id", block.id}, {"reason", s.error().message}});
}

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
  co_await announce(block, "created");
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
  co_await announce(**block, "deleted");
  pb::TimeBlockResponse resp;
  *resp.mutable_block() = shown_to(*caller, **block);
  co_return resp;
}

// ------------------------------------------------------------------ calendar view

asio::awaitable<Result<std::vector<std::string>>> Calendar::view_therapists(const Caller& caller,
                                                                          const std::string& ids) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at <= ids.size() && !ids.empty();) {
    const auto comma = std::min(ids.find(',', at), ids.size());
    std::string id = ids.substr(at, comma - at);
    if (auto s = require_id(id, "therapist_ids"); !s) co_return s.error();
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(std::move(id));
    if (out.size() > kMaxViewTherapists)
      co_return invalid_argument("therapist_ids", "therapist_ids: at most 20 therapists");
    at = comma + 1;
  }
  if (out.empty()) {
    if (caller.role == Role::kTherapist) co_return std::vector<std::string>{caller.user_id};
    auto all = co_await store_.therapists_with_availability(caller.practice_id);
    if (!all) co_return all.error();
    if (all->size() > kMaxPracticeTherapists) all->resize(kMaxPracticeTherapists);
    co_return std::move(*all);
  }
  const Error unknown = not_found("therapist_ids", "therapist_ids: no such therapist");
  for (const auto& id : out) {
    if (caller.role == Role::kTherapist) {
      if (id != caller.user_id) co_return unknown;
      continue;
    }
    auto therapist = co_await directory_.find_user(id);
    if (!therapist) co_return therapist.error();
    if (!*therapist || (*therapist)->practice_id != caller.practice_id || (*therapist)->role != Role::kTherapist)
      co_return unknown;
  }
  co_return out;
}

asio::awaitable<Result<pb::TherapistCalendar>> Calendar::therapist_calendar(const Caller& caller,
                                                                            const std::string& id, Instant from,
                                                                            Instant to, const date::time_zone* zone) {
  pb::TherapistCalendar out;
  out.set_therapist_id(id);
  auto availability = co_await store_.find_availability(id);
  if (!availability) co_return availability.error();
  if (*availability && (*availability)->practice_id == caller.practice_id) {
    const auto& a = (*availability)->availability;
    out.set_time_zone(a.time_zone);
    for (const auto& s : working_spans(a, from, to)) *out.add_working_hours() = span_in(zone, s.start, s.end);
    for (const auto& s : time_off_spans(a, from, to)) *out.add_time_off() = span_in(zone, s.start, s.end);
  }
  auto blocks = co_await store_.list_time_blocks(id, from, to);
  if (!blocks) co_return blocks.error();
  for (const auto& b : *blocks) {
    for (const auto& occurrence : block_occurrences(b.times, from, to)) {
      auto& shown = *out.add_blocks();
      shown.set_block_id(b.id);
      *shown.mutable_span() = span_in(zone, occurrence.start, occurrence.end);
      shown.set_repeat(b.times.weekly ? "weekly" : "none");
      shown.set_reason(b.reason);
    }
  }
  std::sort(out.mutable_blocks()->begin(), out.mutable_blocks()->end(),
            [](const pb::CalendarBlock& a, const pb::CalendarBlock& b) { return a.span().start_time() < b.span().start_time(); });
  AppointmentQuery q;
  q.practice_id = caller.practice_id;
  q.therapist_id = id;
  q.from = from;
  q.to = to;
  q.limit = kMaxViewAppointments;
  auto rows = co_await store_.list_appointments(std::move(q));
  if (!rows) co_return rows.error();
  if (rows->size() > static_cast<std::size_t>(kMaxViewAppointments)) rows->resize(kMaxViewAppointments);
  std::vector<std::string> ids;
  for (const auto& a : *rows) ids.push_back(a.id);
  auto notes = co_await store_.notes(std::move(ids));
  if (!notes) co_return notes.error();
  std::map<std::string, std::string, std::less<>> note_of;
  for (auto& n : *notes) note_of.emplace(n.appointment_id, std::move(n.note));
  // One directory question per distinct client (mostly cache hits), not per row.
  std::map<std::string, ClientTimes, std::less<>> times;
  for (const auto& a : *rows) {
    auto known = times.find(a.client_id);
    if (known == times.end()) {
      ClientTimes t;
      t.client_time_zone = co_await client_time_zone(directory_, a.client_id);
      t.cancellation_window = cancellation_window_;
      known = times.emplace(a.client_id, std::move(t)).first;
    }
    auto& shown = *out.add_appointments();
    fill(*shown.mutable_appointment(), a, known->second);
    *shown.mutable_span() = span_in(zone, a.start, a.end);
    if (auto n = note_of.find(a.id); n != note_of.end()) shown.set_staff_note(n->second);
  }
  co_return out;
}

asio::awaitable<Result<pb::GetCalendarResponse>> Calendar::get_calendar(const pb::GetCalendarRequest& req,
                                                                        const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->role == Role::kClient) co_return denied("the calendar view is for the practice's staff");
  auto first_day = parse_date(req.date(), "date");
  if (!first_day) co_return first_day.error();
  const int length = req.days() == 0 ? 1 : req.days();
  if (length != 1 && length != 7) co_return invalid_argument("days", "days: must be 1 (a day) or 7 (a week)");
  auto therapists = co_await view_therapists(*caller, req.therapist_ids());
  if (!therapists) co_return therapists.error();

  // The zone asked for, else the practice's own, else the caller's, else the first therapist's.
  std::string zone_name = req.time_zone();
  if (zone_name.empty()) {
    auto me = co_await directory_.find_user(caller->user_id);
    if (me && *me) zone_name = (*me)->practice_time_zone.empty() ? (*me)->time_zone : (*me)->practice_time_zone;
  }
  if (zone_name.empty() && !therapists->empty()) {
    auto a = co_await store_.find_availability(therapists->front());
    if (!a) co_return a.error();
    if (*a) zone_name = (*a)->availability.time_zone;
  }
  if (zone_name.empty()) zone_name = "UTC";
  auto zone = find_time_zone(zone_name);
  if (!zone) co_return zone.error();
  const date::local_days day{date::sys_days(*first_day).time_since_epoch()};
  const Instant from = local_edge_to_utc(*zone, day);
  const Instant to = local_edge_to_utc(*zone, day + date::days(length));

  pb::GetCalendarResponse resp;
  resp.set_time_zone(zone_name);
  resp.set_from(format_instant(from));
  resp.set_to(format_instant(to));
  for (const auto& id : *therapists) {
    auto one = co_await therapist_calendar(*caller, id, from, to, *zone);
    if (!one) co_return one.error();
    *resp.add_therapists() = std::move(*one);
  }
  co_return resp;
}

// ------------------------------------------------------------------ staff notes

asio::awaitable<Result<Appointment>> Calendar::noted_appointment(const Caller& caller, const std::string& id) {
  if (auto s = require_id(id, "appointment_id"); !s) co_return s.error();
  if (caller.role == Role::kClient) co_return denied("notes are for the practice's staff only");
  auto a = co_await store_.find_appointment(id);
  if (!a) co_return a.error();
  if (!*a || !may_see(caller, **a)) co_return not_found("appointment_id", "appointment_id: no such appointment");
  co_return std::move(**a);
}

asio::awaitable<Result<pb::AppointmentNoteResponse>> Calendar::set_note(const pb::SetAppointmentNoteRequest& req,
                                                                        const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  auto a = co_await noted_appointment(*caller, req.appointment_id());
  if (!a) co_return a.error();
  if (!req.note().empty()) {
    if (auto s = validate_text("note", req.note(), kMaxNote, Lines::kMany); !s) co_return s.error();
  }
  AppointmentNote note{a->id, req.note(), caller->user_id, now_unix_ms()};
  if (auto s = co_await store_.set_note(note); !s) co_return s.error();
  log::info("appointment note set", {{"appointment_id", a->id}, {"by", caller->user_id}});
  pb::AppointmentNoteResponse resp;
  fill(*resp.mutable_note(), note);
  resp.mutable_note()->set_client_id(a->client_id);
  co_return resp;
}

asio::awaitable<Result<pb::AppointmentNoteResponse>> Calendar::get_note(const pb::GetAppointmentNoteRequest& req,
                                                                        const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  auto a = co_await noted_appointment(*caller, req.appointment_id());
  if (!a) co_return a.error();
  std::vector<std::string> ids{a->id};
  auto notes = co_await store_.notes(std::move(ids));
  if (!notes) co_return notes.error();
  pb::AppointmentNoteResponse resp;
  resp.mutable_note()->set_appointment_id(a->id);
  if (!notes->empty()) fill(*resp.mutable_note(), notes->front());
  resp.mutable_note()->set_client_id(a->client_id);
  co_return resp;
}

}  // namespace alliance::scheduling
