#pragma once
// Slot search and the server-side re-check of a requested start. Pure functions
// over plain values (availability, an appointment type's rules, the therapist's
// existing appointments, "now"): no I/O, any thread.
//
// All wall-clock reasoning happens in the therapist's zone, per local day: interval
// edges and grid points are LOCAL times converted with that day's zone rules, so a
// 09:00 slot stays 09:00 local across a DST change, a local time inside a
// spring-forward gap is never offered, and an ambiguous fall-back time is offered
// once (its earlier instant).
#include <chrono>
#include <string>
#include <vector>

#include "alliance/core/result.hpp"
#include "domain/availability.hpp"
#include "domain/time_zone.hpp"

namespace alliance::scheduling {

// The booking rules of an appointment type.
struct SlotRules {
  std::chrono::minutes duration{50};                        // 5..480
  std::chrono::minutes buffer_before{0}, buffer_after{0};   // 0..240 each
  std::chrono::minutes step{0};  // grid: starts are interval start + k*step; 0 => duration; else 5..480
  std::chrono::minutes min_notice{0};                       // earliest start = now + min_notice; 0..90 days
  std::chrono::days booking_horizon{std::chrono::days(60)}; // latest start = now + horizon; 1..730 days
};

// kInvalidArgument naming the field: "duration: must be between 5 and 480 minutes",
// "buffer_before: ...", "step: ...", "min_notice: ...", "booking_horizon: ...".
Status validate(const SlotRules& rules);

// An existing appointment that blocks time: its own times and its own buffers
// (which may differ from the rules of the type being searched).
struct Booked {
  Instant start;
  Instant end;
  std::chrono::minutes buffer_before{0}, buffer_after{0};
};

struct Slot {
  Instant start, end;       // end = start + duration
  std::string local_start;  // "2026-03-08T09:00" in the therapist's zone
  int utc_offset_minutes = 0;  // the zone's offset at start, e.g. -240
};

// An open start before any text is made for it: what the compact answer needs.
struct OpenStart {
  Instant start;
  int utc_offset_minutes = 0;  // the zone's offset at start
};

// Consecutive open starts on one grid: start + i * step for i in [0, count), all at
// the same UTC offset.
struct SlotRun {
  Instant start;
  int count = 0;
  std::chrono::minutes step{0};
  int utc_offset_minutes = 0;
};

// Bounds the work one request can cause.
inline constexpr std::chrono::days kMaxSearchRange{42};

// Open slots whose start is in [from, to), sorted by start, no duplicates.
// Errors (kInvalidArgument) name the field: "to: must be after from",
// "to: range longer than 42 days" (exactly 42 is allowed), "from: too far in the past" (before now - 1 day),
// "from: too far in the future" (after now + 2 years), plus validate()'s errors for
// the availability and the rules.
// A slot [start, end):
//  - lies inside one availability interval of its local start date (weekly hours of
//    that weekday merged with extra hours, none on a time-off day);
//  - starts on the grid: interval start + k*step, in local time;
//  - its buffered window [start - buffer_before, end + buffer_after) overlaps no
//    Booked [start, end), and no Booked's buffered window overlaps [start, end).
//    The buffers may extend past the interval edge (see slots.cpp for why);
//  - now + min_notice <= start <= now + booking_horizon.
Result<std::vector<Slot>> find_slots(const Availability& availability, const SlotRules& rules,
                                     const std::vector<Booked>& booked, Instant from, Instant to,
                                     Instant now);

// find_slots' starts, with the same checks and errors, without the per-slot text.
Result<std::vector<OpenStart>> find_open_starts(const Availability& availability, const SlotRules& rules,
                                                const std::vector<Booked>& booked, Instant from, Instant to,
                                                Instant now);

// The slot an open start stands for, with its end and local start text.
Slot to_slot(const OpenStart& start, std::chrono::minutes duration);

// The starts' grid: rules.step, or the duration when step is 0.
std::chrono::minutes grid_step(const SlotRules& rules);

// `starts` (sorted, distinct) as runs: a start joins the run before it when it comes
// exactly `step` after that run's last start at the same offset. Every start is in
// exactly one run, in order.
std::vector<SlotRun> to_runs(const std::vector<OpenStart>& starts, std::chrono::minutes step);

// Re-checks a requested start from the server's own rules. A start is accepted iff
// find_slots (over any range containing it) would offer it. Errors:
//  kInvalidArgument field "start_time": "start_time: not on the appointment type's grid",
//                                       "start_time: outside the therapist's hours";
//  kFailedPrecondition field "start_time": "start_time: inside the minimum notice",
//                                          "start_time: beyond the booking horizon";
//  kAlreadyExists field "start_time": "start_time: overlaps another appointment or its buffer";
//  and validate()'s errors for the availability and the rules.
// Checked in that order except that notice and horizon come before hours and grid
// (cheap, and they keep absurd instants away from the calendar arithmetic).
Status check_slot(const Availability& availability, const SlotRules& rules,
                  const std::vector<Booked>& booked, Instant start, Instant now);

// True when an appointment [start, end) with the given buffers conflicts with any of
// `booked` (the buffer rule above). Exposed for the store's in-transaction re-check.
bool conflicts(const std::vector<Booked>& booked, Instant start, Instant end,
               std::chrono::minutes buffer_before, std::chrono::minutes buffer_after);

}  // namespace alliance::scheduling
