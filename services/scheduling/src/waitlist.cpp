#include "waitlist.hpp"

#include <algorithm>
#include <map>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/redis/client.hpp"
#include "alliance/redis/push.hpp"
#include "handler_common.hpp"
#include "locations.hpp"

namespace alliance::scheduling {
namespace {

using std::chrono::days;
using std::chrono::minutes;

constexpr int kMaxWindows = 20;
constexpr days kMaxWaitRange{366};

Error entry_not_found() { return Error{Code::kNotFound, "entry_id: no such waitlist entry", "entry_id"}; }
Error offer_not_found() { return Error{Code::kNotFound, "offer_id: no such offer", "offer_id"}; }

// The answer stored with a join's key, marked as a replay.
Result<pb::WaitlistEntryResponse> replay_of(const IdempotencyRecord& seen) {
  pb::WaitlistEntryResponse resp;
  if (!resp.ParseFromString(seen.response))
    return idempotency_key_reused();
  resp.set_replayed(true);
  return resp;
}

bool may_see_entry(const Caller& caller, const WaitlistEntry& e) {
  if (caller.practice_id != e.practice_id) return false;
  switch (caller.role) {
    case Role::kAdmin:
    case Role::kFrontDesk: return true;
    case Role::kTherapist: return e.therapist_id == caller.user_id;
    case Role::kClient: return e.client_id == caller.user_id;
  }
  return false;
}

// Answering an offer: its client or the practice's staff.
bool may_answer(const Caller& caller, const WaitlistOffer& o) {
  if (caller.practice_id != o.practice_id) return false;
  return caller.is_staff() || (caller.role == Role::kClient && o.client_id == caller.user_id);
}

FreedSlot freed_by(const WaitlistOffer& o) { return FreedSlot{o.practice_id, o.therapist_id, o.start, o.end}; }

std::string format_ms(std::int64_t unix_ms) { return format_instant(from_unix(unix_ms / 1000)); }

}  // namespace

void fill(pb::WaitlistOffer& out, const WaitlistOffer& o) {
  out.set_id(o.id);
  out.set_entry_id(o.entry_id);
  out.set_client_id(o.client_id);
  out.set_therapist_id(o.therapist_id);
  out.set_type_id(o.type_id);
  out.set_type_name(o.type_name);
  out.set_start_time(format_instant(o.start));
  out.set_end_time(format_instant(o.end));
  if (auto zone = find_time_zone(o.time_zone)) {
    out.set_local_start(format_local_minutes(*zone, o.start));
    out.set_utc_offset_minutes(utc_offset_minutes(*zone, o.start));
  }
  out.set_time_zone(o.time_zone);
  out.set_hold_expires_at(format_ms(o.hold_expires_unix_ms));
  out.set_status(o.status);
  out.set_appointment_id(o.appointment_id);
}

void fill(pb::WaitlistEntry& out, const WaitlistEntry& e) {
  out.set_id(e.id);
  out.set_practice_id(e.practice_id);
  out.set_therapist_id(e.therapist_id);
  out.set_client_id(e.client_id);
  out.set_type_id(e.type_id);
  out.set_from_date(format_date(e.first_date));
  out.set_to_date(format_date(e.last_date));
  for (const auto& w : e.preferred) {
    auto* pw = out.add_preferred();
    for (int d : w.weekdays) pw->add_weekdays(d);
    pw->set_start(format_local_time(w.start_minute));
    pw->set_end(format_local_time(w.end_minute));
  }
  out.set_status(e.status);
  out.set_created_by(e.created_by);
  out.set_created_unix_ms(e.created_unix_ms);
}

Waitlist::Waitlist(asio::any_io_executor ex, SchedulingStore& store, UserDirectory& directory, redis::Client* redis,
                   WaitlistOptions options, std::function<void()> changed)
    : ex_(ex),
      store_(store),
      directory_(directory),
      redis_(redis),
      options_(std::move(options)),
      changed_(std::move(changed)),
      timer_(ex) {}

Instant Waitlist::now() const { return options_.clock ? options_.clock() : now_instant(); }

// ------------------------------------------------------------------ entries

asio::awaitable<Result<pb::WaitlistEntryResponse>> Waitlist::join(const pb::JoinWaitlistRequest& req,
                                                                  const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  std::string client_id = req.client_id();
  if (caller->role == Role::kClient) {
    if (!client_id.empty() && client_id != caller->user_id)
      co_return Error{Code::kPermissionDenied, "client_id: a client can only join for themself", "client_id"};
    client_id = caller->user_id;
  } else if (!caller->is_staff()) {
    co_return Error{Code::kPermissionDenied, "only a client or the front desk can join a waitlist", {}};
  } else if (client_id.empty()) {
    co_return invalid_argument("client_id", "client_id: is required");
  }
  const bool keyed = !req.idempotency_key().empty();
  pb::JoinWaitlistRequest as_meant = req;  // the key is bound to the client resolved
  as_meant.set_client_id(client_id);
  const std::string hash = keyed ? request_digest("join", std::move(as_meant)) : std::string();
  if (keyed) {
    if (auto s = validate_idempotency_key(req.idempotency_key()); !s) co_return s.error();
    // A retry is answered from its key before anything is checked again.
    auto seen = co_await store_.find_idempotency(caller->user_id, req.idempotency_key());
    if (!seen) co_return seen.error();
    if (*seen) {
      if ((*seen)->request_hash != hash)
        co_return idempotency_key_reused();
      co_return replay_of(**seen);
    }
  }
  using Field = std::pair<const std::string*, const char*>;
  for (auto [value, field] : {Field{&req.therapist_id(), "therapist_id"}, Field{&req.type_id(), "type_id"},
                              Field{&client_id, "client_id"}}) {
    if (value->empty()) co_return invalid_argument(field, std::string(field) + ": is required");
    if (value->size() > 64) co_return invalid_argument(field, std::string(field) + ": too long");
  }
  auto first = parse_date(req.from_date(), "from_date");
  if (!first) co_return first.error();
  auto last = parse_date(req.to_date(), "to_date");
  if (!last) co_return last.error();
  const auto today = date::floor<days>(now());
  if (date::sys_days(*last) < date::sys_days(*first))
    co_return invalid_argument("to_date", "to_date: must not be before from_date");
  if (date::sys_days(*last) - date::sys_days(*first) > kMaxWaitRange)
    co_return invalid_argument("to_date", "to_date: at most 366 days after from_date");
  if (date::sys_days(*last) < today - days(1)) co_return invalid_argument("to_date", "to_date: is in the past");
  if (date::sys_days(*first) > today + days(2 * 366))
    co_return invalid_argument("from_date", "from_date: too far in the future");
  if (req.preferred_size() > kMaxWindows) co_return invalid_argument("preferred", "preferred: at most 20 windows");
  WaitlistEntry e;
  for (int i = 0; i < req.preferred_size(); ++i) {
    const auto& w = req.preferred(i);
    const std::string prefix = "preferred[" + std::to_string(i) + "]";
    WaitlistWindow window;
    for (int d : w.weekdays()) {
      if (d < 0 || d > 6)
        co_return invalid_argument(prefix + ".weekdays", prefix + ".weekdays: must be 0 (Sunday) to 6 (Saturday)");
      if (std::find(window.weekdays.begin(), window.weekdays.end(), d) == window.weekdays.end())
        window.weekdays.push_back(d);
    }
    auto s = parse_local_time(w.start(), prefix + ".start");
    if (!s) co_return s.error();
    auto en = parse_local_time(w.end(), prefix + ".end");
    if (!en) co_return en.error();
    if (*en <= *s) co_return invalid_argument(prefix + ".end", prefix + ".end: must be after start");
    window.start_minute = *s;
    window.end_minute = *en;
    e.preferred.push_back(std::move(window));
  }

  auto type = co_await store_.find_type(req.type_id());
  if (!type) co_return type.error();
  if (!*type || (*type)->practice_id != caller->practice_id)
    co_return Error{Code::kNotFound, "type_id: no such appointment type", "type_id"};
  auto avail = co_await store_.find_availability(req.therapist_id());
  if (!avail) co_return avail.error();
  if (!*avail || (*avail)->practice_id != caller->practice_id)
    co_return Error{Code::kNotFound, "therapist_id: no such therapist, or no availability set", "therapist_id"};
  if (caller->role == Role::kClient) {
    auto member = co_await directory_.on_care_team(client_id, req.therapist_id());
    if (!member) co_return member.error();
    if (!*member)
      co_return Error{Code::kPermissionDenied, "therapist_id: this therapist is not on your care team",
                      "therapist_id"};
  } else {
    auto client = co_await directory_.find_user(client_id);
    if (!client) co_return client.error();
    if (!*client || (*client)->practice_id != caller->practice_id || (*client)->role != Role::kClient)
      co_return Error{Code::kNotFound, "client_id: no such client", "client_id"};
    if ((*client)->deactivated) co_return client_deactivated();
  }
  e.id = new_id();
  e.practice_id = caller->practice_id;
  e.therapist_id = req.therapist_id();
  e.client_id = client_id;
  e.type_id = req.type_id();
  e.first_date = *first;
  e.last_date = *last;
  e.status = "waiting";
  e.created_by = caller->user_id;
  e.created_unix_ms = now_unix_ms();
  pb::WaitlistEntryResponse resp;
  fill(*resp.mutable_entry(), e);
  IdempotencyRecord idem;
  if (keyed) idem = IdempotencyRecord{caller->user_id, req.idempotency_key(), hash, "", "", resp.SerializeAsString()};
  auto saved = co_await store_.insert_waitlist_entry(e, std::move(idem));
  if (!saved) co_return saved.error();
  if (*saved) co_return replay_of(**saved);  // a concurrent retry with the same key won
  log::info("waitlist joined", {{"entry_id", e.id}, {"therapist_id", e.therapist_id}, {"by", caller->user_id}});
  co_return resp;
}

asio::awaitable<Result<pb::ListWaitlistResponse>> Waitlist::list(const pb::ListWaitlistRequest& req,
                                                                 const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  std::optional<std::string> therapist, client;
  if (!req.therapist_id().empty()) therapist = req.therapist_id();
  if (!req.client_id().empty()) client = req.client_id();
  pb::ListWaitlistResponse resp;
  // Scope to what the caller may see; a filter for someone else matches nothing.
  if (caller->role == Role::kClient) {
    if (client && *client != caller->user_id) co_return resp;
    client = caller->user_id;
  } else if (caller->role == Role::kTherapist) {
    if (therapist && *therapist != caller->user_id) co_return resp;
    therapist = caller->user_id;
  }
  auto rows = co_await store_.list_waitlist(caller->practice_id, therapist, client);
  if (!rows) co_return rows.error();
  for (const auto& e : *rows) fill(*resp.add_entries(), e);
  co_return resp;
}

asio::awaitable<Result<pb::WaitlistEntryResponse>> Waitlist::leave(const pb::LeaveWaitlistRequest& req,
                                                                   const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (req.entry_id().empty()) co_return invalid_argument("entry_id", "entry_id: is required");
  auto entry = co_await store_.find_waitlist_entry(req.entry_id());
  if (!entry) co_return entry.error();
  if (!*entry || !may_see_entry(*caller, **entry)) co_return entry_not_found();
  if (caller->role == Role::kTherapist)
    co_return Error{Code::kPermissionDenied, "only the client or the front desk can take a client off a waitlist",
                    {}};
  auto withdrawn = co_await store_.leave_waitlist(req.entry_id());
  if (!withdrawn) co_return withdrawn.error();
  if (*withdrawn) {
    wake();
    slot_freed(freed_by(**withdrawn));
  }
  auto after = co_await store_.find_waitlist_entry(req.entry_id());
  if (!after) co_return after.error();
  if (!*after) co_return entry_not_found();
  log::info("waitlist left", {{"entry_id", req.entry_id()}, {"by", caller->user_id}});
  pb::WaitlistEntryResponse resp;
  fill(*resp.mutable_entry(), **after);
  co_return resp;
}

// ------------------------------------------------------------------ offers

asio::awaitable<Result<pb::ListWaitlistOffersResponse>> Waitlist::list_offers(
    const pb::ListWaitlistOffersRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  std::optional<std::string> client;
  if (caller->role == Role::kClient) {
    client = caller->user_id;
  } else if (!req.client_id().empty()) {
    client = req.client_id();
  }
  auto rows = co_await store_.list_offers(caller->practice_id, client, req.include_closed());
  if (!rows) co_return rows.error();
  pb::ListWaitlistOffersResponse resp;
  for (const auto& o : *rows) {
    if (caller->role == Role::kTherapist && o.therapist_id != caller->user_id) continue;
    fill(*resp.add_offers(), o);
  }
  co_return resp;
}

asio::awaitable<Result<pb::WaitlistOfferResponse>> Waitlist::accept_offer(const pb::AcceptWaitlistOfferRequest& req,
                                                                          const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (req.offer_id().empty()) co_return invalid_argument("offer_id", "offer_id: is required");
  auto found = co_await store_.find_offer(req.offer_id());
  if (!found) co_return found.error();
  if (!*found || !may_answer(*caller, **found)) co_return offer_not_found();
  const WaitlistOffer offer = std::move(**found);

  Appointment a;
  if (offer.status != "accepted") {  // an accepted offer is answered from the store below
    if (offer.status != "held" || offer.hold_expires_unix_ms <= now_unix_ms())
      co_return Error{Code::kFailedPrecondition,
                      offer.status == "held" ? "offer_id: the hold on this time has expired"
                                             : "offer_id: the offer is " + offer.status,
                      "offer_id"};
    // The same rules as any booking, from the server's own records.
    auto type = co_await store_.find_type(offer.type_id);
    if (!type) co_return type.error();
    if (!*type) co_return make_error(Code::kInternal, "appointment type missing");
    auto avail = co_await store_.find_availability(offer.therapist_id);
    if (!avail) co_return avail.error();
    if (!*avail) co_return Error{Code::kFailedPrecondition, "therapist_id: the therapist has no availability set",
                                 "therapist_id"};
    auto booked = co_await store_.blocking(offer.therapist_id, offer.start - days(2), offer.start + days(2), "",
                                           offer.client_id);
    if (!booked) co_return booked.error();
    auto rules = (*type)->rules();
    rules.duration = std::chrono::duration_cast<minutes>(offer.end - offer.start);
    rules.buffer_before = minutes(offer.buffer_before_minutes);
    rules.buffer_after = minutes(offer.buffer_after_minutes);
    if (auto s = check_slot((*avail)->availability, rules, *booked, offer.start, now()); !s) co_return s.error();
    a.id = new_id();
    a.practice_id = offer.practice_id;
    a.therapist_id = offer.therapist_id;
    a.client_id = offer.client_id;
    a.type_id = offer.type_id;
    a.start = offer.start;
    a.end = offer.end;
    a.buffer_before_minutes = offer.buffer_before_minutes;
    a.buffer_after_minutes = offer.buffer_after_minutes;
    a.status = AppointmentStatus::kBooked;
    a.version = 1;
    a.created_by = a.updated_by = caller->user_id;
    a.created_unix_ms = a.updated_unix_ms = now_unix_ms();
    a.time_zone = (*avail)->availability.time_zone;
    a.type_name = offer.type_name;
    // Held where the type's sessions are by default, as any booking that names no place.
    const Placement by_default;
    if (auto s = co_await place_appointment(store_, offer.practice_id, **type, by_default, a); !s)
      co_return s.error();
  }
  ClientTimes times;
  times.client_time_zone = co_await client_time_zone(directory_, offer.client_id);
  times.cancellation_window = options_.cancellation_window;
  auto accepted = co_await store_.accept_offer(offer.id, std::move(a), caller->user_id, times);
  if (!accepted) co_return accepted.error();
  if (!accepted->replayed) {
    wake();
    if (changed_) changed_();
    log::info("waitlist offer accepted", {{"offer_id", offer.id}, {"appointment_id", accepted->appointment.id},
                                          {"by", caller->user_id}});
  }
  pb::WaitlistOfferResponse resp;
  fill(*resp.mutable_offer(), accepted->offer);
  fill(*resp.mutable_appointment(), accepted->appointment, times);
  resp.set_replayed(accepted->replayed);
  co_return resp;
}

asio::awaitable<Result<pb::WaitlistOfferResponse>> Waitlist::decline_offer(
    const pb::DeclineWaitlistOfferRequest& req, const Ctx& ctx) {
  auto caller = require_user(ctx);
  if (!caller) co_return caller.error();
  if (req.offer_id().empty()) co_return invalid_argument("offer_id", "offer_id: is required");
  auto found = co_await store_.find_offer(req.offer_id());
  if (!found) co_return found.error();
  if (!*found || !may_answer(*caller, **found)) co_return offer_not_found();
  auto declined = co_await store_.decline_offer(req.offer_id());
  if (!declined) co_return declined.error();
  log::info("waitlist offer declined", {{"offer_id", declined->id}, {"by", caller->user_id}});
  wake();
  slot_freed(freed_by(*declined));
  pb::WaitlistOfferResponse resp;
  fill(*resp.mutable_offer(), *declined);
  co_return resp;
}

// ------------------------------------------------------------------ offering

void Waitlist::slot_freed(FreedSlot slot) {
  asio::co_spawn(
      ex_,
      [this, slot = std::move(slot)]() -> asio::awaitable<void> { co_await offer_next(slot); },
      [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          log::error("waitlist offer failed", {{"reason", x.what()}});
        }
      });
}

