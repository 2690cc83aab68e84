#include "domain/availability.hpp"

#include <algorithm>
#include <chrono>

#include "domain/time_zone.hpp"

namespace alliance::scheduling {
namespace {

constexpr std::size_t kMaxWeekly = 200;
constexpr std::size_t kMaxExtra = 1000;
constexpr std::size_t kMaxTimeOff = 1000;
constexpr std::size_t kMaxChanges = 20;

Error field_error(const std::string& field, const std::string& why) {
  return invalid_argument(field, field + ": " + why);
}

std::string indexed(const char* list, std::size_t i) {
  return std::string(list) + "[" + std::to_string(i) + "]";
}

Status validate_interval(const std::string& prefix, const LocalInterval& interval) {
  if (interval.start_minute < 0 || interval.start_minute > 1439) {
    return field_error(prefix + ".start_minute", "must be between 0 and 1439");
  }
  if (interval.end_minute > 1440) {
    return field_error(prefix + ".end_minute", "must be at most 1440 (midnight)");
  }
  if (interval.end_minute <= interval.start_minute) {
    return field_error(prefix + ".end_minute", "must be after start_minute");
  }
  return {};
}

bool overlaps(const LocalInterval& a, const LocalInterval& b) {
  return a.start_minute < b.end_minute && b.start_minute < a.end_minute;
}

// One list of weekly hours: `list` names it in errors ("weekly", "changes[0].weekly").
Status validate_weekly(const std::string& list, const std::vector<WeeklyHours>& weekly) {
  if (weekly.size() > kMaxWeekly) return field_error(list, "at most " + std::to_string(kMaxWeekly) + " intervals");
  for (std::size_t i = 0; i < weekly.size(); ++i) {
    const std::string name = list + "[" + std::to_string(i) + "]";
    if (weekly[i].weekday < 0 || weekly[i].weekday > 6) {
      return field_error(name + ".weekday", "must be 0 (Sunday) to 6 (Saturday)");
    }
    if (auto s = validate_interval(name, weekly[i].interval); !s) return s;
    for (std::size_t j = 0; j < i; ++j) {
      if (weekly[j].weekday == weekly[i].weekday && overlaps(weekly[j].interval, weekly[i].interval)) {
        return field_error(name, "overlaps " + list + "[" + std::to_string(j) + "] on the same weekday");
      }
    }
  }
  return {};
}

}  // namespace

Status validate(const Availability& availability) {
  if (auto zone = find_time_zone(availability.time_zone); !zone) return zone.error();
  if (availability.extra.size() > kMaxExtra) {
    return field_error("extra", "at most " + std::to_string(kMaxExtra) + " entries");
  }
  if (availability.time_off.size() > kMaxTimeOff) {
    return field_error("time_off", "at most " + std::to_string(kMaxTimeOff) + " entries");
  }

  if (auto s = validate_weekly("weekly", availability.weekly); !s) return s;
  if (availability.changes.size() > kMaxChanges) {
    return field_error("changes", "at most " + std::to_string(kMaxChanges) + " changes");
  }
  for (std::size_t i = 0; i < availability.changes.size(); ++i) {
    const std::string name = indexed("changes", i);
    const auto& change = availability.changes[i];
    if (!change.from.ok()) return field_error(name + ".from_date", "not a valid date");
    if (i > 0 && change.from <= availability.changes[i - 1].from) {
      return field_error(name + ".from_date", "must be after " + indexed("changes", i - 1) + ".from_date");
    }
    if (auto s = validate_weekly(name + ".weekly", change.weekly); !s) return s;
  }

  const auto& extra = availability.extra;
  for (std::size_t i = 0; i < extra.size(); ++i) {
    const std::string name = indexed("extra", i);
    if (!extra[i].date.ok()) return field_error(name + ".date", "not a valid date");
    if (auto s = validate_interval(name, extra[i].interval); !s) return s;
    for (std::size_t j = 0; j < i; ++j) {
      if (extra[j].date == extra[i].date && overlaps(extra[j].interval, extra[i].interval)) {
        return field_error(name, "overlaps " + indexed("extra", j) + " on the same date");
      }
    }
  }

  const auto& time_off = availability.time_off;
  for (std::size_t i = 0; i < time_off.size(); ++i) {
    const std::string name = indexed("time_off", i);
    if (!time_off[i].first.ok()) return field_error(name + ".first", "not a valid date");
    if (!time_off[i].last.ok()) return field_error(name + ".last", "not a valid date");
    if (time_off[i].last < time_off[i].first) {
      return field_error(name + ".last", "must not be before first");
    }
  }
  return {};
}

std::vector<LocalInterval> intervals_on(const Availability& availability,
                                        date::year_month_day local_date) {
  std::vector<LocalInterval> out;
  for (const TimeOff& off : availability.time_off) {
    if (off.first <= local_date && local_date <= off.last) return out;
  }
  const int weekday =
      static_cast<int>(date::weekday{date::sys_days{local_date}}.c_encoding());
  const std::vector<WeeklyHours>* weekly = &availability.weekly;
  for (const DatedWeekly& change : availability.changes) {
    if (change.from <= local_date) weekly = &change.weekly;
  }
  for (const WeeklyHours& w : *weekly) {
    if (w.weekday == weekday) out.push_back(w.interval);
  }
  for (const ExtraHours& e : availability.extra) {
    if (e.date == local_date) out.push_back(e.interval);
  }
  std::sort(out.begin(), out.end(), [](const LocalInterval& a, const LocalInterval& b) {
    return a.start_minute < b.start_minute;
  });
  // Merge overlapping or touching intervals: extra hours that extend weekly hours
  // make one longer interval, so a slot may span the seam.
  std::vector<LocalInterval> merged;
  for (const LocalInterval& i : out) {
    if (!merged.empty() && i.start_minute <= merged.back().end_minute) {
      merged.back().end_minute = std::max(merged.back().end_minute, i.end_minute);
    } else {
      merged.push_back(i);
    }
  }
  return merged;
}

}  // namespace alliance::scheduling
