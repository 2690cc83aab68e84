#pragma once
// Recurring appointment series in the therapist's local time. Pure, any thread.
#include <string>
#include <vector>

#include "alliance/core/result.hpp"
#include "domain/time_zone.hpp"

namespace alliance::scheduling {

// The starts of a series: `first_start`, then every `interval_weeks` weeks (1 or 2),
// `count` occurrences in all (1..52), each at the same LOCAL wall time in `time_zone`
// as the first (so a 09:00 series stays 09:00 across DST). A local time that does not
// exist on an occurrence's date (spring-forward gap) moves forward by the gap
// (02:30 -> 03:30 in New York); an ambiguous one takes the earlier instant.
// Errors (kInvalidArgument): "time_zone: unknown time zone \"X\"",
// "interval_weeks: must be 1 or 2", "count: must be between 1 and 52".
Result<std::vector<Instant>> series_starts(const std::string& time_zone, Instant first_start,
                                           int interval_weeks, int count);

}  // namespace alliance::scheduling
