#pragma once
// A therapist's weekly messaging hours in their own IANA time zone, and the
// automatic after-hours notice the practice sends outside them. Plain structs and
// pure functions, any thread: the tz database (Howard Hinnant's date/tz on the OS
// database) is loaded once on first use and only read afterwards.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "alliance/core/result.hpp"

namespace alliance::messaging {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

// One recurring window: weekday 0 = Sunday ... 6 = Saturday; [start_minute,
// end_minute) minutes after local midnight, 0 <= start < end <= 1440 (1440 = "24:00").
// A window never crosses midnight: Friday 22:00 to Saturday 02:00 is two windows.
struct HoursWindow {
  int weekday = 0;
  int start_minute = 0;
  int end_minute = 0;
};

// The hours as parse_weekly_hours returns them: a known zone, windows sorted by
// (weekday, start) and not overlapping (they may touch), expected_reply_hours 0..336.
struct WeeklyHours {
  std::string time_zone;            // IANA name as given, e.g. "America/New_York"
  std::vector<HoursWindow> windows;
  int expected_reply_hours = 0;     // shown in notices; 0 = not stated
};

inline constexpr std::size_t kMaxHoursWindows = 50;
inline constexpr int kMaxExpectedReplyHours = 336;  // two weeks

// Validates request input (weekday, "HH:MM" start, "HH:MM" end per window) and
// normalises it. kInvalidArgument naming the field, e.g.
//   `time_zone: unknown time zone "Mars/Base"`, `windows: at most 50 windows`,
//   `windows[2].weekday: must be 0 (Sunday) to 6 (Saturday)`,
//   `windows[0].start: must be "HH:MM" from 00:00 to 23:59`,
//   `windows[0].end: must be after start`, `windows[3]: overlaps windows[1] on Monday`,
//   `expected_reply_hours: must be 0 to 336`.
// Times parse strictly: exactly two digits, ':', two digits; "24:00" only as an end.
// Overlap names the later window (the one to fix); touching windows are allowed.
Result<WeeklyHours> parse_weekly_hours(
    std::string_view time_zone,
    const std::vector<std::tuple<int, std::string, std::string>>& windows,
    int expected_reply_hours);

// "09:05" for 545; 1440 is "24:00". Out-of-range input is clamped to 0..1440.
std::string format_hhmm(int minute_of_day);

// Whether `at` falls inside a window, judged on the therapist's wall clock (local
// weekday and minute of `at` in their zone), so DST changes keep 09:00 at 09:00.
// No windows, or a zone the database does not know: never within hours.
bool within_hours(const WeeklyHours& hours, TimePoint at);

// The first instant at or after `at` when the hours open, i.e. within_hours turns
// from false to true, looking at most 8 days ahead. Inside hours this is the next
// opening after the current window closes; touching windows (Mon 12:00-24:00 and
// Tue 00:00-09:00) are one stretch. A window start inside a spring-forward gap
// opens at the transition (the first local time that exists); a start repeated by
// a fall-back opens at its first occurrence (and again at its second, if the hours
// closed in between). std::nullopt if there are no windows, the hours never close
// (every day 00:00-24:00), or the zone is unknown.
std::optional<TimePoint> next_opening(const WeeklyHours& hours, TimePoint at);

// The automatic after-hours notice, in the practice's voice (it names no person
// and never speaks as the therapist), e.g.
//   "Automatic notice from the practice: your therapist's messaging hours are closed
//    right now. Messages are read during messaging hours; they reopen Monday 09:00
//    (America/New_York). Expected reply within 24 hours. If this is urgent: <crisis>"
// The reopening sentence is left out when next_opening finds none, the expected
// reply when it is 0, the crisis sentence when `crisis_text` is blank.
std::string after_hours_notice(const WeeklyHours& hours, TimePoint at, std::string_view crisis_text);

// At most one notice per conversation per period: true when no notice was sent
// yet (last_notice_unix_ms == 0) or last + period <= now. A last notice in the
// future (clock skew) is not due; a period <= 0 is always due. Overflow-safe for
// any int64 input.
bool notice_due(std::int64_t last_notice_unix_ms, std::int64_t now_unix_ms,
                std::chrono::minutes period);

}  // namespace alliance::messaging
