#include "domain/slots.hpp"

#include <algorithm>

namespace alliance::scheduling {
namespace {

using std::chrono::days;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr days kPastTolerance{1};
constexpr std::chrono::years kFutureLimit{2};

Error field_error(const std::string& field, const std::string& why) {
  return invalid_argument(field, field + ": " + why);
}

Error start_error(Code code, const std::string& why) {
  return Error{code, "start_time: " + why, "start_time"};
}

// One availability interval of one local date, its edges converted to instants with
// that day's zone rules, and its grid points that exist (gap times skipped, ambiguous
// times at their earlier instant).
struct GridPoint {
  Instant at;
  date::local_seconds local;  // the wall time it was made from
};
struct DayInterval {
  Instant start;
  Instant end;
  std::vector<GridPoint> grid;
};

std::vector<DayInterval> day_intervals(const date::time_zone* zone, const Availability& availability,
                                       minutes step, date::year_month_day local_date) {
  std::vector<DayInterval> out;
  const date::local_days day{local_date};
  const std::vector<LocalInterval> intervals = intervals_on(availability, local_date);
  if (intervals.empty()) return out;
  // Fast path for the usual day without a transition: if local midnight and the next
  // local midnight both map uniquely into the same zone period, every time between
  // them does too, with that period's offset.
  const date::local_info at_start = zone->get_info(date::local_seconds{day});
  const date::local_info at_end = zone->get_info(date::local_seconds{day + days(1)});
  const bool steady = at_start.result == date::local_info::unique &&
                      at_end.result == date::local_info::unique &&
                      at_start.first.begin == at_end.first.begin;
  for (const LocalInterval& li : intervals) {
    DayInterval di;
    di.start = local_edge_to_utc(zone, day + minutes(li.start_minute));
    di.end = local_edge_to_utc(zone, day + minutes(li.end_minute));
    di.grid.reserve(static_cast<std::size_t>((li.end_minute - li.start_minute) / step.count() + 1));
    for (minutes m{li.start_minute}; m < minutes(li.end_minute); m += step) {
      const date::local_seconds local = day + m;
      if (steady) {
        di.grid.push_back(GridPoint{Instant{local.time_since_epoch() - at_start.first.offset}, local});
      } else if (auto at = local_to_utc(zone, local)) {
        di.grid.push_back(GridPoint{*at, local});
      }
    }
    out.push_back(std::move(di));
  }
  return out;
}

// A candidate [start, end) conflicts with a Booked b when the candidate's buffered
// window overlaps b's times, or b's buffered window overlaps the candidate's times.
// Both are "[start, end) overlaps a widened copy of b", widened by the larger buffer
// on each side, so every Booked becomes one blocked interval.
struct Blocked {
  Instant start;
  Instant end;
};

std::vector<Blocked> blocked_intervals(const std::vector<Booked>& booked, minutes buffer_before,
                                       minutes buffer_after) {
  std::vector<Blocked> out;
  out.reserve(booked.size());
  for (const Booked& b : booked) {
    const Instant end = std::max(b.start, b.end);
    out.push_back(Blocked{b.start - std::max(b.buffer_before, buffer_after),
                          end + std::max(b.buffer_after, buffer_before)});
  }
  std::sort(out.begin(), out.end(),
            [](const Blocked& a, const Blocked& b) { return a.start < b.start; });
  std::vector<Blocked> merged;
  for (const Blocked& b : out) {
    if (!merged.empty() && b.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, b.end);
    } else {
      merged.push_back(b);
    }
  }
  return merged;
}

// `blocked` sorted and disjoint.
bool overlaps_blocked(const std::vector<Blocked>& blocked, Instant start, Instant end) {
  auto it = std::upper_bound(blocked.begin(), blocked.end(), start,
                             [](Instant t, const Blocked& b) { return t < b.end; });
  return it != blocked.end() && it->start < end;
}

Status validate_inputs(const Availability& availability, const SlotRules& rules) {
  if (auto s = validate(availability); !s) return s;
  return validate(rules);
}

}  // namespace

Status validate(const SlotRules& rules) {
  if (rules.duration < minutes(5) || rules.duration > minutes(480)) {
    return field_error("duration", "must be between 5 and 480 minutes");
  }
  if (rules.buffer_before < minutes(0) || rules.buffer_before > minutes(240)) {
    return field_error("buffer_before", "must be between 0 and 240 minutes");
  }
  if (rules.buffer_after < minutes(0) || rules.buffer_after > minutes(240)) {
    return field_error("buffer_after", "must be between 0 and 240 minutes");
  }
  if (rules.step.count() != 0 && (rules.step < minutes(5) || rules.step > minutes(480))) {
    return field_error("step", "must be 0 (the duration) or between 5 and 480 minutes");
  }
  if (rules.min_notice < minutes(0) || rules.min_notice > days(90)) {
    return field_error("min_notice", "must be between 0 and 90 days");
  }
  if (rules.booking_horizon < days(1) || rules.booking_horizon > days(730)) {
    return field_error("booking_horizon", "must be between 1 and 730 days");
  }
  if (rules.min_notice >= rules.booking_horizon) {
    return field_error("min_notice", "must be shorter than booking_horizon");
  }
  return {};
}

minutes grid_step(const SlotRules& rules) {
  return rules.step.count() == 0 ? rules.duration : rules.step;
}

bool conflicts(const std::vector<Booked>& booked, Instant start, Instant end,
               minutes buffer_before, minutes buffer_after) {
  return overlaps_blocked(blocked_intervals(booked, buffer_before, buffer_after), start, end);
}

