#include "domain/reminder_plan.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <stdexcept>

namespace alliance::reminders {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

// "HH:MM", 00:00 to 23:59, exactly two digits each.
std::optional<int> parse_hhmm(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (int i : {0, 1, 3, 4})
    if (s[static_cast<std::size_t>(i)] < '0' || s[static_cast<std::size_t>(i)] > '9') return std::nullopt;
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

Result<std::vector<int>> parse_offsets(const std::vector<int>& in, const std::string& field) {
  if (in.empty() || in.size() > kMaxOffsets) return invalid_argument(field, field + ": 1 to 5 offsets");
  std::set<int> seen;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    if (in[i] < kMinOffsetMinutes || in[i] > kMaxOffsetMinutes)
      return invalid_argument(field, at + ": must be 5 to 20160 minutes");
    if (!seen.insert(in[i]).second) return invalid_argument(field, at + ": repeats " + std::to_string(in[i]));
  }
  return std::vector<int>(seen.rbegin(), seen.rend());
}

// A wall-clock time as an instant: a time inside a spring-forward gap is the
// transition; a repeated time is its earlier or later occurrence as asked.
TimePoint local_to_instant(const date::time_zone* zone, date::local_seconds local, bool later) {
  const date::local_info info = zone->get_info(local);
  std::chrono::sys_seconds at;
  if (info.result == date::local_info::nonexistent) {
    at = info.first.end;
  } else if (info.result == date::local_info::ambiguous && later) {
    at = std::chrono::sys_seconds{local.time_since_epoch() - info.second.offset};
  } else {
    at = std::chrono::sys_seconds{local.time_since_epoch() - info.first.offset};
  }
  return std::chrono::time_point_cast<milliseconds>(at);
}

bool inside(const QuietHours& q, int minute) {
  if (q.start_minute < q.end_minute) return minute >= q.start_minute && minute < q.end_minute;
  return minute >= q.start_minute || minute < q.end_minute;
}

}  // namespace

Policy default_policy() {
  Policy p;
  p.offsets_minutes = {24 * 60, 2 * 60};
  p.quiet = QuietHours{21 * 60, 8 * 60};
  return p;
}

std::string format_hhmm(int minute_of_day) {
  minute_of_day = std::clamp(minute_of_day, 0, 1440);
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute_of_day / 60, minute_of_day % 60);
  return buf;
}

Result<Policy> parse_policy(const std::vector<int>& offsets_minutes, const std::vector<TypeOffsetsInput>& type_overrides,
                            std::string_view quiet_start, std::string_view quiet_end, bool show_therapist_name) {
  Policy p;
  auto offsets = parse_offsets(offsets_minutes, "offsets_minutes");
  if (!offsets) return offsets.error();
  p.offsets_minutes = std::move(*offsets);
  if (type_overrides.size() > kMaxTypeOverrides)
    return invalid_argument("type_overrides", "type_overrides: at most 50");
  for (std::size_t i = 0; i < type_overrides.size(); ++i) {
    const std::string at = "type_overrides[" + std::to_string(i) + "]";
    const auto& t = type_overrides[i];
    if (t.type_id.empty()) return invalid_argument("type_overrides", at + ".type_id: required");
    if (t.type_id.size() > 64) return invalid_argument("type_overrides", at + ".type_id: at most 64 characters");
    if (p.type_offsets.contains(t.type_id))
      return invalid_argument("type_overrides", at + ".type_id: repeats \"" + t.type_id + "\"");
    auto o = parse_offsets(t.offsets_minutes, at + ".offsets_minutes");
    if (!o) return Error{Code::kInvalidArgument, o.error().message, "type_overrides"};
    p.type_offsets.emplace(t.type_id, std::move(*o));
  }
  if (quiet_start.empty() && quiet_end.empty()) {
    p.quiet.reset();
  } else {
    auto s = parse_hhmm(quiet_start);
    if (!s) return invalid_argument("quiet_start", quiet_start.empty() ? "quiet_start: required with quiet_end"
                                                                      : "quiet_start: must be \"HH:MM\" from 00:00 to 23:59");
    auto e = parse_hhmm(quiet_end);
    if (!e) return invalid_argument("quiet_end", quiet_end.empty() ? "quiet_end: required with quiet_start"
                                                                  : "quiet_end: must be \"HH:MM\" from 00:00 to 23:59");
    if (*s == *e) return invalid_argument("quiet_end", "quiet_end: must differ from quiet_start");
    p.quiet = QuietHours{*s, *e};
  }
  p.show_therapist_name = show_therapist_name;
  return p;
}

QuietHoursResult move_out_of_quiet_hours(TimePoint planned, TimePoint appointment_start, const QuietHours& quiet,
                                         const date::time_zone* zone) {
  const auto local = zone->to_local(std::chrono::time_point_cast<std::chrono::seconds>(planned));
  const auto day = date::floor<date::days>(local);
  const int minute = static_cast<int>(std::chrono::duration_cast<minutes>(local - day).count());
  if (!inside(quiet, minute)) return {planned, false};
  // The local day on which this quiet period began and the one on which it ends.
  date::local_days began = day;
  date::local_days ends = day;
  if (quiet.start_minute > quiet.end_minute) {
    if (minute >= quiet.start_minute) {
      ends = day + date::days{1};
    } else {
      began = day - date::days{1};
    }
  }
  const TimePoint end = local_to_instant(zone, ends + minutes{quiet.end_minute}, /*later=*/true);
  if (end <= appointment_start - kQuietHoursMargin) return {end, true};
  const TimePoint start = local_to_instant(zone, began + minutes{quiet.start_minute}, /*later=*/false);
  return {std::min(start, planned), true};
}

std::vector<PlannedReminder> plan_reminders(const Policy& policy, std::string_view type_id, TimePoint start,
                                            const date::time_zone* client_zone, TimePoint now) {
  std::vector<PlannedReminder> out;
  if (start <= now) return out;
  const auto it = policy.type_offsets.find(type_id);
  const auto& offsets = it != policy.type_offsets.end() ? it->second : policy.offsets_minutes;
  for (int offset : offsets) {
    PlannedReminder r;
    r.offset_minutes = offset;
    r.planned = start - minutes{offset};
    if (r.planned <= now) continue;
    r.due = r.planned;
    if (policy.quiet && client_zone) {
      auto moved = move_out_of_quiet_hours(r.planned, start, *policy.quiet, client_zone);
      r.due = std::max(moved.due, now);
      r.moved_for_quiet_hours = moved.moved;
    }
    out.push_back(r);
  }
  std::stable_sort(out.begin(), out.end(), [](const PlannedReminder& a, const PlannedReminder& b) {
    if (a.due != b.due) return a.due < b.due;
    return a.offset_minutes < b.offset_minutes;
  });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const PlannedReminder& a, const PlannedReminder& b) { return a.due == b.due; }),
            out.end());
  return out;
}

const date::time_zone* find_zone(std::string_view iana_name) {
  if (iana_name.empty() || iana_name.size() > 64) return nullptr;
  try {
    return date::locate_zone(iana_name);
  } catch (const std::runtime_error&) {
    return nullptr;
  }
}

}  // namespace alliance::reminders
