#include "scheduling_service.hpp"

#include <algorithm>
#include <map>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/core/utf8.hpp"
#include "alliance/crypto/encoding.hpp"
#include "handler_common.hpp"
#include "locations.hpp"

namespace alliance::scheduling {
namespace {

using std::chrono::days;
using std::chrono::minutes;

constexpr days kMaxListRange{366};
constexpr int kMaxListed = 1000;
constexpr int kDefaultEventPage = 500;
constexpr int kMaxEventPage = 1000;

Error appointment_not_found() { return not_found("appointment_id", "appointment_id: no such appointment"); }

Status check_range(int value, int min, int max, std::string_view field, std::string_view unit) {
  if (value < min || value > max)
    return invalid_argument(std::string(field), std::string(field) + ": must be between " + std::to_string(min) +
                                                    " and " + std::to_string(max) + " " + std::string(unit));
  return {};
}

Status validate_reason(const std::string& reason) { return validate_text("reason", reason, 500, Lines::kMany); }

// The caller's own id where a client books for themself.
Result<std::string> resolve_client(const Caller& caller, const std::string& client_id) {
  if (caller.role == Role::kClient) {
    if (!client_id.empty() && client_id != caller.user_id)
      return denied("client_id: a client can only book for themself", "client_id");
    return caller.user_id;
  }
  if (auto s = require_id(client_id, "client_id"); !s) return s.error();
  return client_id;
}

std::string canonical_request(std::string_view kind, const std::string& therapist, const std::string& client,
                              const std::string& type, Instant start, int interval, int count,
                              std::string_view on_conflict) {
  std::string s(kind);
  for (std::string_view part : {std::string_view(therapist), std::string_view(client), std::string_view(type)}) {
    s += '\n';
    s += part;
  }
  s += '\n' + std::to_string(to_unix(start)) + '\n' + std::to_string(interval) + '\n' + std::to_string(count) +
       '\n' + std::string(on_conflict);
  return crypto::sha256(s);
}

Status expect_version(const Appointment& a, std::int64_t expected) {
  if (expected != 0 && expected != a.version)
    return precondition("expected_version", "expected_version: the appointment has changed (now version " +
                                                std::to_string(a.version) + "); reload it");
  return {};
}

Status must_hold_time(const Appointment& a, std::string_view doing) {
  if (!holds_time(a.status))
    return precondition("status", "status: a " + std::string(status_name(a.status)) + " appointment cannot be " +
                                      std::string(doing));
  return {};
}

// A slot search or check failure for one occurrence of a series.
std::string occurrence_reason(const Error& e) { return e.message; }

}  // namespace

bool may_see(const Caller& caller, const Appointment& a) {
  if (caller.practice_id != a.practice_id) return false;
  switch (caller.role) {
    case Role::kAdmin:
    case Role::kFrontDesk: return true;
    case Role::kTherapist: return a.therapist_id == caller.user_id;
    case Role::kClient: return a.client_id == caller.user_id;
  }
  return false;
}

struct SchedulingService::BookingPlan {
  std::string client_id;
  AppointmentType type;
  TherapistAvailability availability;
  ClientTimes times;  // the client's, for the answer and the events
};

SchedulingService::SchedulingService(SchedulingStore& store, UserDirectory& directory, SchedulingOptions options,
                                     std::function<void()> changed)
    : store_(store), directory_(directory), options_(std::move(options)), changed_(std::move(changed)) {}

Instant SchedulingService::now() const { return options_.clock ? options_.clock() : now_instant(); }

asio::awaitable<ClientTimes> SchedulingService::client_times(std::string client_id) {
  ClientTimes times;
  times.client_time_zone = co_await client_time_zone(directory_, std::move(client_id));
  times.cancellation_window = options_.cancellation_window;
  co_return times;
}

void SchedulingService::changed() {
  if (changed_) changed_();
}

void SchedulingService::slot_freed(const Appointment& a) {
  if (options_.slot_freed) options_.slot_freed(FreedSlot{a.practice_id, a.therapist_id, a.start, a.end});
}

// ------------------------------------------------------------------ types

asio::awaitable<Result<pb::CreateAppointmentTypeResponse>> SchedulingService::create_appointment_type(
    const pb::CreateAppointmentTypeRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (caller->role != Role::kAdmin && caller->role != Role::kTherapist)
    co_return denied("only an admin or a therapist can define appointment types");
  if (auto s = validate_text("name", req.name(), 100, Lines::kOne); !s) co_return s.error();
  if (auto s = check_range(req.duration_minutes(), 5, 480, "duration_minutes", "minutes"); !s) co_return s.error();
  if (req.modality() != "in_person" && req.modality() != "telehealth")
    co_return invalid_argument("modality", "modality: must be \"in_person\" or \"telehealth\"");
  if (auto s = check_range(req.buffer_before_minutes(), 0, 240, "buffer_before_minutes", "minutes"); !s)
    co_return s.error();
  if (auto s = check_range(req.buffer_after_minutes(), 0, 240, "buffer_after_minutes", "minutes"); !s)
    co_return s.error();
  if (auto s = check_range(req.min_notice_minutes(), 0, 90 * 24 * 60, "min_notice_minutes", "minutes"); !s)
    co_return s.error();
  const int horizon = req.booking_horizon_days() == 0 ? 90 : req.booking_horizon_days();
  if (auto s = check_range(horizon, 1, 730, "booking_horizon_days", "days"); !s) co_return s.error();
  if (req.step_minutes() != 0) {
    if (auto s = check_range(req.step_minutes(), 5, 480, "step_minutes", "minutes (or 0: the duration)"); !s)
      co_return s.error();
  }
  if (auto s = validate_idempotency_key(req.idempotency_key(), true); !s) co_return s.error();
  if (!req.default_location_id().empty()) {
    if (req.modality() != "in_person")
      co_return invalid_argument("default_location_id", "default_location_id: only an in_person type has a location");
    auto location = co_await practice_location(store_, caller->practice_id, req.default_location_id(),
                                               "default_location_id");
    if (!location) co_return location.error();
  }
  AppointmentType t;
  t.id = new_id();
  t.practice_id = caller->practice_id;
  t.name = req.name();
  t.duration_minutes = req.duration_minutes();
  t.modality = req.modality();
  t.buffer_before_minutes = req.buffer_before_minutes();
  t.buffer_after_minutes = req.buffer_after_minutes();
  t.min_notice_minutes = req.min_notice_minutes();
  t.booking_horizon_days = horizon;
  t.client_self_booking = req.client_self_booking();
  t.step_minutes = req.step_minutes();
  t.default_location_id = req.default_location_id();
  t.created_by = caller->user_id;
  t.created_unix_ms = now_unix_ms();
  if (auto s = validate(t.rules()); !s) co_return s.error();
  IdempotencyRecord idem{caller->user_id, req.idempotency_key(), request_digest("create_type", req), "", "", ""};
  auto made = co_await store_.create_type(t, std::move(idem));
  if (!made) co_return made.error();
  if (!made->replayed) log::info("appointment type created", {{"type_id", t.id}, {"by", caller->user_id}});
  pb::CreateAppointmentTypeResponse resp;
  fill(*resp.mutable_type(), made->type);
  resp.set_replayed(made->replayed);
  co_return resp;
}

asio::awaitable<Result<pb::ListAppointmentTypesResponse>> SchedulingService::list_appointment_types(
    const pb::ListAppointmentTypesRequest&, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  auto types = co_await store_.list_types(caller->practice_id);
  if (!types) co_return types.error();
  pb::ListAppointmentTypesResponse resp;
  for (const auto& t : *types) fill(*resp.add_types(), t);
  co_return resp;
}

// ------------------------------------------------------------------ availability

asio::awaitable<Result<pb::SetAvailabilityResponse>> SchedulingService::set_availability(
    const pb::SetAvailabilityRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (auto s = require_id(req.therapist_id(), "therapist_id"); !s) co_return s.error();
  if (caller->role == Role::kTherapist) {
    if (req.therapist_id() != caller->user_id)
      co_return denied("therapist_id: a therapist can only set their own availability", "therapist_id");
  } else if (caller->role != Role::kAdmin) {
    co_return denied("only the therapist or an admin can set availability");
  } else if (auto s = co_await require_practice_therapist(directory_, *caller, req.therapist_id()); !s) {
    co_return s.error();
  }
  if (req.weekly_size() > 200) co_return invalid_argument("weekly", "weekly: at most 200 intervals");
  if (req.extra_size() > 1000) co_return invalid_argument("extra", "extra: at most 1000 intervals");
  if (req.time_off_size() > 1000) co_return invalid_argument("time_off", "time_off: at most 1000 ranges");
  if (req.time_zone().empty()) co_return invalid_argument("time_zone", "time_zone: is required");
  if (auto zone = find_time_zone(req.time_zone()); !zone) co_return zone.error();

  TherapistAvailability a;
  a.therapist_id = req.therapist_id();
  a.practice_id = caller->practice_id;
  a.availability.time_zone = req.time_zone();
  a.updated_by = caller->user_id;
  a.updated_unix_ms = now_unix_ms();
  auto interval = [](const std::string& prefix, const std::string& start,
                     const std::string& end) -> Result<LocalInterval> {
    auto s = parse_local_time(start, prefix + ".start");
    if (!s) return s.error();
    auto e = parse_local_time(end, prefix + ".end");
    if (!e) return e.error();
    if (*e <= *s) return invalid_argument(prefix + ".end", prefix + ".end: must be after start");
    return LocalInterval{*s, *e};
  };
  // One list of weekly hours, named `list` in errors ("weekly", "changes[0].weekly").
  auto weekly = [&](const std::string& list, const auto& rows) -> Result<std::vector<WeeklyHours>> {
    if (rows.size() > 200) return invalid_argument(list, list + ": at most 200 intervals");
    std::vector<WeeklyHours> out;
    for (int i = 0; i < rows.size(); ++i) {
      const auto& w = rows.Get(i);
      const std::string prefix = list + "[" + std::to_string(i) + "]";
      if (w.weekday() < 0 || w.weekday() > 6)
        return invalid_argument(prefix + ".weekday", prefix + ".weekday: must be 0 (Sunday) to 6 (Saturday)");
      auto iv = interval(prefix, w.start(), w.end());
      if (!iv) return iv.error();
      out.push_back(WeeklyHours{w.weekday(), *iv});
    }
    return out;
  };
  auto base = weekly("weekly", req.weekly());
  if (!base) co_return base.error();
  a.availability.weekly = std::move(*base);
  const auto today = date::year_month_day(std::chrono::floor<days>(now()));
  const auto earliest = date::sys_days(today) - days(366);
  const auto latest = date::sys_days(today) + days(3 * 366);
  auto check_date = [&](const std::string& field, const std::string& text) -> Result<date::year_month_day> {
    auto d = parse_date(text, field);
    if (!d) return d.error();
    if (date::sys_days(*d) < earliest) return invalid_argument(field, field + ": too far in the past");
    if (date::sys_days(*d) > latest) return invalid_argument(field, field + ": too far in the future");
    return *d;
  };
  for (int i = 0; i < req.extra_size(); ++i) {
    const auto& e = req.extra(i);
    const std::string prefix = "extra[" + std::to_string(i) + "]";
    auto d = check_date(prefix + ".date", e.date());
    if (!d) co_return d.error();
    auto iv = interval(prefix, e.start(), e.end());
    if (!iv) co_return iv.error();
    a.availability.extra.push_back(ExtraHours{*d, *iv});
  }
  if (req.changes_size() > 20) co_return invalid_argument("changes", "changes: at most 20");
  for (int i = 0; i < req.changes_size(); ++i) {
    const auto& c = req.changes(i);
    const std::string prefix = "changes[" + std::to_string(i) + "]";
    auto from = check_date(prefix + ".from_date", c.from_date());
    if (!from) co_return from.error();
    if (c.weekly_size() == 0)
      co_return invalid_argument(prefix + ".weekly", prefix + ".weekly: is required (days without hours are time off)");
    auto hours = weekly(prefix + ".weekly", c.weekly());
    if (!hours) co_return hours.error();
    a.availability.changes.push_back(DatedWeekly{*from, std::move(*hours)});
  }
  for (int i = 0; i < req.time_off_size(); ++i) {
    const auto& t = req.time_off(i);
    const std::string prefix = "time_off[" + std::to_string(i) + "]";
    auto first = check_date(prefix + ".first_date", t.first_date());
    if (!first) co_return first.error();
    auto last = check_date(prefix + ".last_date", t.last_date());
    if (!last) co_return last.error();
    if (date::sys_days(*last) < date::sys_days(*first))
      co_return invalid_argument(prefix + ".last_date", prefix + ".last_date: must not be before first_date");
    a.availability.time_off.push_back(TimeOff{*first, *last});
  }
  if (auto s = validate(a.availability); !s) co_return s.error();
  if (auto s = co_await store_.set_availability(a); !s) co_return s.error();
  log::info("availability set", {{"therapist_id", a.therapist_id}, {"by", caller->user_id}});
  pb::SetAvailabilityResponse resp;
  fill(*resp.mutable_availability(), a);
  co_return resp;
}

asio::awaitable<Result<pb::GetAvailabilityResponse>> SchedulingService::get_availability(
    const pb::GetAvailabilityRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (auto s = require_id(req.therapist_id(), "therapist_id"); !s) co_return s.error();
  auto a = co_await store_.find_availability(req.therapist_id());
  if (!a) co_return a.error();
  if (!*a || (*a)->practice_id != caller->practice_id)
    co_return not_found("therapist_id", "therapist_id: no availability for this therapist");
  pb::GetAvailabilityResponse resp;
  fill(*resp.mutable_availability(), **a);
  co_return resp;
}

// ------------------------------------------------------------------ slots

asio::awaitable<Result<SchedulingService::SlotSearch>> SchedulingService::search_slots(
    const pb::ListSlotsRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (auto s = require_id(req.therapist_id(), "therapist_id"); !s) co_return s.error();
  if (auto s = require_id(req.type_id(), "type_id"); !s) co_return s.error();
  auto from = parse_instant(req.from(), "from");
  if (!from) co_return from.error();
  auto to = parse_instant(req.to(), "to");
  if (!to) co_return to.error();
  auto type = co_await store_.search_type(req.type_id());
  if (!type) co_return type.error();
  if (!*type || (*type)->practice_id != caller->practice_id)
    co_return not_found("type_id", "type_id: no such appointment type");
  // Range errors before reading appointments (bounds the work a request can cause).
  // The availability is checked first all the same: a therapist without one is
  // kNotFound whatever the range.
  const bool range_ok = *to > *from && *to - *from <= kMaxSearchRange;
  auto inputs = co_await store_.slot_inputs(req.therapist_id(), range_ok ? *from - days(1) : *from,
                                            range_ok ? *to + days(1) : *from + days(1));
  if (!inputs) co_return inputs.error();
  const auto& a = (*inputs)->availability;
  if (!a || a->practice_id != caller->practice_id)
    co_return not_found("therapist_id", "therapist_id: no availability for this therapist");
  if (*to <= *from) co_return invalid_argument("to", "to: must be after from");
  if (*to - *from > kMaxSearchRange) co_return invalid_argument("to", "to: range longer than 42 days");
  // Waitlist holds block the time for everyone but their holder.
  const std::string holder = caller->role == Role::kClient ? caller->user_id : std::string();
  const auto booked = (*inputs)->blocking_for(holder, now_unix_ms());
  SlotSearch out{(*type)->rules(), a->availability.time_zone, {}};
  auto starts = find_open_starts(a->availability, out.rules, booked, *from, *to, now());
  if (!starts) co_return starts.error();
  out.starts = std::move(*starts);
  co_return out;
}

namespace {

// What both slot answers open with.
template <class Response>
Response slot_answer(const pb::ListSlotsRequest& req, const std::string& time_zone) {
  Response resp;
  resp.set_therapist_id(req.therapist_id());
  resp.set_type_id(req.type_id());
  resp.set_time_zone(time_zone);
  return resp;
}

}  // namespace

asio::awaitable<Result<pb::ListSlotsResponse>> SchedulingService::list_slots(const pb::ListSlotsRequest& req,
                                                                            const Ctx& ctx) {
  auto found = co_await search_slots(req, ctx);
  if (!found) co_return found.error();
  auto resp = slot_answer<pb::ListSlotsResponse>(req, found->time_zone);
  resp.mutable_slots()->Reserve(static_cast<int>(found->starts.size()));
  for (const auto& s : found->starts) fill(*resp.add_slots(), to_slot(s, found->rules.duration));
  co_return resp;
}

asio::awaitable<Result<pb::ListSlotRunsResponse>> SchedulingService::list_slot_runs(const pb::ListSlotsRequest& req,
                                                                                   const Ctx& ctx) {
  auto found = co_await search_slots(req, ctx);
  if (!found) co_return found.error();
  auto resp = slot_answer<pb::ListSlotRunsResponse>(req, found->time_zone);
  resp.set_duration_minutes(static_cast<std::int32_t>(found->rules.duration.count()));
  for (const auto& run : to_runs(found->starts, grid_step(found->rules))) fill(*resp.add_runs(), run);
  co_return resp;
}

// ------------------------------------------------------------------ booking

asio::awaitable<Result<SchedulingService::BookingPlan>> SchedulingService::plan_booking(
    const Caller& caller, const std::string& therapist_id, const std::string& client_id_in,
    const std::string& type_id) {
  if (auto s = require_id(therapist_id, "therapist_id"); !s) co_return s.error();
  if (auto s = require_id(type_id, "type_id"); !s) co_return s.error();
  auto client_id = resolve_client(caller, client_id_in);
  if (!client_id) co_return client_id.error();
  if (caller.role == Role::kTherapist && therapist_id != caller.user_id)
    co_return denied("therapist_id: a therapist can only book on their own calendar", "therapist_id");

  auto type = co_await store_.find_type(type_id);
  if (!type) co_return type.error();
  if (!*type || (*type)->practice_id != caller.practice_id)
    co_return not_found("type_id", "type_id: no such appointment type");
  auto a = co_await store_.find_availability(therapist_id);
  if (!a) co_return a.error();
  if (!*a || (*a)->practice_id != caller.practice_id)
    co_return not_found("therapist_id", "therapist_id: no such therapist, or no availability set");

  ClientTimes times;
  times.cancellation_window = options_.cancellation_window;
  if (caller.role == Role::kClient) {
    if (!(*type)->client_self_booking)
      co_return denied("type_id: clients cannot book this appointment type themselves; ask the front desk",
                       "type_id");
    auto member = co_await directory_.on_care_team(*client_id, therapist_id);
    if (!member) co_return member.error();
    if (!*member) co_return denied("therapist_id: this therapist is not on your care team", "therapist_id");
    times = co_await client_times(*client_id);
  } else {
    auto client = co_await directory_.find_user(*client_id);
    if (!client) co_return client.error();
    if (!*client || (*client)->practice_id != caller.practice_id || (*client)->role != Role::kClient)
      co_return not_found("client_id", "client_id: no such client");
    // The care team decides whom a therapist books: another client is answered as if
    // there were none, unless the practice lets therapists book any of its clients.
    if (caller.role == Role::kTherapist && !(*client)->therapists_book_any_client) {
      auto member = co_await directory_.on_care_team(*client_id, caller.user_id);
      if (!member) co_return member.error();
      if (!*member) co_return not_found("client_id", "client_id: no such client");
    }
    if ((*client)->deactivated) co_return client_deactivated();
    times.client_time_zone = (*client)->time_zone;
  }
  co_return BookingPlan{std::move(*client_id), std::move(**type), std::move(**a), std::move(times)};
}

asio::awaitable<Result<Appointment>> SchedulingService::visible_appointment(const Caller& caller,
                                                                           const std::string& id) {
  if (id.empty()) co_return invalid_argument("appointment_id", "appointment_id: is required");
  auto a = co_await store_.find_appointment(id);
  if (!a) co_return a.error();
  if (!*a || !may_see(caller, **a)) co_return appointment_not_found();
  co_return std::move(**a);
}

asio::awaitable<Result<pb::AppointmentResponse>> SchedulingService::book_appointment(
    const pb::BookAppointmentRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (auto s = validate_idempotency_key(req.idempotency_key()); !s) co_return s.error();
  auto start = parse_instant(req.start_time(), "start_time");
  if (!start) co_return start.error();
  auto client_for_hash = resolve_client(*caller, req.client_id());
  if (!client_for_hash) co_return client_for_hash.error();
  const Placement asked = placement_of(req);
  const std::string hash = canonical_request("book", req.therapist_id(), *client_for_hash, req.type_id(), *start, 0,
                                             1, placement_digest(asked));

  // A retry is answered from the key before any slot check: its own booking holds the slot now.
  auto seen = co_await store_.find_idempotency(caller->user_id, req.idempotency_key());
  if (!seen) co_return seen.error();
  std::optional<IdempotencyRecord> replay = std::move(*seen);
  if (!replay) {
    auto plan = co_await plan_booking(*caller, req.therapist_id(), req.client_id(), req.type_id());
    if (!plan) co_return plan.error();
    const auto t = now();
    auto booked = co_await store_.blocking(req.therapist_id(), *start - days(2), *start + days(2));
    if (!booked) co_return booked.error();
    if (auto s = check_slot(plan->availability.availability, plan->type.rules(), *booked, *start, t); !s)
      co_return s.error();

    Appointment a;
    a.id = new_id();
    a.practice_id = caller->practice_id;
    a.therapist_id = req.therapist_id();
    a.client_id = plan->client_id;
    a.type_id = plan->type.id;
    a.start = *start;
    a.end = *start + minutes(plan->type.duration_minutes);
    a.buffer_before_minutes = plan->type.buffer_before_minutes;
    a.buffer_after_minutes = plan->type.buffer_after_minutes;
    a.status = AppointmentStatus::kBooked;
    a.version = 1;
    a.created_by = a.updated_by = caller->user_id;
    a.created_unix_ms = a.updated_unix_ms = now_unix_ms();
    a.time_zone = plan->availability.availability.time_zone;
    a.type_name = plan->type.name;
    if (auto s = co_await place_appointment(store_, caller->practice_id, plan->type, asked, a); !s)
      co_return s.error();

    BookingRequest request;
    request.candidates.push_back(a);
    request.idempotency = IdempotencyRecord{caller->user_id, req.idempotency_key(), hash, a.id, "", ""};
    request.all_or_nothing = true;
    request.times = plan->times;
    auto outcome = co_await store_.book(std::move(request), caller->user_id);
    if (!outcome) co_return outcome.error();
    if (!outcome->replay) {
      changed();
      log::info("appointment booked", {{"appointment_id", a.id}, {"therapist_id", a.therapist_id},
                                       {"by", caller->user_id}});
      pb::AppointmentResponse resp;
      fill(*resp.mutable_appointment(), *outcome->booked.at(0), plan->times);
      co_await show_video_link(store_, *resp.mutable_appointment(), *outcome->booked.at(0), *caller);
      co_return resp;
    }
    replay = std::move(outcome->replay);  // a concurrent retry with the same key won
  }
  co_return co_await answer_replay(*replay, hash, *caller);
}

asio::awaitable<Result<pb::AppointmentResponse>> SchedulingService::answer_replay(const IdempotencyRecord& seen,
                                                                                  const std::string& request_hash,
                                                                                  const Caller& caller) {
  if (seen.request_hash != request_hash || seen.appointment_id.empty()) co_return idempotency_key_reused();
  auto existing = co_await store_.find_appointment(seen.appointment_id);
  if (!existing) co_return existing.error();
  if (!*existing) co_return make_error(Code::kInternal, "idempotency record without its appointment");
  const auto times = co_await client_times((*existing)->client_id);
  pb::AppointmentResponse resp;
  fill(*resp.mutable_appointment(), **existing, times);
  co_await show_video_link(store_, *resp.mutable_appointment(), **existing, caller);
  resp.set_replayed(true);
  co_return resp;
}

asio::awaitable<Result<pb::AppointmentResponse>> SchedulingService::get_appointment(
    const pb::GetAppointmentRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  auto a = co_await visible_appointment(*caller, req.appointment_id());
  if (!a) co_return a.error();
  const auto times = co_await client_times(a->client_id);
  pb::AppointmentResponse resp;
  fill(*resp.mutable_appointment(), *a, times);
  co_await show_video_link(store_, *resp.mutable_appointment(), *a, *caller);
  co_return resp;
}

asio::awaitable<Result<pb::AppointmentResponse>> SchedulingService::transition(const Caller& caller,
                                                                               const std::string& id,
                                                                               Decide decide, Appointment* saved,
                                                                               const IdempotencyRecord* key) {
  auto seen = co_await visible_appointment(caller, id);
  if (!seen) co_return seen.error();
  const auto times = co_await client_times(seen->client_id);
  IdempotencyRecord idem = key ? *key : IdempotencyRecord();
  auto next = co_await store_.modify(id, caller.user_id, std::move(decide), times, std::move(idem));
  if (!next) co_return next.error();
  pb::AppointmentResponse resp;
  fill(*resp.mutable_appointment(), next->appointment, times);
  if (next->replayed) {
    resp.set_replayed(true);
    co_return resp;
  }
  changed();
  if (saved) *saved = next->appointment;
  log::info("appointment changed", {{"appointment_id", id}, {"status", status_name(next->appointment.status)},
                                    {"version", next->appointment.version}, {"by", caller.user_id}});
  co_return resp;
}

namespace {

// The idempotency record of a change request with `key` (request_digest()); an
// empty record when it has no key.
Result<IdempotencyRecord> change_key(const Caller& caller, const std::string& key, std::string request_hash) {
  if (key.empty()) return IdempotencyRecord();
  if (auto s = validate_idempotency_key(key); !s) return s.error();
  return IdempotencyRecord{caller.user_id, key, std::move(request_hash), "", "", ""};
}

}  // namespace

asio::awaitable<Result<pb::AppointmentResponse>> SchedulingService::confirm_appointment(
    const pb::ConfirmAppointmentRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  auto key = change_key(*caller, req.idempotency_key(), request_digest("confirm", req));
  if (!key) co_return key.error();
  const std::int64_t expected = req.expected_version();
  Decide decide = [expected](const Appointment& a) -> Result<Change> {
    if (auto s = expect_version(a, expected); !s) return s.error();
    if (a.status != AppointmentStatus::kBooked)
      return precondition("status", "status: only a booked appointment can be confirmed (it is " +
                                        std::string(status_name(a.status)) + ")");
    Change c{a, "confirmed", std::nullopt};
    c.next.status = AppointmentStatus::kConfirmed;
    return c;
  };
  co_return co_await transition(*caller, req.appointment_id(), std::move(decide), nullptr, &*key);
}

namespace {

// The rule both single and series cancellation apply inside the transaction.
Decide cancel_rule(Caller caller, std::string reason, Instant now, minutes window, std::int64_t expected) {
  return [caller = std::move(caller), reason = std::move(reason), now, window,
          expected](const Appointment& a) -> Result<Change> {
    if (auto s = expect_version(a, expected); !s) return s.error();
    if (auto s = must_hold_time(a, "cancelled"); !s) return s.error();
    Change c{a, "cancelled", std::nullopt};
    c.next.status = AppointmentStatus::kCancelled;
    c.next.cancel_reason = reason;
    c.next.cancelled_by = caller.user_id;
    c.next.cancelled_unix_ms = now_unix_ms();
    // Only a client's own cancellation counts against the policy; staff are never blocked.
    c.next.late_cancellation = caller.role == Role::kClient && a.start - now < window;
    return c;
  };
}

Status may_change(const Caller& caller, const Appointment& a, std::string_view what) {
  (void)a;
  if (caller.role == Role::kClient && (what == "complete" || what == "no_show"))
    return denied("only the therapist or the front desk can record attendance");
  return {};
}

}  // namespace

asio::awaitable<Result<pb::AppointmentResponse>> SchedulingService::cancel_appointment(
    const pb::CancelAppointmentRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (auto s = validate_reason(req.reason()); !s) co_return s.error();
  auto key = change_key(*caller, req.idempotency_key(), request_digest("cancel", req));
  if (!key) co_return key.error();
  Decide decide = cancel_rule(*caller, req.reason(), now(), options_.cancellation_window, req.expected_version());
  Appointment cancelled;
  auto resp = co_await transition(*caller, req.appointment_id(), std::move(decide), &cancelled, &*key);
  if (resp && !resp->replayed()) slot_freed(cancelled);
  co_return resp;
}

asio::awaitable<Result<pb::AppointmentResponse>> SchedulingService::complete_appointment(
    const pb::CompleteAppointmentRequest& req, const Ctx& ctx) {
  // Named outside the co_await (g++ 12 double-frees temporaries with strings built inside one).
  Closing closing{"complete", "completed", "completed", AppointmentStatus::kCompleted,
                  req.idempotency_key(), request_digest("complete", req)};
  co_return co_await close_after_start(ctx, req.appointment_id(), req.expected_version(), std::move(closing));
}

asio::awaitable<Result<pb::AppointmentResponse>> SchedulingService::mark_no_show(const pb::MarkNoShowRequest& req,
                                                                                const Ctx& ctx) {
  Closing closing{"no_show", "no_show", "marked no-show", AppointmentStatus::kNoShow, req.idempotency_key(),
                  request_digest("no_show", req)};
  co_return co_await close_after_start(ctx, req.appointment_id(), req.expected_version(), std::move(closing));
}

// Completed and no-show share their rules: staff only, a held time, and only once it has started.
asio::awaitable<Result<pb::AppointmentResponse>> SchedulingService::close_after_start(
    const Ctx& ctx, const std::string& appointment_id, std::int64_t expected, Closing closing) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  auto key = change_key(*caller, closing.idempotency_key, closing.request_hash);
  if (!key) co_return key.error();
  auto seen = co_await visible_appointment(*caller, appointment_id);
  if (!seen) co_return seen.error();
  if (auto s = may_change(*caller, *seen, closing.permission); !s) co_return s.error();
  const auto t = now();
  Decide decide = [t, expected, closing](const Appointment& a) -> Result<Change> {
    if (auto s = expect_version(a, expected); !s) return s.error();
    if (auto s = must_hold_time(a, closing.verb); !s) return s.error();
    if (t < a.start) return precondition("status", "status: the appointment has not started yet");
    Change c{a, closing.history_action, std::nullopt};
    c.next.status = closing.status;
    return c;
  };
  co_return co_await transition(*caller, appointment_id, std::move(decide), nullptr, &*key);
}

