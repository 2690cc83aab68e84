#pragma once
// When a client is reminded of an appointment: a practice's reminder policy
// (offsets before the start, per appointment type, quiet hours in the client's own
// zone) and the planning rules that turn it into due instants. Plain structs and
// pure functions, any thread: the tz database (Howard Hinnant's date/tz on the OS
// database) is loaded once on first use and only read afterwards.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <date/tz.h>

#include "alliance/core/result.hpp"

namespace alliance::reminders {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

inline constexpr int kMinOffsetMinutes = 5;
inline constexpr int kMaxOffsetMinutes = 14 * 24 * 60;
inline constexpr std::size_t kMaxOffsets = 5;
inline constexpr std::size_t kMaxTypeOverrides = 50;
// A reminder moved out of quiet hours must still come this long before the start.
inline constexpr std::chrono::minutes kQuietHoursMargin{30};

// Quiet hours on the client's wall clock: [start_minute, end_minute) minutes after
// local midnight; end before start spans midnight (21:00-08:00). start != end.
struct QuietHours {
  int start_minute = 0;
  int end_minute = 0;
};

struct Policy {
  std::vector<int> offsets_minutes;                            // distinct, largest first
  std::map<std::string, std::vector<int>, std::less<>> type_offsets;  // type id -> offsets, same form
  std::optional<QuietHours> quiet;
  bool show_therapist_name = false;
};

// 24 h and 2 h before, quiet hours 21:00-08:00, therapist not named.
Policy default_policy();

struct TypeOffsetsInput {
  std::string type_id;
  std::vector<int> offsets_minutes;
};

// Validates an admin's policy and normalises it (offsets sorted largest first).
// kInvalidArgument naming the field, e.g. `offsets_minutes: 1 to 5 offsets`,
// `offsets_minutes[1]: must be 5 to 20160 minutes`, `offsets_minutes[2]: repeats 120`,
// `type_overrides[0].type_id: required`, `type_overrides[1].type_id: repeats "t1"`,
// `quiet_start: must be "HH:MM" from 00:00 to 23:59`, `quiet_end: must differ from
// quiet_start`, `quiet_end: required with quiet_start` (both "" = no quiet hours).
Result<Policy> parse_policy(const std::vector<int>& offsets_minutes, const std::vector<TypeOffsetsInput>& type_overrides,
                            std::string_view quiet_start, std::string_view quiet_end, bool show_therapist_name);

// "21:00" for 1260.
std::string format_hhmm(int minute_of_day);

// Where a reminder planned for `planned` goes given quiet hours: unchanged outside
// them; inside, to the end of this quiet period if that is at or before
// `appointment_start` - 30 min, otherwise to the start of this quiet period
// (earlier). Judged on the client's wall clock, so a DST change inside the night
// moves the end to the right instant. A period edge inside a spring-forward gap is
// the transition instant; a repeated (fall-back) end is its later occurrence and a
// repeated start its earlier one, so the quiet period is never cut short.
struct QuietHoursResult {
  TimePoint due;
  bool moved = false;
};
QuietHoursResult move_out_of_quiet_hours(TimePoint planned, TimePoint appointment_start, const QuietHours& quiet,
                                         const date::time_zone* zone);

struct PlannedReminder {
  int offset_minutes = 0;
  TimePoint planned;  // start - offset
  TimePoint due;      // planned, moved out of quiet hours, and never before `now`
  bool moved_for_quiet_hours = false;
};

// The reminders an appointment of `type_id` starting at `start` gets when planned
// at `now`, earliest due first: one per offset of the type's override (else the
// practice's), skipping offsets whose planned instant is not after `now` (booked
// 3 h ahead: only the 2 h one); nothing if the appointment has started. A due
// instant that quiet hours moved before `now` becomes `now` (never dropped). Two
// offsets that land on the same due instant are sent once (as the smaller offset).
std::vector<PlannedReminder> plan_reminders(const Policy& policy, std::string_view type_id, TimePoint start,
                                            const date::time_zone* client_zone, TimePoint now);

// The zone for an IANA name; nullptr if the database does not know it.
const date::time_zone* find_zone(std::string_view iana_name);

}  // namespace alliance::reminders
