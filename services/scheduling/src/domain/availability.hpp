#pragma once
// A therapist's working hours in their own IANA time zone: weekly hours, extra
// hours on dates and whole days off. Plain structs and pure functions, any thread.
#include <string>
#include <vector>

#include <date/date.h>

#include "alliance/core/result.hpp"

namespace alliance::scheduling {

// Minutes after local midnight: 0 <= start_minute < end_minute <= 1440.
// An interval never crosses midnight; 1440 means "until midnight".
struct LocalInterval {
  int start_minute = 0;
  int end_minute = 0;
};

// Recurring hours: weekday 0 = Sunday ... 6 = Saturday (date::weekday's encoding).
struct WeeklyHours {
  int weekday = 0;
  LocalInterval interval;
};

// Additional hours on one local date (on top of that day's weekly hours).
struct ExtraHours {
  date::year_month_day date;
  LocalInterval interval;
};

// Whole local days off, first..last inclusive. Time off wins over weekly AND extra
// hours on those days.
struct TimeOff {
  date::year_month_day first;
  date::year_month_day last;
};

// Weekly hours that replace the ones before them from a local date on (a new term,
// a move to part time).
struct DatedWeekly {
  date::year_month_day from;
  std::vector<WeeklyHours> weekly;
};
struct Availability {
  std::string time_zone;  // IANA name, e.g. "America/New_York"
  std::vector<WeeklyHours> weekly;  // until the first of `changes`
  std::vector<DatedWeekly> changes;  // by from date, each strictly later than the one before
  std::vector<ExtraHours> extra;
  std::vector<TimeOff> time_off;
};

// kInvalidArgument naming the field, e.g. "weekly[2].end_minute: must be after
// start_minute", "weekly[3]: overlaps weekly[1]", "extra[0].date: not a valid date",
// "time_zone: unknown time zone \"X\"". Weekly intervals on one weekday must not
// overlap each other, nor extra intervals on one date; extra hours MAY overlap or
// touch that day's weekly hours (they are merged).
// Limits that bound the work: at most 200 weekly, 1000 extra and 1000 time-off rows,
// 20 changes of 200 weekly rows each. changes[i].from must be a valid date after
// changes[i-1].from; each change's weekly rows follow weekly's rules
// ("changes[1].weekly[0].end_minute: ...").
Status validate(const Availability& availability);

// The working intervals of one local date: that weekday's weekly hours (of the latest
// change starting on or before the date, else `weekly`) plus the
// date's extra hours, merged where they overlap or touch, sorted; empty on a day
// off. Assumes `availability` passed validate().
std::vector<LocalInterval> intervals_on(const Availability& availability,
                                        date::year_month_day local_date);

}  // namespace alliance::scheduling