asio::awaitable<std::optional<WaitlistOffer>> Waitlist::offer_next(FreedSlot slot) {
  auto candidates = co_await store_.waitlist_candidates(slot.therapist_id, slot.start);
  if (!candidates) {
    log::warn("waitlist: candidates unreadable", {{"reason", candidates.error().message}});
    co_return std::nullopt;
  }
  if (candidates->empty()) co_return std::nullopt;
  auto avail = co_await store_.find_availability(slot.therapist_id);
  if (!avail || !*avail) co_return std::nullopt;
  auto zone = find_time_zone((*avail)->availability.time_zone);
  if (!zone) co_return std::nullopt;
  // Appointments and every open hold: a freed time goes to one client at a time.
  auto booked = co_await store_.blocking(slot.therapist_id, slot.start - days(2), slot.start + days(2), "",
                                         std::string());
  if (!booked) co_return std::nullopt;
  std::map<std::string, std::optional<AppointmentType>> types;
  const Instant t = now();
  for (const auto& entry : *candidates) {
    if (entry.practice_id != slot.practice_id) continue;
    if (!types.contains(entry.type_id)) {
      auto type = co_await store_.find_type(entry.type_id);
      types[entry.type_id] = type ? std::move(*type) : std::optional<AppointmentType>();
    }
    const auto& type = types[entry.type_id];
    if (!type) continue;
    const Instant end = slot.start + minutes(type->duration_minutes);
    if (!waitlist_matches(entry, *zone, slot.start, end)) continue;
    if (!check_slot((*avail)->availability, type->rules(), *booked, slot.start, t)) continue;
    WaitlistOffer offer;
    offer.id = new_id();
    offer.entry_id = entry.id;
    offer.practice_id = entry.practice_id;
    offer.therapist_id = entry.therapist_id;
    offer.client_id = entry.client_id;
    offer.type_id = type->id;
    offer.type_name = type->name;
    offer.time_zone = (*avail)->availability.time_zone;
    offer.start = slot.start;
    offer.end = end;
    offer.buffer_before_minutes = type->buffer_before_minutes;
    offer.buffer_after_minutes = type->buffer_after_minutes;
    offer.status = "held";
    offer.created_unix_ms = now_unix_ms();
    offer.hold_expires_unix_ms = offer.created_unix_ms + options_.hold.count();
    auto saved = co_await store_.create_offer(offer);
    if (!saved) {
      // The entry moved on meanwhile: try the next one. The time was taken: stop.
      if (saved.error().code == Code::kFailedPrecondition) continue;
      if (saved.error().code != Code::kAlreadyExists)
        log::warn("waitlist: offer not saved", {{"reason", saved.error().message}});
      co_return std::nullopt;
    }
    log::info("waitlist offer made", {{"offer_id", offer.id}, {"entry_id", offer.entry_id},
                                      {"therapist_id", offer.therapist_id}});
    wake();
    co_await push_offer(offer);
    co_return offer;
  }
  co_return std::nullopt;
}