asio::awaitable<Result<pb::AppointmentResponse>> SchedulingService::reschedule_appointment(
    const pb::RescheduleAppointmentRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  auto key = change_key(*caller, req.idempotency_key(), request_digest("reschedule", req));
  if (!key) co_return key.error();
  if (!key->key.empty()) {
    // A retry is answered from its key before the move is checked again: the
    // appointment is at its new time already.
    auto seen_key = co_await store_.find_idempotency(key->caller_id, key->key);
    if (!seen_key) co_return seen_key.error();
    if (*seen_key) co_return co_await answer_replay(**seen_key, key->request_hash, *caller);
  }
  auto seen = co_await visible_appointment(*caller, req.appointment_id());
  if (!seen) co_return seen.error();
  auto start = parse_instant(req.new_start_time(), "new_start_time");
  if (!start) co_return start.error();
  if (auto s = must_hold_time(*seen, "rescheduled"); !s) co_return s.error();
  auto type = co_await store_.find_type(seen->type_id);
  if (!type) co_return type.error();
  if (!*type) co_return make_error(Code::kInternal, "appointment type missing");
  if (caller->role == Role::kClient && !(*type)->client_self_booking)
    co_return denied("clients cannot move this appointment type themselves; ask the front desk");
  auto a = co_await store_.find_availability(seen->therapist_id);
  if (!a) co_return a.error();
  if (!*a) co_return precondition("therapist_id", "therapist_id: the therapist has no availability set");
  auto booked = co_await store_.blocking(seen->therapist_id, *start - days(2), *start + days(2), seen->id);
  if (!booked) co_return booked.error();
  auto rules = (*type)->rules();
  rules.duration = std::chrono::duration_cast<minutes>(seen->end - seen->start);
  rules.buffer_before = minutes(seen->buffer_before_minutes);
  rules.buffer_after = minutes(seen->buffer_after_minutes);
  if (auto s = check_slot((*a)->availability, rules, *booked, *start, now()); !s) {
    Error e = s.error();
    if (e.field == "start_time") {
      e.field = "new_start_time";
      if (e.message.rfind("start_time", 0) == 0) e.message = "new_" + e.message;
    }
    co_return e;
  }
  const std::int64_t expected = req.expected_version() != 0 ? req.expected_version() : seen->version;
  const Instant new_start = *start;
  Decide decide = [expected, new_start](const Appointment& cur) -> Result<Change> {
    if (cur.version != expected)
      return precondition("expected_version", "expected_version: the appointment has changed (now version " +
                                                  std::to_string(cur.version) + "); reload it");
    if (auto s = must_hold_time(cur, "rescheduled"); !s) return s.error();
    Change c{cur, "rescheduled", cur.start};
    c.next.end = new_start + (cur.end - cur.start);
    c.next.start = new_start;
    c.next.status = AppointmentStatus::kBooked;  // a new time needs a new confirmation
    return c;
  };
  const auto times = co_await client_times(seen->client_id);
  auto next = co_await store_.modify(seen->id, caller->user_id, std::move(decide), times, std::move(*key));
  if (!next) {
    Error e = std::move(next).error();
    if (e.field == "start_time") {
      e.field = "new_start_time";
      e.message = "new_" + e.message;
    }
    co_return e;
  }
  pb::AppointmentResponse resp;
  fill(*resp.mutable_appointment(), next->appointment, times);
  if (next->replayed) {  // a concurrent retry with the same key won
    resp.set_replayed(true);
    co_return resp;
  }
  changed();
  slot_freed(*seen);  // the old time (the version check above pinned it)
  log::info("appointment rescheduled", {{"appointment_id", next->appointment.id},
                                        {"version", next->appointment.version}, {"by", caller->user_id}});
  co_return resp;
}

