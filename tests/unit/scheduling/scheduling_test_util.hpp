#pragma once
// Helpers for the scheduling domain tests. utc() is plain calendar arithmetic on UTC
// (no time-zone rules), so expectations written with it are hand-checked values.
#include <string>
#include <vector>

#include "domain/scheduling_domain.hpp"

namespace alliance::scheduling::testing {

inline Instant utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
  return Instant{date::sys_days{date::year{y} / mo / d}} + std::chrono::hours(h) +
         std::chrono::minutes(mi);
}

inline date::year_month_day ymd(int y, unsigned mo, unsigned d) {
  return date::year{y} / mo / d;
}

inline std::string iso(Instant t) { return date::format("%FT%RZ", t); }

inline std::vector<std::string> starts_of(const std::vector<Slot>& slots) {
  std::vector<std::string> out;
  for (const Slot& s : slots) out.push_back(iso(s.start));
  return out;
}

inline std::vector<std::string> isos(const std::vector<Instant>& instants) {
  std::vector<std::string> out;
  for (Instant t : instants) out.push_back(iso(t));
  return out;
}

// 0 = Sunday ... 6 = Saturday.
inline WeeklyHours weekly(int weekday, int start_h, int start_m, int end_h, int end_m) {
  return WeeklyHours{weekday, LocalInterval{start_h * 60 + start_m, end_h * 60 + end_m}};
}

inline ExtraHours extra(date::year_month_day day, int start_h, int start_m, int end_h, int end_m) {
  return ExtraHours{day, LocalInterval{start_h * 60 + start_m, end_h * 60 + end_m}};
}

inline SlotRules rules_minutes(int duration, int step = 0) {
  SlotRules r;
  r.duration = std::chrono::minutes(duration);
  r.step = std::chrono::minutes(step);
  return r;
}

}  // namespace alliance::scheduling::testing
