#pragma once
// Time-zone lookup and local <-> UTC conversion on the OS tz database (Howard
// Hinnant's date/tz). Pure functions, any thread: the database is loaded once on
// first use and only read afterwards.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <date/date.h>
#include <date/tz.h>

#include "alliance/core/result.hpp"

namespace alliance::scheduling {

// Every instant the domain handles is UTC, to the second.
using Instant = std::chrono::sys_seconds;

// The zone for an IANA name ("America/New_York"). Unknown or malformed names are
// kInvalidArgument, field "time_zone": `time_zone: unknown time zone "X"`.
Result<const date::time_zone*> find_time_zone(std::string_view iana_name);

// A wall-clock time in `zone` as an instant. A time inside a spring-forward gap
// does not exist (std::nullopt); an ambiguous time (fall-back overlap) resolves
// to the EARLIER instant, so each wall-clock time is offered at most once.
std::optional<Instant> local_to_utc(const date::time_zone* zone, date::local_seconds local);

// An interval edge at a wall-clock time: like local_to_utc, but a time inside a
// gap maps to the transition instant (the first moment after the gap), so an
// interval that starts or ends inside a gap keeps the part that exists.
Instant local_edge_to_utc(const date::time_zone* zone, date::local_seconds local);

// "2026-03-08T09:00" (minutes precision) for `at` in `zone`.
std::string format_local_minutes(const date::time_zone* zone, Instant at);
// The same form for a wall-clock time already known.
std::string format_local(date::local_seconds local);

// UTC offset of `zone` at `at`, in minutes (New York in summer: -240).
int utc_offset_minutes(const date::time_zone* zone, Instant at);

// The local calendar date of `at` in `zone`.
date::year_month_day local_date(const date::time_zone* zone, Instant at);

}  // namespace alliance::scheduling