asio::awaitable<Result<pb::ListAppointmentsResponse>> SchedulingService::list_appointments(
    const pb::ListAppointmentsRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  AppointmentQuery q;
  q.practice_id = caller->practice_id;
  q.limit = kMaxListed;
  const auto t = now();
  if (req.from().empty()) {
    q.from = t;
  } else {
    auto from = parse_instant(req.from(), "from");
    if (!from) co_return from.error();
    q.from = *from;
  }
  if (req.to().empty()) {
    q.to = q.from + days(90);
  } else {
    auto to = parse_instant(req.to(), "to");
    if (!to) co_return to.error();
    q.to = *to;
  }
  if (q.to <= q.from) co_return invalid_argument("to", "to: must be after from");
  if (q.to - q.from > kMaxListRange) co_return invalid_argument("to", "to: range longer than 366 days");
  if (!req.status().empty()) {
    q.status = parse_status(req.status());
    if (!q.status)
      co_return invalid_argument("status",
                                 "status: must be booked, confirmed, cancelled, completed or no_show");
  }
  if (!req.therapist_id().empty()) q.therapist_id = req.therapist_id();
  if (!req.client_id().empty()) q.client_id = req.client_id();
  pb::ListAppointmentsResponse resp;
  // Scope to what the caller may see; a filter for someone else's calendar matches nothing.
  if (caller->role == Role::kClient) {
    if (q.client_id && *q.client_id != caller->user_id) co_return resp;
    q.client_id = caller->user_id;
  } else if (caller->role == Role::kTherapist) {
    if (q.therapist_id && *q.therapist_id != caller->user_id) co_return resp;
    q.therapist_id = caller->user_id;
  }
  auto rows = co_await store_.list_appointments(std::move(q));
  if (!rows) co_return rows.error();
  // One directory question per distinct client (mostly cache hits), not per row.
  std::map<std::string, ClientTimes, std::less<>> times;
  for (std::size_t i = 0; i < rows->size() && i < static_cast<std::size_t>(kMaxListed); ++i) {
    const auto& a = (*rows)[i];
    auto known = times.find(a.client_id);
    if (known == times.end()) {
      auto fetched = co_await client_times(a.client_id);
      known = times.emplace(a.client_id, std::move(fetched)).first;
    }
    fill(*resp.add_appointments(), a, known->second);
  }
  resp.set_truncated(rows->size() > static_cast<std::size_t>(kMaxListed));
  co_return resp;
}

