#include "domain/time_blocks.hpp"

namespace alliance::scheduling {

std::vector<Booked> block_occurrences(const BlockTimes& block, Instant from, Instant to) {
  std::vector<Booked> out;
  const auto length = block.end - block.start;
  auto keep = [&](Instant start) {
    if (start < to && start + length > from) out.push_back(Booked{start, start + length, {}, {}});
  };
  auto zone = find_time_zone(block.time_zone);
  if (!block.weekly || !zone) {
    keep(block.start);
    return out;
  }
  const date::local_seconds first_local = (*zone)->to_local(block.start);
  constexpr auto kWeek = std::chrono::days(7);
  // The first week whose occurrence could still overlap `from` (a DST shift moves an
  // occurrence by at most a few hours; one week of slack covers it).
  long long k = 0;
  if (from > block.start + kWeek) k = (from - block.start) / kWeek - 1;
  for (;; ++k) {
    const date::local_seconds local = first_local + date::days(7 * k);
    if (block.until && date::year_month_day(date::floor<date::days>(local)) > *block.until) break;
    // As series_starts: the offset before any transition (the earlier of an ambiguous
    // pair; a time in a spring-forward gap lands the gap's length later).
    const Instant start{local.time_since_epoch() - (*zone)->get_info(local).first.offset};
    if (start >= to) break;
    keep(start);
  }
  return out;
}

std::optional<Instant> block_last_end(const BlockTimes& block) {
  if (!block.weekly) return block.end;
  if (!block.until) return std::nullopt;
  // The until date's end in the furthest zone from UTC, plus the block's length.
  return Instant{date::sys_days(*block.until) + date::days(2)} + (block.end - block.start);
}

}  // namespace alliance::scheduling
