#pragma once
// Time blocks: time a therapist is not bookable inside their hours (supervision,
// personal), once or weekly at the same local wall time. Pure functions, any thread.
#include <optional>
#include <string>
#include <vector>

#include "domain/slots.hpp"
#include "domain/time_zone.hpp"

namespace alliance::scheduling {

// When a block happens: its first occurrence [start, end) (at most a day long) and,
// when weekly, every 7 local days after it at the same wall time in `time_zone`
// (kept across DST like a series: domain/series.hpp), up to `until` inclusive (the
// last local date an occurrence starts on; nullopt: no end).
struct BlockTimes {
  Instant start{}, end{};
  std::string time_zone;
  bool weekly = false;
  std::optional<date::year_month_day> until;
};

// The occurrences that overlap [from, to), earliest first, as Booked with no buffers:
// an appointment's buffered window may not reach into a block (find_slots and
// conflicts treat it as one more appointment). An unknown zone yields the first
// occurrence only.
std::vector<Booked> block_occurrences(const BlockTimes& block, Instant from, Instant to);

// The latest instant any occurrence can end (for a store's index range); nullopt when
// a weekly block has no end.
std::optional<Instant> block_last_end(const BlockTimes& block);

}  // namespace alliance::scheduling
