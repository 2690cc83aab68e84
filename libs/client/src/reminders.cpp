#include "alliance/client/reminders.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstdint>
#include <limits>

namespace alliance::client {

namespace json = boost::json;

namespace {

// A time zone's offset from UTC is within +-18 h (what protobuf and RFC 3339 allow).
constexpr int kMaxUtcOffsetMinutes = 18 * 60;

Error bad(std::string_view field, std::string_view what) {
  return invalid_argument(std::string(field), std::string(field) + ": " + std::string(what));
}

// The server's answer did not have the documented shape: not the caller's fault.
Error malformed(std::string_view call, const Error& e) {
  return make_error(Code::kInternal, "the gateway's answer to " + std::string(call) + " is malformed: " + e.message);
}

Result<const json::object*> object_of(const json::value& v, std::string_view what) {
  if (!v.is_object()) return bad(what, "expected a JSON object");
  return &v.as_object();
}

// Readers: each fills `out` from the field `key` (missing: left as is) or says what is wrong.
std::optional<Error> read(const json::object& o, std::string_view key, std::string& out) {
  auto r = json_field::string(o, key);
  if (!r) return std::move(r).error();
  out = std::move(*r);
  return std::nullopt;
}

std::optional<Error> read(const json::object& o, std::string_view key, std::int64_t& out) {
  auto r = json_field::int64(o, key);
  if (!r) return std::move(r).error();
  out = *r;
  return std::nullopt;
}

std::optional<Error> read(const json::object& o, std::string_view key, bool& out) {
  auto r = json_field::boolean(o, key);
  if (!r) return std::move(r).error();
  out = *r;
  return std::nullopt;
}

// proto3 JSON int32: a number, or a string holding one.
Result<int> int32_of(const json::value& v, std::string_view field) {
  std::int64_t n = 0;
  if (v.is_int64()) {
    n = v.as_int64();
  } else if (v.is_uint64()) {
    return bad(field, "out of range");
  } else if (v.is_string()) {
    std::string_view s = v.as_string();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || end != s.data() + s.size()) return bad(field, "expected a whole number");
    if (ec != std::errc()) return bad(field, "out of range");
  } else {
    return bad(field, "expected a whole number");
  }
  if (n < std::numeric_limits<std::int32_t>::min() || n > std::numeric_limits<std::int32_t>::max()) {
    return bad(field, "out of range");
  }
  return static_cast<int>(n);
}

std::optional<Error> read(const json::object& o, std::string_view key, int& out) {
  const json::value* v = json_field::find(o, key);
  if (!v || v->is_null()) return std::nullopt;
  auto n = int32_of(*v, key);
  if (!n) return std::move(n).error();
  out = *n;
  return std::nullopt;
}

std::optional<Error> read(const json::object& o, std::string_view key, std::vector<int>& out) {
  const json::value* v = json_field::find(o, key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_array()) return bad(key, "expected an array");
  out.clear();
  for (std::size_t i = 0; i < v->as_array().size(); ++i) {
    auto n = int32_of(v->as_array()[i], std::string(key) + "[" + std::to_string(i) + "]");
    if (!n) return std::move(n).error();
    out.push_back(*n);
  }
  return std::nullopt;
}

std::optional<Error> read(const json::object& o, std::string_view key, std::vector<std::string>& out) {
  const json::value* v = json_field::find(o, key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_array()) return bad(key, "expected an array");
  out.clear();
  for (std::size_t i = 0; i < v->as_array().size(); ++i) {
    const json::value& e = v->as_array()[i];
    if (!e.is_string()) return bad(std::string(key) + "[" + std::to_string(i) + "]", "expected a string");
    out.emplace_back(e.as_string());
  }
  return std::nullopt;
}

// Reads field `key` of *o into `member`, or returns the field's error.
#define ALLIANCE_READ(key, member)                   \
  do {                                               \
    if (auto e_ = read(*o, key, member)) return *e_; \
  } while (false)

bool digits(std::string_view s, std::size_t at, std::size_t n, int max) {
  if (at + n > s.size()) return false;
  int value = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    value = value * 10 + (s[i] - '0');
  }
  return value <= max;
}

// "YYYY-MM-DDTHH:MM" (the caller checks what follows).
bool date_hour_minute(std::string_view s) {
  return s.size() >= 16 && digits(s, 0, 4, 9999) && s[4] == '-' && digits(s, 5, 2, 12) && s[7] == '-' &&
         digits(s, 8, 2, 31) && (s[10] == 'T' || s[10] == 't') && digits(s, 11, 2, 23) && s[13] == ':' &&
         digits(s, 14, 2, 59) && s.substr(5, 2) != "00" && s.substr(8, 2) != "00";
}

