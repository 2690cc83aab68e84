#include "scheduling_model.hpp"

#include <algorithm>

#include <cstdio>

#include "alliance/core/ids.hpp"

namespace alliance::scheduling {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

Error bad(std::string_view field, std::string what) {
  return invalid_argument(std::string(field), std::string(field) + ": " + std::move(what));
}

}  // namespace

std::optional<Role> parse_role(std::string_view name) {
  if (name == "client") return Role::kClient;
  if (name == "therapist") return Role::kTherapist;
  if (name == "front_desk") return Role::kFrontDesk;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kClient: return "client";
    case Role::kTherapist: return "therapist";
    case Role::kFrontDesk: return "front_desk";
    case Role::kAdmin: return "admin";
  }
  return "client";
}

std::string_view status_name(AppointmentStatus status) {
  switch (status) {
    case AppointmentStatus::kBooked: return "booked";
    case AppointmentStatus::kConfirmed: return "confirmed";
    case AppointmentStatus::kCancelled: return "cancelled";
    case AppointmentStatus::kCompleted: return "completed";
    case AppointmentStatus::kNoShow: return "no_show";
  }
  return "booked";
}

std::optional<AppointmentStatus> parse_status(std::string_view name) {
  if (name == "booked") return AppointmentStatus::kBooked;
  if (name == "confirmed") return AppointmentStatus::kConfirmed;
  if (name == "cancelled") return AppointmentStatus::kCancelled;
  if (name == "completed") return AppointmentStatus::kCompleted;
  if (name == "no_show") return AppointmentStatus::kNoShow;
  return std::nullopt;
}

SlotRules AppointmentType::rules() const {
  SlotRules r;
  r.duration = std::chrono::minutes(duration_minutes);
  r.buffer_before = std::chrono::minutes(buffer_before_minutes);
  r.buffer_after = std::chrono::minutes(buffer_after_minutes);
  r.step = std::chrono::minutes(step_minutes);
  r.min_notice = std::chrono::minutes(min_notice_minutes);
  r.booking_horizon = std::chrono::days(booking_horizon_days);
  return r;
}

Result<Instant> parse_instant(std::string_view s, std::string_view field) {
  const char* expected = "expected an RFC 3339 time like \"2026-03-09T13:00:00Z\"";
  if (s.empty()) return bad(field, "is required");
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec))
    return bad(field, expected);
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start || pos - start > 9) return bad(field, expected);
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
        oh > 23 || om > 59)
      return bad(field, expected);
    offset_minutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return bad(field, expected + std::string(" (with Z or an offset)"));
  }
  if (pos != s.size()) return bad(field, expected);
  if (y < 1970) return bad(field, "too far in the past");
  date::year_month_day ymd{date::year(y), date::month(static_cast<unsigned>(mo)),
                           date::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return bad(field, "not a valid date and time");
  if (sec == 60) sec = 59;  // a leap second: the instant just before it
  auto t = date::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(sec) -
           std::chrono::minutes(offset_minutes);
  return Instant(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()));
}

std::string format_instant(Instant t) {
  auto days = std::chrono::floor<date::days>(t);
  date::year_month_day ymd(days);
  date::hh_mm_ss<std::chrono::seconds> hms(t - days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

Result<int> parse_local_time(std::string_view s, std::string_view field) {
  int h, m;
  if (s.empty()) return bad(field, "is required");
  if (s.size() != 5 || !digits(s, 0, 2, h) || s[2] != ':' || !digits(s, 3, 2, m) || m > 59 || h > 24 ||
      (h == 24 && m != 0))
    return bad(field, "expected a local time \"HH:MM\" between 00:00 and 24:00");
  return h * 60 + m;
}

std::string format_local_time(int minutes) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
  return buf;
}

Result<date::year_month_day> parse_date(std::string_view s, std::string_view field) {
  int y, m, d;
  if (s.empty()) return bad(field, "is required");
  if (s.size() != 10 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, m) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return bad(field, "expected a date \"YYYY-MM-DD\"");
  date::year_month_day ymd{date::year(y), date::month(static_cast<unsigned>(m)),
                           date::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || y < 1970) return bad(field, "not a valid date");
  return ymd;
}

std::string format_date(date::year_month_day d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                static_cast<unsigned>(d.day()));
  return buf;
}

Instant now_instant() { return from_unix(now_unix_ms() / 1000); }

bool waitlist_matches(const WaitlistEntry& entry, const date::time_zone* zone, Instant start, Instant end) {
  const auto local_start = zone->to_local(start);
  const auto local_end = zone->to_local(end);
  const auto day = date::floor<date::days>(local_start);
  const date::year_month_day ymd(day);
  if (date::sys_days(ymd) < date::sys_days(entry.first_date) || date::sys_days(ymd) > date::sys_days(entry.last_date))
    return false;
  if (entry.preferred.empty()) return true;
  const int weekday = static_cast<int>(date::weekday(day).c_encoding());
  const auto start_minute =
      static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local_start - day).count());
  const auto end_minute = static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local_end - day).count());
  for (const auto& w : entry.preferred) {
    if (!w.weekdays.empty() && std::find(w.weekdays.begin(), w.weekdays.end(), weekday) == w.weekdays.end())
      continue;
    if (start_minute >= w.start_minute && end_minute <= w.end_minute) return true;
  }
  return false;
}

Status apply_location_change(Location& l, const LocationChange& change) {
  constexpr std::size_t kMaxRoomsInUse = 50;
  Location next = l;
  if (change.name) next.name = *change.name;
  if (change.address) next.address = *change.address;
  auto has = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  for (std::size_t i = 0; i < change.retire_rooms.size(); ++i) {
    const std::string field = "retire_rooms[" + std::to_string(i) + "]";
    const auto& room = change.retire_rooms[i];
    if (has(change.add_rooms, room)) return bad(field, "also in add_rooms");
    auto at = std::find(next.rooms.begin(), next.rooms.end(), room);
    if (at == next.rooms.end()) return Error{Code::kNotFound, field + ": no such room in use at the location", field};
    next.rooms.erase(at);
    next.retired_rooms.push_back(room);
  }
  for (std::size_t i = 0; i < change.add_rooms.size(); ++i) {
    const std::string field = "add_rooms[" + std::to_string(i) + "]";
    const auto& room = change.add_rooms[i];
    if (has(next.rooms, room)) return bad(field, "already a room in use at the location (or named twice)");
    std::erase(next.retired_rooms, room);
    next.rooms.push_back(room);
  }
  if (next.rooms.size() > kMaxRoomsInUse)
    return bad("add_rooms", "at most " + std::to_string(kMaxRoomsInUse) + " rooms in use at a location");
  l = std::move(next);
  return Status{};
}

}  // namespace alliance::scheduling