// ------------------------------------------------------------------ series

asio::awaitable<Result<pb::BookSeriesResponse>> SchedulingService::book_series(const pb::BookSeriesRequest& req,
                                                                              const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (auto s = validate_idempotency_key(req.idempotency_key()); !s) co_return s.error();
  auto first = parse_instant(req.first_start_time(), "first_start_time");
  if (!first) co_return first.error();
  if (req.interval_weeks() != 1 && req.interval_weeks() != 2)
    co_return invalid_argument("interval_weeks", "interval_weeks: must be 1 or 2");
  if (req.count() < 1 || req.count() > 52) co_return invalid_argument("count", "count: must be between 1 and 52");
  const std::string on_conflict = req.on_conflict().empty() ? "skip" : req.on_conflict();
  if (on_conflict != "skip" && on_conflict != "reject")
    co_return invalid_argument("on_conflict", "on_conflict: must be \"skip\" or \"reject\"");
  auto client_for_hash = resolve_client(*caller, req.client_id());
  if (!client_for_hash) co_return client_for_hash.error();
  const Placement asked = placement_of(req);
  const std::string hash = canonical_request("series", req.therapist_id(), *client_for_hash, req.type_id(), *first,
                                             req.interval_weeks(), req.count(), on_conflict + placement_digest(asked));
  auto replay_of = [&](const IdempotencyRecord& r) -> Result<pb::BookSeriesResponse> {
    if (r.request_hash != hash || r.series_id.empty())
      return idempotency_key_reused();
    pb::BookSeriesResponse resp;
    if (!resp.ParseFromString(r.response)) return make_error(Code::kInternal, "stored series answer unreadable");
    resp.set_replayed(true);
    return resp;
  };
  auto seen = co_await store_.find_idempotency(caller->user_id, req.idempotency_key());
  if (!seen) co_return seen.error();
  if (*seen) {
    auto replayed = replay_of(**seen);
    if (replayed) co_await show_video_links(store_, *replayed, *caller);
    co_return replayed;
  }

  auto plan = co_await plan_booking(*caller, req.therapist_id(), req.client_id(), req.type_id());
  if (!plan) co_return plan.error();
  const auto& avail = plan->availability.availability;
  const ClientTimes times = plan->times;
  auto starts = series_starts(avail.time_zone, *first, req.interval_weeks(), req.count());
  if (!starts) co_return starts.error();
  auto booked = co_await store_.blocking(req.therapist_id(), starts->front() - days(2), starts->back() + days(2));
  if (!booked) co_return booked.error();

  const auto t = now();
  const auto rules = plan->type.rules();
  const std::string series_id = new_id();
  auto zone = find_time_zone(avail.time_zone);
  if (!zone) co_return zone.error();
  // Every occurrence happens where the request says, else where the type's sessions do;
  // the store skips (or, with "reject", refuses) an occurrence whose room is taken.
  Appointment place;
  if (auto s = co_await place_appointment(store_, caller->practice_id, plan->type, asked, place); !s)
    co_return s.error();
  // Pre-check every occurrence against the stored appointments and the ones
  // accepted before it; the store re-checks them all inside its transaction.
  std::vector<std::string> reasons(starts->size());
  std::vector<Appointment> candidates;
  std::vector<int> candidate_index;
  for (std::size_t i = 0; i < starts->size(); ++i) {
    auto ok = check_slot(avail, rules, *booked, (*starts)[i], t);
    if (!ok) {
      reasons[i] = occurrence_reason(ok.error());
      if (on_conflict == "reject")
        co_return Error{ok.error().code,
                        "occurrence " + std::to_string(i + 1) + " (" + format_local_minutes(*zone, (*starts)[i]) +
                            "): " + ok.error().message,
                        "first_start_time"};
      continue;
    }
    Appointment a;
    a.id = new_id();
    a.practice_id = caller->practice_id;
    a.therapist_id = req.therapist_id();
    a.client_id = plan->client_id;
    a.type_id = plan->type.id;
    a.start = (*starts)[i];
    a.end = a.start + minutes(plan->type.duration_minutes);
    a.buffer_before_minutes = plan->type.buffer_before_minutes;
    a.buffer_after_minutes = plan->type.buffer_after_minutes;
    a.version = 1;
    a.series_id = series_id;
    a.created_by = a.updated_by = caller->user_id;
    a.created_unix_ms = a.updated_unix_ms = now_unix_ms();
    a.time_zone = avail.time_zone;
    a.type_name = plan->type.name;
    a.modality = place.modality;
    a.location_id = place.location_id;
    a.location_name = place.location_name;
    a.location_address = place.location_address;
    a.room = place.room;
    a.video_link = place.video_link;
    booked->push_back(a.as_booked());
    candidates.push_back(std::move(a));
    candidate_index.push_back(static_cast<int>(i));
  }
  if (candidates.empty())
    co_return Error{Code::kAlreadyExists, "first_start_time: no occurrence of the series is free (first: " +
                                              reasons.front() + ")",
                    "first_start_time"};

  // Builds the answer (stored with the idempotency key) from the transaction's outcome.
  auto all_starts = *starts;
  auto encode = [series_id, all_starts, reasons, candidate_index, z = *zone,
                 times](const BookingOutcome& outcome) -> std::string {
    pb::BookSeriesResponse resp;
    resp.set_series_id(series_id);
    std::vector<const Appointment*> by_index(all_starts.size(), nullptr);
    std::vector<std::string> why = reasons;
    const auto& saved = outcome.booked;
    for (std::size_t k = 0; k < saved.size(); ++k) {
      const auto i = static_cast<std::size_t>(candidate_index[k]);
      if (saved[k]) by_index[i] = &*saved[k];
      else if (k < outcome.skipped_because.size()) why[i] = outcome.skipped_because[k];
    }
    int booked_count = 0;
    for (std::size_t i = 0; i < all_starts.size(); ++i) {
      auto* o = resp.add_occurrences();
      o->set_index(static_cast<int>(i));
      o->set_start_time(format_instant(all_starts[i]));
      o->set_local_start(format_local_minutes(z, all_starts[i]));
      if (by_index[i]) {
        o->set_outcome("booked");
        fill(*o->mutable_appointment(), *by_index[i], times);
        ++booked_count;
      } else {
        o->set_outcome("skipped");
        o->set_reason(why[i].empty() ? std::string(kOverlapMessage) : why[i]);
      }
    }
    resp.set_booked(booked_count);
    resp.set_skipped(static_cast<int>(all_starts.size()) - booked_count);
    return resp.SerializeAsString();
  };
  BookingRequest request;
  request.candidates = std::move(candidates);
  request.idempotency = IdempotencyRecord{caller->user_id, req.idempotency_key(), hash, "", series_id, ""};
  request.all_or_nothing = on_conflict == "reject";
  request.encode_response = std::move(encode);
  request.times = times;
  auto outcome = co_await store_.book(std::move(request), caller->user_id);
  if (!outcome) {
    Error e = std::move(outcome).error();
    if (e.field == "start_time") e.field = "first_start_time";
    co_return e;
  }
  if (outcome->replay) co_return replay_of(*outcome->replay);
  changed();
  // The stored answer is the one a retry gets; answer the same now.
  auto stored = co_await store_.find_idempotency(caller->user_id, req.idempotency_key());
  if (!stored) co_return stored.error();
  if (!*stored) co_return make_error(Code::kInternal, "series answer missing");
  auto resp = replay_of(**stored);
  if (!resp) co_return resp;
  resp->set_replayed(false);
  co_await show_video_links(store_, *resp, *caller);
  log::info("series booked", {{"series_id", series_id}, {"booked", resp->booked()}, {"by", caller->user_id}});
  co_return resp;
}