// RFC 3339 date-time: "2026-12-07T14:00:00Z", fractions and "+01:00" offsets too.
bool rfc3339(std::string_view s) {
  if (!date_hour_minute(s) || s.size() < 20 || s[16] != ':' || !digits(s, 17, 2, 60)) return false;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    std::size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  std::string_view zone = s.substr(i);
  if (zone == "Z" || zone == "z") return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digits(zone, 1, 2, 23) && zone[3] == ':' &&
         digits(zone, 4, 2, 59);
}

// "2026-12-07T09:00", seconds allowed.
bool local_date_time(std::string_view s) {
  if (!date_hour_minute(s)) return false;
  if (s.size() == 16) return true;
  return s.size() == 19 && s[16] == ':' && digits(s, 17, 2, 59);
}

std::optional<Error> check_instant(std::string_view field, const std::string& value) {
  if (value.empty() || rfc3339(value)) return std::nullopt;
  return bad(field, "expected an RFC 3339 instant such as 2026-12-07T14:00:00Z");
}

std::string path_part(std::string_view id) { return url_encode(id); }

const json::value* member(const json::value& v, std::string_view key) {
  if (!v.is_object()) return nullptr;
  return json_field::find(v.as_object(), key);
}

// The list field `key` of an answer, each element read by `parse`; missing = empty.
template <class T, class Parse>
Result<std::vector<T>> list_of(const json::value& answer, std::string_view key, std::string_view call, Parse parse) {
  std::vector<T> out;
  const json::value* list = member(answer, key);
  if (!list || list->is_null()) return out;
  if (!list->is_array()) return malformed(call, bad(key, "expected an array"));
  out.reserve(list->as_array().size());
  for (std::size_t i = 0; i < list->as_array().size(); ++i) {
    auto item = parse(list->as_array()[i]);
    if (!item) {
      Error e = std::move(item).error();
      e.message = std::string(key) + "[" + std::to_string(i) + "]: " + e.message;
      return malformed(call, e);
    }
    out.push_back(std::move(*item));
  }
  return out;
}

}  // namespace

Result<ReminderDue> reminder_due_from_json(const json::value& v) {
  auto obj = object_of(v, "body");
  if (!obj) return std::move(obj).error();
  const json::object* o = *obj;
  if (const json::value* type = o->if_contains("@type")) {
    if (!type->is_string()) return bad("@type", "expected a string");
    if (type->as_string() != kReminderDueTypeUrl) {
      return bad("@type", "expected " + std::string(kReminderDueTypeUrl));
    }
  }
  ReminderDue out;
  ALLIANCE_READ("reminder_id", out.reminder_id);
  ALLIANCE_READ("appointment_id", out.appointment_id);
  ALLIANCE_READ("practice_name", out.practice_name);
  ALLIANCE_READ("start_time", out.start_time);
  ALLIANCE_READ("local_start", out.local_start);
  ALLIANCE_READ("utc_offset_minutes", out.utc_offset_minutes);
  ALLIANCE_READ("time_zone", out.time_zone);
  ALLIANCE_READ("therapist_name", out.therapist_name);
  ALLIANCE_READ("confirmed", out.confirmed);
  ALLIANCE_READ("actions", out.actions);
  ALLIANCE_READ("cancel_until", out.cancel_until);
  ALLIANCE_READ("text", out.text);
  ALLIANCE_READ("due_at", out.due_at);
  ALLIANCE_READ("offset_minutes", out.offset_minutes);
  ALLIANCE_READ("appointment_version", out.appointment_version);

  if (out.reminder_id.empty()) return bad("reminder_id", "missing");
  if (out.appointment_id.empty()) return bad("appointment_id", "missing");
  if (out.start_time.empty()) return bad("start_time", "missing");
  if (auto e = check_instant("start_time", out.start_time)) return *e;
  if (out.local_start.empty()) return bad("local_start", "missing");
  if (!local_date_time(out.local_start)) {
    return bad("local_start", "expected YYYY-MM-DDTHH:MM such as 2026-12-07T09:00");
  }
  if (out.utc_offset_minutes < -kMaxUtcOffsetMinutes || out.utc_offset_minutes > kMaxUtcOffsetMinutes) {
    return bad("utc_offset_minutes", "must be within -1080 and 1080");
  }
  if (auto e = check_instant("cancel_until", out.cancel_until)) return *e;
  if (out.text.empty()) return bad("text", "missing");
  if (auto e = check_instant("due_at", out.due_at)) return *e;
  if (out.offset_minutes < 0) return bad("offset_minutes", "must not be negative");
  return out;
}

