#include "domain/series.hpp"

namespace alliance::scheduling {

Result<std::vector<Instant>> series_starts(const std::string& time_zone, Instant first_start,
                                           int interval_weeks, int count) {
  auto zone = find_time_zone(time_zone);
  if (!zone) return std::move(zone).error();
  if (interval_weeks != 1 && interval_weeks != 2) {
    return invalid_argument("interval_weeks", "interval_weeks: must be 1 or 2");
  }
  if (count < 1 || count > 52) return invalid_argument("count", "count: must be between 1 and 52");

  const date::local_seconds first_local = (*zone)->to_local(first_start);
  std::vector<Instant> out;
  out.reserve(static_cast<std::size_t>(count));
  out.push_back(first_start);  // exactly as asked, even if it is the later of an ambiguous pair
  for (int k = 1; k < count; ++k) {
    const date::local_seconds local = first_local + date::days(7 * interval_weeks * k);
    const date::local_info info = (*zone)->get_info(local);
    // unique and ambiguous: the offset in force before any transition (the earlier
    // instant). nonexistent: reading the wall time with the pre-gap offset lands the
    // length of the gap later on the clock (02:30 -> 03:30), which is the move forward
    // a therapist expects rather than skipping the week.
    out.push_back(Instant{local.time_since_epoch() - info.first.offset});
  }
  return out;
}

}  // namespace alliance::scheduling