asio::awaitable<Result<pb::CancelSeriesResponse>> SchedulingService::cancel_series(
    const pb::CancelSeriesRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (auto s = require_id(req.series_id(), "series_id"); !s) co_return s.error();
  if (auto s = validate_reason(req.reason()); !s) co_return s.error();
  auto rows = co_await store_.series_appointments(req.series_id());
  if (!rows) co_return rows.error();
  if (rows->empty() || !may_see(*caller, rows->front()))
    co_return not_found("series_id", "series_id: no such series");
  const auto t = now();
  Instant from = t;
  if (!req.from_appointment_id().empty()) {
    auto it = std::find_if(rows->begin(), rows->end(),
                           [&](const Appointment& a) { return a.id == req.from_appointment_id(); });
    if (it == rows->end())
      co_return not_found("from_appointment_id", "from_appointment_id: not an occurrence of this series");
    from = it->start;
  }
  Decide decide = cancel_rule(*caller, req.reason(), t, options_.cancellation_window, 0);
  // Every occurrence of a series has the same client.
  const auto times = co_await client_times(rows->front().client_id);
  auto cancelled =
      co_await store_.modify_series(req.series_id(), from, caller->user_id, std::move(decide), times);
  if (!cancelled) co_return cancelled.error();
  if (!cancelled->empty()) changed();
  for (const auto& a : *cancelled) slot_freed(a);
  log::info("series cancelled", {{"series_id", req.series_id()},
                                 {"cancelled", static_cast<std::int64_t>(cancelled->size())},
                                 {"by", caller->user_id}});
  pb::CancelSeriesResponse resp;
  resp.set_series_id(req.series_id());
  for (const auto& a : *cancelled) fill(*resp.add_cancelled(), a, times);
  co_return resp;
}