Result<ReminderDue> reminder_due_from_push(const PushFrame& frame) {
  if (frame.type != kReminderDueType) {
    return bad("type", "expected " + std::string(kReminderDueType) + ", not '" + frame.type + "'");
  }
  if (frame.body.is_null()) return bad("body", "missing");
  // De-duplication is by the body's reminder_id; the contract makes the frame's id
  // the same, but a reminder is not lost if a server ever gives each push its own.
  return reminder_due_from_json(frame.body);
}

json::value reminder_due_to_json(const ReminderDue& r) {
  json::object o;
  auto text = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) o[key] = value;
  };
  text("reminder_id", r.reminder_id);
  text("appointment_id", r.appointment_id);
  text("practice_name", r.practice_name);
  text("start_time", r.start_time);
  text("local_start", r.local_start);
  if (r.utc_offset_minutes != 0) o["utc_offset_minutes"] = r.utc_offset_minutes;
  text("time_zone", r.time_zone);
  text("therapist_name", r.therapist_name);
  if (r.confirmed) o["confirmed"] = true;
  if (!r.actions.empty()) {
    json::array actions;
    for (const auto& a : r.actions) actions.emplace_back(a);
    o["actions"] = std::move(actions);
  }
  text("cancel_until", r.cancel_until);
  text("text", r.text);
  text("due_at", r.due_at);
  if (r.offset_minutes != 0) o["offset_minutes"] = r.offset_minutes;
  if (r.appointment_version != 0) o["appointment_version"] = std::to_string(r.appointment_version);
  return o;
}

Result<Reminder> reminder_from_json(const json::value& v) {
  auto obj = object_of(v, "reminder");
  if (!obj) return std::move(obj).error();
  const json::object* o = *obj;
  Reminder out;
  ALLIANCE_READ("id", out.id);
  ALLIANCE_READ("appointment_id", out.appointment_id);
  ALLIANCE_READ("client_id", out.client_id);
  ALLIANCE_READ("therapist_id", out.therapist_id);
  ALLIANCE_READ("appointment_start_time", out.appointment_start_time);
  ALLIANCE_READ("offset_minutes", out.offset_minutes);
  ALLIANCE_READ("planned_at", out.planned_at);
  ALLIANCE_READ("due_at", out.due_at);
  ALLIANCE_READ("moved_for_quiet_hours", out.moved_for_quiet_hours);
  ALLIANCE_READ("state", out.state);
  ALLIANCE_READ("sent_at", out.sent_at);
  ALLIANCE_READ("acknowledged_at", out.acknowledged_at);
  ALLIANCE_READ("cancelled_at", out.cancelled_at);
  ALLIANCE_READ("expired_at", out.expired_at);
  ALLIANCE_READ("cancel_reason", out.cancel_reason);
  ALLIANCE_READ("deliveries", out.deliveries);
  ALLIANCE_READ("appointment_version", out.appointment_version);
  if (out.id.empty()) return bad("id", "missing");
  return out;
}

json::value reminder_to_json(const Reminder& r) {
  json::object o;
  auto text = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) o[key] = value;
  };
  text("id", r.id);
  text("appointment_id", r.appointment_id);
  text("client_id", r.client_id);
  text("therapist_id", r.therapist_id);
  text("appointment_start_time", r.appointment_start_time);
  if (r.offset_minutes != 0) o["offset_minutes"] = r.offset_minutes;
  text("planned_at", r.planned_at);
  text("due_at", r.due_at);
  if (r.moved_for_quiet_hours) o["moved_for_quiet_hours"] = true;
  text("state", r.state);
  text("sent_at", r.sent_at);
  text("acknowledged_at", r.acknowledged_at);
  text("cancelled_at", r.cancelled_at);
  text("expired_at", r.expired_at);
  text("cancel_reason", r.cancel_reason);
  if (r.deliveries != 0) o["deliveries"] = r.deliveries;
  if (r.appointment_version != 0) o["appointment_version"] = std::to_string(r.appointment_version);
  return o;
}