// Buffers are allowed to extend past the edge of an availability interval: they are
// preparation and note-writing time that protects neighbouring appointments, not time
// the therapist sees clients. Requiring them inside the interval would push the first
// slot of every day off the grid (09:10 instead of 09:00 with a 10-minute buffer) and
// waste the end of the day; a booked neighbour's buffer still blocks as required.
Result<std::vector<OpenStart>> find_open_starts(const Availability& availability, const SlotRules& rules,
                                                const std::vector<Booked>& booked, Instant from, Instant to,
                                                Instant now) {
  if (auto s = validate_inputs(availability, rules); !s) return std::move(s).error();
  if (to <= from) return field_error("to", "must be after from");
  if (to - from > kMaxSearchRange) {
    return field_error("to", "range longer than " + std::to_string(kMaxSearchRange.count()) + " days");
  }
  if (from < now - kPastTolerance) return field_error("from", "too far in the past");
  if (from > now + std::chrono::duration_cast<seconds>(kFutureLimit)) {
    return field_error("from", "too far in the future");
  }
  const date::time_zone* zone = *find_time_zone(availability.time_zone);

  // Starts allowed: [earliest, latest] (latest inclusive: start <= now + horizon).
  const Instant earliest = std::max(from, now + rules.min_notice);
  const Instant latest = std::min(to - seconds(1), now + rules.booking_horizon);
  std::vector<OpenStart> out;
  if (earliest > latest) return out;

  const std::vector<Blocked> blocked =
      blocked_intervals(booked, rules.buffer_before, rules.buffer_after);
  const minutes step = grid_step(rules);
  // A slot belongs to the local date of its start, so these local dates cover every
  // start in [earliest, latest].
  const date::sys_days first_day{local_date(zone, earliest)};
  const date::sys_days last_day{local_date(zone, latest)};
  for (date::sys_days d = first_day; d <= last_day; d += days(1)) {
    for (const DayInterval& di : day_intervals(zone, availability, step, date::year_month_day{d})) {
      for (const GridPoint& point : di.grid) {
        const Instant start = point.at;
        const Instant end = start + rules.duration;
        if (start < earliest || start > latest) continue;
        if (end > di.end) continue;
        if (overlaps_blocked(blocked, start, end)) continue;
        out.push_back(OpenStart{start, static_cast<int>(std::chrono::duration_cast<minutes>(
                                           point.local.time_since_epoch() - start.time_since_epoch())
                                           .count())});
      }
    }
  }
  const auto by_start = [](const OpenStart& a, const OpenStart& b) { return a.start < b.start; };
  // Already in order unless a zone transition folds one local day back over the last.
  if (!std::is_sorted(out.begin(), out.end(), by_start)) std::sort(out.begin(), out.end(), by_start);
  out.erase(std::unique(out.begin(), out.end(),
                        [](const OpenStart& a, const OpenStart& b) { return a.start == b.start; }),
            out.end());
  return out;
}

Result<std::vector<Slot>> find_slots(const Availability& availability, const SlotRules& rules,
                                     const std::vector<Booked>& booked, Instant from, Instant to,
                                     Instant now) {
  auto starts = find_open_starts(availability, rules, booked, from, to, now);
  if (!starts) return std::move(starts).error();
  std::vector<Slot> out;
  out.reserve(starts->size());
  for (const OpenStart& s : *starts) out.push_back(to_slot(s, rules.duration));
  return out;
}

Slot to_slot(const OpenStart& s, minutes duration) {
  const date::local_seconds local{s.start.time_since_epoch() + minutes(s.utc_offset_minutes)};
  return Slot{s.start, s.start + duration, format_local(local), s.utc_offset_minutes};
}

std::vector<SlotRun> to_runs(const std::vector<OpenStart>& starts, minutes step) {
  std::vector<SlotRun> out;
  for (const OpenStart& s : starts) {
    if (!out.empty()) {
      SlotRun& last = out.back();
      if (last.utc_offset_minutes == s.utc_offset_minutes && last.start + last.count * step == s.start) {
        ++last.count;
        continue;
      }
    }
    out.push_back(SlotRun{s.start, 1, step, s.utc_offset_minutes});
  }
  return out;
}

// Mirrors find_slots' filters one by one so the two agree. The time checks come first:
// they are cheap and keep absurd instants away from the calendar arithmetic.
Status check_slot(const Availability& availability, const SlotRules& rules,
                  const std::vector<Booked>& booked, Instant start, Instant now) {
  if (auto s = validate_inputs(availability, rules); !s) return s;
  if (start < now + rules.min_notice) {
    return start_error(Code::kFailedPrecondition, "inside the minimum notice");
  }
  if (start > now + rules.booking_horizon) {
    return start_error(Code::kFailedPrecondition, "beyond the booking horizon");
  }
  const date::time_zone* zone = *find_time_zone(availability.time_zone);
  const Instant end = start + rules.duration;
  bool on_grid = false;
  bool inside = false;
  for (const DayInterval& di :
       day_intervals(zone, availability, grid_step(rules), local_date(zone, start))) {
    if (start < di.start || start >= di.end) continue;
    inside = true;
    on_grid = std::any_of(di.grid.begin(), di.grid.end(),
                          [&](const GridPoint& p) { return p.at == start; });
    if (!on_grid) break;
    if (end > di.end) return start_error(Code::kInvalidArgument, "outside the therapist's hours");
    break;
  }
  if (!inside) return start_error(Code::kInvalidArgument, "outside the therapist's hours");
  if (!on_grid) return start_error(Code::kInvalidArgument, "not on the appointment type's grid");
  if (conflicts(booked, start, end, rules.buffer_before, rules.buffer_after)) {
    return start_error(Code::kAlreadyExists, "overlaps another appointment or its buffer");
  }
  return {};
}

}  // namespace alliance::scheduling