namespace {

// Where a series occurrence starting at `old_start` goes when the series' first
// moved occurrence goes from `first_old` to `first_new`: the new first's local wall
// time, on the occurrence's local date shifted by the first's local day shift. The
// same policy as series_starts for times a DST change makes odd: a nonexistent
// wall time moves forward by the gap, an ambiguous one takes the earlier instant.
Instant follow_rhythm(const date::time_zone* zone, Instant first_old, Instant first_new, Instant old_start) {
  if (old_start == first_old) return first_new;
  const auto old_first_local = zone->to_local(first_old);
  const auto new_first_local = zone->to_local(first_new);
  const auto new_first_day = date::floor<date::days>(new_first_local);
  const auto shift = new_first_day - date::floor<date::days>(old_first_local);
  const auto wall = new_first_local - new_first_day;
  const date::local_seconds local = date::floor<date::days>(zone->to_local(old_start)) + shift + wall;
  const date::local_info info = zone->get_info(local);
  return Instant{local.time_since_epoch() - info.first.offset};
}

// A check_slot failure about start_time, said about new_start_time.
Error about_new_start(Error e) {
  if (e.field == "start_time") {
    e.field = "new_start_time";
    if (e.message.rfind("start_time", 0) == 0) e.message = "new_" + e.message;
  }
  return e;
}

}  // namespace