Result<ReminderPolicy> reminder_policy_from_json(const json::value& v) {
  auto obj = object_of(v, "policy");
  if (!obj) return std::move(obj).error();
  const json::object* o = *obj;
  ReminderPolicy out;
  ALLIANCE_READ("practice_id", out.practice_id);
  ALLIANCE_READ("offsets_minutes", out.offsets_minutes);
  ALLIANCE_READ("quiet_start", out.quiet_start);
  ALLIANCE_READ("quiet_end", out.quiet_end);
  ALLIANCE_READ("show_therapist_name", out.show_therapist_name);
  ALLIANCE_READ("updated_by", out.updated_by);
  ALLIANCE_READ("updated_unix_ms", out.updated_unix_ms);
  if (const json::value* list = json_field::find(*o, "type_overrides"); list && !list->is_null()) {
    if (!list->is_array()) return bad("type_overrides", "expected an array");
    for (std::size_t i = 0; i < list->as_array().size(); ++i) {
      std::string at = "type_overrides[" + std::to_string(i) + "]";
      const json::value& item = list->as_array()[i];
      if (!item.is_object()) return bad(at, "expected a JSON object");
      TypeOffsets t;
      std::optional<Error> e = read(item.as_object(), "type_id", t.type_id);
      if (!e) e = read(item.as_object(), "offsets_minutes", t.offsets_minutes);
      if (e) {
        e->field = at + "." + e->field;
        e->message = at + "." + e->message;
        return *e;
      }
      out.type_overrides.push_back(std::move(t));
    }
  }
  return out;
}

json::value reminder_policy_request_json(const ReminderPolicy& p) {
  auto ints = [](const std::vector<int>& v) {
    json::array a;
    for (int n : v) a.emplace_back(n);
    return a;
  };
  json::array overrides;
  for (const auto& t : p.type_overrides) {
    overrides.push_back(json::object{{"type_id", t.type_id}, {"offsets_minutes", ints(t.offsets_minutes)}});
  }
  json::object o;
  o["offsets_minutes"] = ints(p.offsets_minutes);
  o["type_overrides"] = std::move(overrides);
  o["quiet_start"] = p.quiet_start;
  o["quiet_end"] = p.quiet_end;
  o["show_therapist_name"] = p.show_therapist_name;
  return o;
}

json::value reminder_policy_to_json(const ReminderPolicy& p) {
  json::object o;
  o["practice_id"] = p.practice_id;
  json::object request = reminder_policy_request_json(p).as_object();
  for (auto& [key, value] : request) o[key] = std::move(value);
  o["updated_by"] = p.updated_by;
  o["updated_unix_ms"] = std::to_string(p.updated_unix_ms);
  return o;
}

json::value reminder_preference_to_json(const ReminderPreference& p) {
  return json::object{{"enabled", p.enabled}, {"updated_unix_ms", std::to_string(p.updated_unix_ms)}};
}

Result<ReminderPreference> reminder_preference_from_json(const json::value& v) {
  auto obj = object_of(v, "preference");
  if (!obj) return std::move(obj).error();
  const json::object* o = *obj;
  ReminderPreference out;
  ALLIANCE_READ("enabled", out.enabled);
  ALLIANCE_READ("updated_unix_ms", out.updated_unix_ms);
  return out;
}

#undef ALLIANCE_READ

std::string ack_frame(std::string_view reminder_id) {
  json::object o;
  o["type"] = "ack";
  o["id"] = reminder_id;
  return json::serialize(o);
}

// ---- ReminderInbox ----

ReminderInbox::ReminderInbox(Callback on_new, std::size_t capacity)
    : on_new_(std::move(on_new)), capacity_(capacity < 1 ? 1 : capacity) {}

bool ReminderInbox::seen(std::string_view reminder_id) const { return ids_.count(reminder_id) != 0; }