asio::awaitable<void> Waitlist::push_offer(const WaitlistOffer& offer) {
  if (!redis_) co_return;
  pb::WaitlistOffer body;
  fill(body, offer);
  const auto frame = redis::push_frame(new_id(), kWaitlistOfferPush, now_unix_ms(), body);
  // At-most-once wake-up: the offer is durable, so a lost push costs only latency.
  auto s = co_await redis::publish_push(*redis_, offer.client_id, frame);
  if (!s) log::warn("waitlist offer push failed", {{"offer_id", offer.id}, {"reason", s.error().message}});
}

// ------------------------------------------------------------------ expiry loop

void Waitlist::wake() {
  dirty_ = true;
  timer_.cancel();
}

void Waitlist::stop() {
  stopping_ = true;
  timer_.cancel();
}

asio::awaitable<void> Waitlist::run() {
  while (!stopping_) {
    dirty_ = false;
    auto expired = co_await store_.expire_holds(now_unix_ms());
    std::optional<std::int64_t> next;
    if (!expired) {
      log::warn("waitlist: expiring holds failed", {{"reason", expired.error().message}});
      next = now_unix_ms() + 1000;  // retry soon
    } else {
      for (const auto& o : *expired) {
        log::info("waitlist hold expired", {{"offer_id", o.id}});
        if (stopping_) break;
        co_await offer_next(freed_by(o));
      }
      auto soonest = co_await store_.next_hold_expiry();
      if (soonest) next = *soonest;
    }
    if (stopping_) break;
    if (dirty_) continue;  // something changed while we read: look again
    if (next) {
      auto wait = std::max<std::int64_t>(0, *next - now_unix_ms());
      timer_.expires_after(std::chrono::milliseconds(wait));
    } else {
      timer_.expires_at(asio::steady_timer::time_point::max());
    }
    co_await timer_.async_wait(use_tuple);
  }
}

}  // namespace alliance::scheduling