asio::awaitable<Result<pb::RescheduleSeriesResponse>> SchedulingService::reschedule_series(
    const pb::RescheduleSeriesRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (auto s = require_id(req.series_id(), "series_id"); !s) co_return s.error();
  if (auto s = require_id(req.from_appointment_id(), "from_appointment_id"); !s) co_return s.error();
  auto first_new = parse_instant(req.new_start_time(), "new_start_time");
  if (!first_new) co_return first_new.error();
  const std::string on_conflict = req.on_conflict().empty() ? "reject" : req.on_conflict();
  if (on_conflict != "skip" && on_conflict != "reject")
    co_return invalid_argument("on_conflict", "on_conflict: must be \"reject\" or \"skip\"");
  if (auto s = validate_idempotency_key(req.idempotency_key(), true); !s) co_return s.error();
  const std::string hash = request_digest("reschedule_series", req);
  auto replay_of = [&hash](const IdempotencyRecord& r) -> Result<pb::RescheduleSeriesResponse> {
    if (r.request_hash != hash || r.series_id.empty()) return idempotency_key_reused();
    pb::RescheduleSeriesResponse resp;
    if (!resp.ParseFromString(r.response)) return make_error(Code::kInternal, "stored series answer unreadable");
    resp.set_replayed(true);
    return resp;
  };
  if (!req.idempotency_key().empty()) {
    auto seen = co_await store_.find_idempotency(caller->user_id, req.idempotency_key());
    if (!seen) co_return seen.error();
    if (*seen) co_return replay_of(**seen);
  }

  auto rows = co_await store_.series_appointments(req.series_id());
  if (!rows) co_return rows.error();
  // Every occurrence shares practice, therapist and client: one visibility answer.
  if (rows->empty() || !may_see(*caller, rows->front()))
    co_return not_found("series_id", "series_id: no such series");
  auto from = std::find_if(rows->begin(), rows->end(),
                           [&](const Appointment& a) { return a.id == req.from_appointment_id(); });
  if (from == rows->end())
    co_return not_found("from_appointment_id", "from_appointment_id: not an occurrence of this series");
  const auto t = now();
  if (!holds_time(from->status))
    co_return precondition("from_appointment_id", "from_appointment_id: a " +
                                                      std::string(status_name(from->status)) +
                                                      " occurrence cannot be moved");
  if (from->start <= t)
    co_return precondition("from_appointment_id", "from_appointment_id: this occurrence has already started");
  const Instant first_old = from->start;
  std::vector<Appointment> movers;
  for (const auto& a : *rows)
    if (a.start >= first_old && a.start > t && holds_time(a.status)) movers.push_back(a);

  auto type = co_await store_.find_type(from->type_id);
  if (!type) co_return type.error();
  if (!*type) co_return make_error(Code::kInternal, "appointment type missing");
  if (caller->role == Role::kClient && !(*type)->client_self_booking)
    co_return denied("clients cannot move this appointment type themselves; ask the front desk");
  auto avail = co_await store_.find_availability(from->therapist_id);
  if (!avail) co_return avail.error();
  if (!*avail) co_return precondition("therapist_id", "therapist_id: the therapist has no availability set");
  const auto& availability = (*avail)->availability;
  auto zone = find_time_zone(availability.time_zone);
  if (!zone) co_return zone.error();

  std::vector<Instant> targets;
  for (const auto& a : movers) targets.push_back(follow_rhythm(*zone, first_old, *first_new, a.start));
  const auto [lo, hi] = std::minmax_element(targets.begin(), targets.end());
  auto blocking = co_await store_.blocking(from->therapist_id, *lo - days(2), *hi + days(2), {}, from->client_id);
  if (!blocking) co_return blocking.error();
  // The others: everything but the moving occurrences (no two rows of a therapist
  // share a time, so start and end name a row).
  std::vector<Booked> others = std::move(*blocking);
  for (const auto& m : movers) {
    auto it = std::find_if(others.begin(), others.end(),
                           [&](const Booked& b) { return b.start == m.start && b.end == m.end; });
    if (it != others.end()) others.erase(it);
  }

  // Check each occurrence against the others, the ones kept where they are and
  // the new times of the ones accepted before it; skipping one puts its old time
  // back on the calendar, so repeat until nothing more is skipped.
  std::vector<std::string> reasons(movers.size());
  std::vector<bool> skipped(movers.size(), false);
  for (bool again = true; again;) {
    again = false;
    std::vector<Booked> taken = others;
    for (std::size_t i = 0; i < movers.size(); ++i)
      if (skipped[i]) taken.push_back(movers[i].as_booked());
    for (std::size_t i = 0; i < movers.size(); ++i) {
      if (skipped[i]) continue;
      const auto& m = movers[i];
      auto rules = (*type)->rules();
      rules.duration = std::chrono::duration_cast<minutes>(m.end - m.start);
      rules.buffer_before = minutes(m.buffer_before_minutes);
      rules.buffer_after = minutes(m.buffer_after_minutes);
      if (auto ok = check_slot(availability, rules, taken, targets[i], t); !ok) {
        Error e = about_new_start(ok.error());
        if (on_conflict == "reject")
          co_return Error{e.code,
                          "occurrence of " + format_local_minutes(*zone, m.start) + " moving to " +
                              format_local_minutes(*zone, targets[i]) + ": " + e.message,
                          "new_start_time"};
        reasons[i] = e.message;
        skipped[i] = true;
        again = true;
        continue;
      }
      Appointment moved = m;
      moved.end = targets[i] + (m.end - m.start);
      moved.start = targets[i];
      taken.push_back(moved.as_booked());
    }
  }
  std::vector<Move> moves;
  for (std::size_t i = 0; i < movers.size(); ++i)
    if (!skipped[i]) moves.push_back(Move{movers[i].id, targets[i], movers[i].version});
  if (moves.empty())
    co_return Error{Code::kAlreadyExists,
                    "new_start_time: no occurrence of the series can be moved (first: " + reasons.front() + ")",
                    "new_start_time"};

  const auto times = co_await client_times(from->client_id);
  // The answer, from the moved rows (earliest first, as `moves`); stored with the key.
  auto answer = [series_id = req.series_id(), movers, targets, skipped, reasons, z = *zone,
                 times](const std::vector<Appointment>& saved) {
    pb::RescheduleSeriesResponse resp;
    resp.set_series_id(series_id);
    std::size_t next_saved = 0;
    for (std::size_t i = 0; i < movers.size(); ++i) {
      auto* o = resp.add_occurrences();
      o->set_appointment_id(movers[i].id);
      o->set_previous_start_time(format_instant(movers[i].start));
      o->set_new_start_time(format_instant(targets[i]));
      o->set_local_start(format_local_minutes(z, targets[i]));
      if (skipped[i]) {
        o->set_outcome("skipped");
        o->set_reason(reasons[i]);
        fill(*o->mutable_appointment(), movers[i], times);
      } else {
        o->set_outcome("moved");
        fill(*o->mutable_appointment(), saved.at(next_saved++), times);
      }
    }
    resp.set_moved(static_cast<int>(next_saved));
    resp.set_skipped(static_cast<int>(movers.size() - next_saved));
    return resp;
  };
  IdempotencyRecord idem{caller->user_id, req.idempotency_key(), hash, "", req.series_id(), ""};
  auto encode = [answer](const std::vector<Appointment>& saved) { return answer(saved).SerializeAsString(); };
  auto saved = co_await store_.move_appointments(std::move(moves), caller->user_id, times, std::move(idem),
                                                 std::move(encode));
  if (!saved) co_return about_new_start(std::move(saved).error());
  if (saved->replay) co_return replay_of(*saved->replay);
  changed();
  for (std::size_t i = 0; i < movers.size(); ++i)
    if (!skipped[i]) slot_freed(movers[i]);  // the old times (the version check pinned them)

  auto resp = answer(saved->moved);
  log::info("series rescheduled", {{"series_id", req.series_id()},
                                   {"moved", static_cast<std::int64_t>(resp.moved())},
                                   {"by", caller->user_id}});
  co_return resp;
}

