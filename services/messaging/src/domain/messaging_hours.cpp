#include "domain/messaging_hours.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include <date/date.h>
#include <date/tz.h>

namespace alliance::messaging {
namespace {

constexpr int kMinutesPerDay = 1440;
constexpr std::array<const char*, 7> kWeekdayNames = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

Error field_error(const std::string& field, const std::string& why) {
  return invalid_argument(field, field + ": " + why);
}

std::string window_name(std::size_t i) { return "windows[" + std::to_string(i) + "]"; }

Result<const date::time_zone*> find_zone(std::string_view iana_name) {
  auto unknown = [&] {
    std::string shown(iana_name.substr(0, 64));
    for (char& c : shown) {
      if (c < 0x20 || c == 0x7f || c == '"') c = '?';  // keep the message one printable line
    }
    return field_error("time_zone", "unknown time zone \"" + shown + "\"");
  };
  // IANA names are short ASCII paths; refuse anything else before asking the database
  // (which would otherwise be asked to open files named by the caller).
  if (iana_name.empty() || iana_name.size() > 64) return unknown();
  for (char c : iana_name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+';
    if (!ok) return unknown();
  }
  if (iana_name.front() == '/' || iana_name.find("..") != std::string_view::npos) return unknown();
  try {
    return date::locate_zone(iana_name);
  } catch (const std::runtime_error&) {
    return unknown();
  }
}

// Strict "HH:MM": two digits, ':', two digits. 00:00..23:59, plus "24:00" when
// allowed (an end). -1 when malformed.
int parse_hhmm(std::string_view text, bool allow_midnight_end) {
  if (text.size() != 5 || text[2] != ':') return -1;
  for (std::size_t i : {0u, 1u, 3u, 4u}) {
    if (text[i] < '0' || text[i] > '9') return -1;
  }
  const int hh = (text[0] - '0') * 10 + (text[1] - '0');
  const int mm = (text[3] - '0') * 10 + (text[4] - '0');
  if (hh == 24 && mm == 0 && allow_midnight_end) return kMinutesPerDay;
  if (hh > 23 || mm > 59) return -1;
  return hh * 60 + mm;
}

bool overlaps(const HoursWindow& a, const HoursWindow& b) {
  return a.weekday == b.weekday && a.start_minute < b.end_minute && b.start_minute < a.end_minute;
}

// Local weekday (0 = Sunday) and minute of the day of `at` in `zone`.
std::pair<int, int> local_weekday_minute(const date::time_zone* zone, TimePoint at) {
  const auto local = zone->to_local(at);
  const auto day = date::floor<date::days>(local);
  const int weekday = static_cast<int>(date::weekday{day}.c_encoding());
  const int minute = static_cast<int>(date::floor<std::chrono::minutes>(local - day).count());
  return {weekday, minute};
}

bool within(const WeeklyHours& hours, const date::time_zone* zone, TimePoint at) {
  // Not a structured binding: clang 14 cannot capture those in a lambda.
  const auto local = local_weekday_minute(zone, at);
  const int weekday = local.first, minute = local.second;
  return std::any_of(hours.windows.begin(), hours.windows.end(), [&](const HoursWindow& w) {
    return w.weekday == weekday && w.start_minute <= minute && minute < w.end_minute;
  });
}

const date::time_zone* zone_or_null(const WeeklyHours& hours) {
  auto zone = find_zone(hours.time_zone);
  return zone ? *zone : nullptr;
}

}  // namespace

Result<WeeklyHours> parse_weekly_hours(
    std::string_view time_zone,
    const std::vector<std::tuple<int, std::string, std::string>>& windows,
    int expected_reply_hours) {
  if (auto zone = find_zone(time_zone); !zone) return zone.error();
  if (windows.size() > kMaxHoursWindows) {
    return field_error("windows", "at most " + std::to_string(kMaxHoursWindows) + " windows");
  }

  WeeklyHours out;
  out.time_zone = std::string(time_zone);
  out.windows.reserve(windows.size());
  for (std::size_t i = 0; i < windows.size(); ++i) {
    const std::string name = window_name(i);
    const auto& [weekday, start_text, end_text] = windows[i];
    if (weekday < 0 || weekday > 6) {
      return field_error(name + ".weekday", "must be 0 (Sunday) to 6 (Saturday)");
    }
    const int start = parse_hhmm(start_text, /*allow_midnight_end=*/false);
    if (start < 0) return field_error(name + ".start", "must be \"HH:MM\" from 00:00 to 23:59");
    const int end = parse_hhmm(end_text, /*allow_midnight_end=*/true);
    if (end < 0) return field_error(name + ".end", "must be \"HH:MM\" from 00:01 to 24:00");
    if (end <= start) return field_error(name + ".end", "must be after start");

    const HoursWindow window{weekday, start, end};
    for (std::size_t j = 0; j < out.windows.size(); ++j) {
      if (overlaps(out.windows[j], window)) {
        return field_error(name, "overlaps " + window_name(j) + " on " +
                                     kWeekdayNames[static_cast<std::size_t>(weekday)]);
      }
    }
    out.windows.push_back(window);
  }

  if (expected_reply_hours < 0 || expected_reply_hours > kMaxExpectedReplyHours) {
    return field_error("expected_reply_hours",
                       "must be 0 to " + std::to_string(kMaxExpectedReplyHours));
  }
  out.expected_reply_hours = expected_reply_hours;

  std::sort(out.windows.begin(), out.windows.end(), [](const HoursWindow& a, const HoursWindow& b) {
    return std::tie(a.weekday, a.start_minute) < std::tie(b.weekday, b.start_minute);
  });
  return out;
}

std::string format_hhmm(int minute_of_day) {
  const int m = std::clamp(minute_of_day, 0, kMinutesPerDay);
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", m / 60, m % 60);
  return buf;
}

bool within_hours(const WeeklyHours& hours, TimePoint at) {
  if (hours.windows.empty()) return false;
  const date::time_zone* zone = zone_or_null(hours);
  return zone != nullptr && within(hours, zone, at);
}

std::optional<TimePoint> next_opening(const WeeklyHours& hours, TimePoint at) {
  using std::chrono::milliseconds;
  using std::chrono::minutes;
  if (hours.windows.empty()) return std::nullopt;
  const date::time_zone* zone = zone_or_null(hours);
  if (zone == nullptr) return std::nullopt;
  const TimePoint horizon = at + date::days{8};

  // The hours can only open at a window's local start or at a zone transition
  // (a fall-back can carry the wall clock back into a window). Collect both, then
  // keep the instants where within_hours actually turns from false to true.
  std::vector<date::sys_seconds> candidates;
  const auto first_day = date::floor<date::days>(zone->to_local(at)) - date::days{1};
  for (int d = 0; d <= 10; ++d) {
    const date::local_days day = first_day + date::days{d};
    const int weekday = static_cast<int>(date::weekday{day}.c_encoding());
    for (const HoursWindow& w : hours.windows) {
      if (w.weekday != weekday) continue;
      const date::local_seconds local = day + minutes{w.start_minute};
      const date::local_info info = zone->get_info(local);
      switch (info.result) {
        case date::local_info::unique:
          candidates.emplace_back(local.time_since_epoch() - info.first.offset);
          break;
        case date::local_info::ambiguous:  // the wall-clock start happens twice
          candidates.emplace_back(local.time_since_epoch() - info.first.offset);
          candidates.emplace_back(local.time_since_epoch() - info.second.offset);
          break;
        case date::local_info::nonexistent:  // opens when the gap ends (also a transition below)
        default:
          candidates.push_back(info.first.end);
          break;
      }
    }
  }
  auto t = date::floor<std::chrono::seconds>(at);
  for (int i = 0; i < 16; ++i) {  // real zones change offset at most a few times a week
    const date::sys_seconds end = zone->get_info(t).end;
    if (end > horizon) break;
    candidates.push_back(end);
    t = end;
  }

  std::optional<TimePoint> best;
  for (const date::sys_seconds c : candidates) {
    const TimePoint candidate{c};
    if (candidate < at || candidate > horizon) continue;
    if (best && candidate >= *best) continue;
    if (within(hours, zone, candidate) && !within(hours, zone, candidate - milliseconds{1})) {
      best = candidate;
    }
  }
  return best;
}

std::string after_hours_notice(const WeeklyHours& hours, TimePoint at, std::string_view crisis_text) {
  std::string text =
      "Automatic notice from the practice: your therapist's messaging hours are closed right now. "
      "Messages are read during messaging hours";
  const auto opening = next_opening(hours, at);
  const date::time_zone* zone = opening ? zone_or_null(hours) : nullptr;
  if (opening && zone != nullptr) {
    const auto [weekday, minute] = local_weekday_minute(zone, *opening);
    text += "; they reopen ";
    text += kWeekdayNames[static_cast<std::size_t>(weekday)];
    text += " " + format_hhmm(minute) + " (" + hours.time_zone + ")";
  }
  text += ".";
  if (hours.expected_reply_hours > 0) {
    text += " Expected reply within " + std::to_string(hours.expected_reply_hours) +
            (hours.expected_reply_hours == 1 ? " hour." : " hours.");
  }
  const bool blank = crisis_text.find_first_not_of(" \t\r\n") == std::string_view::npos;
  if (!blank) {
    text += " If this is urgent: ";
    text += crisis_text;
  }
  return text;
}

bool notice_due(std::int64_t last_notice_unix_ms, std::int64_t now_unix_ms,
                std::chrono::minutes period) {
  if (last_notice_unix_ms == 0) return true;
  if (period.count() <= 0) return true;
  if (last_notice_unix_ms > now_unix_ms) return false;
  // now >= last, so the true difference fits in uint64 and unsigned wrap-around
  // computes it exactly, whatever the signs.
  const auto elapsed_ms =
      static_cast<std::uint64_t>(now_unix_ms) - static_cast<std::uint64_t>(last_notice_unix_ms);
  const auto period_minutes = static_cast<std::uint64_t>(period.count());
  if (period_minutes > std::numeric_limits<std::uint64_t>::max() / 60000) return false;
  return elapsed_ms >= period_minutes * 60000;
}

}  // namespace alliance::messaging