bool ReminderInbox::remember(const std::string& id) {
  if (seen(id)) return false;
  order_.push_back(id);
  // The set's views point into the deque's strings: push_back and pop_front on a
  // deque never move the other elements, so the views stay valid until popped.
  ids_.insert(order_.back());
  if (order_.size() > capacity_) {
    ids_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

bool ReminderInbox::offer(const ReminderDue& reminder) {
  if (reminder.reminder_id.empty() || !remember(reminder.reminder_id)) return false;
  if (on_new_) on_new_(reminder);
  return true;
}

Result<InboxFrame> ReminderInbox::feed(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return bad("frame", "not JSON");
  return feed_json(v);
}

Result<InboxFrame> ReminderInbox::feed_json(const json::value& v) {
  auto frame = push_frame_from_json(v);
  if (!frame) return std::move(frame).error();
  InboxFrame out;
  out.type = frame->type;
  if (frame->type == kReminderDueType) {
    auto reminder = reminder_due_from_push(*frame);
    if (!reminder) return std::move(reminder).error();
    out.reminder_id = reminder->reminder_id;
    out.kind = offer(*reminder) ? InboxFrame::kNewReminder : InboxFrame::kRepeatedReminder;
    return out;
  }
  if (frame->type == "ack.ok" || frame->type == "ack.error") {
    if (frame->id.empty()) return bad("id", "missing");
    out.reminder_id = frame->id;
    if (frame->type == "ack.ok") {
      out.kind = InboxFrame::kAckOk;
      return out;
    }
    out.kind = InboxFrame::kAckError;
    Error e = make_error(Code::kInternal, "the server did not record the acknowledgement");
    if (const json::value* error = member(v, "error"); error && error->is_object()) {
      const json::object& eo = error->as_object();
      if (const json::value* code = eo.if_contains("code"); code && code->is_string()) {
        if (auto c = code_from_name(code->as_string()); c && *c != Code::kOk) e.code = *c;
      }
      if (const json::value* message = eo.if_contains("message");
          message && message->is_string() && !message->as_string().empty()) {
        e.message = std::string(message->as_string());
      }
    }
    out.ack_error = std::move(e);
    return out;
  }
  out.kind = InboxFrame::kOther;
  return out;
}

// ---- Reminders ----

Result<std::vector<ReminderDue>> Reminders::pending() {
  constexpr std::string_view kCall = "GET /v1/reminders";
  auto r = client_.get_json("/v1/reminders");
  if (!r) return std::move(r).error();
  return list_of<ReminderDue>(*r, "reminders", kCall, reminder_due_from_json);
}

Result<Reminder> Reminders::ack(std::string_view reminder_id) {
  if (reminder_id.empty()) return invalid_argument("reminder_id", "reminder_id: required");
  std::string target = "/v1/reminders/" + path_part(reminder_id) + "/ack";
  auto r = client_.post_json(target, json::object());
  if (!r) return std::move(r).error();
  const json::value* reminder = member(*r, "reminder");
  if (!reminder) return malformed("POST " + target, bad("reminder", "missing"));
  auto out = reminder_from_json(*reminder);
  if (!out) return malformed("POST " + target, out.error());
  return out;
}

Result<std::vector<Reminder>> Reminders::of_appointment(std::string_view appointment_id) {
  if (appointment_id.empty()) return invalid_argument("appointment_id", "appointment_id: required");
  std::string target = "/v1/appointments/" + path_part(appointment_id) + "/reminders";
  auto r = client_.get_json(target);
  if (!r) return std::move(r).error();
  return list_of<Reminder>(*r, "reminders", "GET " + target, reminder_from_json);
}

namespace {

Result<ReminderPolicy> policy_answer(Result<json::value> r, std::string_view call) {
  if (!r) return std::move(r).error();
  const json::value* policy = member(*r, "policy");
  if (!policy) return malformed(call, bad("policy", "missing"));
  auto out = reminder_policy_from_json(*policy);
  if (!out) return malformed(call, out.error());
  return out;
}

Result<ReminderPreference> preference_answer(Result<json::value> r, std::string_view call) {
  if (!r) return std::move(r).error();
  auto out = reminder_preference_from_json(*r);
  if (!out) return malformed(call, out.error());
  return out;
}

}  // namespace

Result<ReminderPolicy> Reminders::policy() {
  return policy_answer(client_.get_json("/v1/reminders/policy"), "GET /v1/reminders/policy");
}

Result<ReminderPolicy> Reminders::set_policy(const ReminderPolicy& policy) {
  return policy_answer(client_.put_json("/v1/reminders/policy", reminder_policy_request_json(policy)),
                       "PUT /v1/reminders/policy");
}

Result<ReminderPreference> Reminders::preference() {
  return preference_answer(client_.get_json("/v1/reminders/preference"), "GET /v1/reminders/preference");
}

Result<ReminderPreference> Reminders::set_preference(bool enabled) {
  json::value body = json::object{{"enabled", enabled}};
  return preference_answer(client_.put_json("/v1/reminders/preference", body), "PUT /v1/reminders/preference");
}

Result<json::value> Reminders::set_time_zone(std::string_view time_zone, std::string_view user_id) {
  if (user_id.empty()) return invalid_argument("user_id", "user_id: required (\"me\" for yourself)");
  std::string target = "/v1/users/" + path_part(user_id) + "/time-zone";
  json::value body = json::object{{"time_zone", time_zone}};
  auto r = client_.put_json(target, body);
  if (!r) return std::move(r).error();
  const json::value* user = member(*r, "user");
  if (!user || !user->is_object()) return malformed("PUT " + target, bad("user", "expected a JSON object"));
  return *user;
}

}  // namespace alliance::client
