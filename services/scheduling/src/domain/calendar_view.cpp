#include "domain/calendar_view.hpp"

#include <algorithm>

namespace alliance::scheduling {
namespace {

void add_clipped(std::vector<Span>& out, Instant start, Instant end, Instant from, Instant to) {
  start = std::max(start, from);
  end = std::min(end, to);
  if (start < end) out.push_back(Span{start, end});
}

}  // namespace

std::vector<Span> working_spans(const Availability& availability, Instant from, Instant to) {
  std::vector<Span> out;
  auto zone = find_time_zone(availability.time_zone);
  if (!zone || to <= from) return out;
  const date::sys_days first{local_date(*zone, from)};
  const date::sys_days last{local_date(*zone, to)};
  for (date::sys_days d = first; d <= last; d += date::days(1)) {
    const date::local_days day{d.time_since_epoch()};
    for (const auto& iv : intervals_on(availability, date::year_month_day(d)))
      add_clipped(out, local_edge_to_utc(*zone, day + std::chrono::minutes(iv.start_minute)),
                  local_edge_to_utc(*zone, day + std::chrono::minutes(iv.end_minute)), from, to);
  }
  return out;
}

std::vector<Span> time_off_spans(const Availability& availability, Instant from, Instant to) {
  std::vector<Span> out;
  auto zone = find_time_zone(availability.time_zone);
  if (!zone || to <= from) return out;
  for (const auto& off : availability.time_off) {
    const date::local_days first{date::sys_days(off.first).time_since_epoch()};
    const date::local_days after_last{(date::sys_days(off.last) + date::days(1)).time_since_epoch()};
    add_clipped(out, local_edge_to_utc(*zone, first), local_edge_to_utc(*zone, after_last), from, to);
  }
  std::sort(out.begin(), out.end(), [](const Span& a, const Span& b) { return a.start < b.start; });
  return out;
}

}  // namespace alliance::scheduling