// ------------------------------------------------------------------ event feed

asio::awaitable<Result<pb::ListEventsSinceResponse>> SchedulingService::list_events_since(
    const pb::ListEventsSinceRequest& req, const Ctx&) {
  // Services call this as themselves (no Caller); which may is the RPC table's rule.
  if (req.after_seq() < 0) co_return invalid_argument("after_seq", "after_seq: must be 0 or more");
  const int limit = req.limit() == 0 ? kDefaultEventPage : req.limit();
  if (limit < 1 || limit > kMaxEventPage)
    co_return invalid_argument("limit", "limit: must be between 1 and " + std::to_string(kMaxEventPage) +
                                            " (0 = " + std::to_string(kDefaultEventPage) + ")");
  auto page = co_await store_.events_since(req.after_seq(), limit);
  if (!page) co_return page.error();
  pb::ListEventsSinceResponse resp;
  resp.set_last_seq(page->last_seq);
  resp.set_oldest_seq(page->oldest_seq);
  for (const auto& e : page->events) {
    auto* out = resp.add_events();
    out->set_seq(e.seq);
    if (!out->mutable_event()->ParseFromString(e.payload)) {
      log::error("outbox event unreadable", {{"seq", e.seq}, {"event_id", e.event_id}});
      co_return make_error(Code::kInternal, "an event in the outbox could not be read");
    }
  }
  co_return resp;
}

}  // namespace alliance::scheduling
