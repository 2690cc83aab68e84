#include "domain/time_zone.hpp"

#include <cstdio>
#include <stdexcept>

namespace alliance::scheduling {

Result<const date::time_zone*> find_time_zone(std::string_view iana_name) {
  auto unknown = [&] {
    std::string shown(iana_name.substr(0, 64));
    for (char& c : shown) {
      if (c < 0x20 || c == 0x7f || c == '"') c = '?';  // keep the message one printable line
    }
    return invalid_argument("time_zone", "time_zone: unknown time zone \"" + shown + "\"");
  };
  // IANA names are short ASCII paths; refuse anything else before asking the database.
  if (iana_name.empty() || iana_name.size() > 64) return unknown();
  for (char c : iana_name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '-' || c == '+';
    if (!ok) return unknown();
  }
  if (iana_name.front() == '/' || iana_name.find("..") != std::string_view::npos) return unknown();
  try {
    return date::locate_zone(iana_name);
  } catch (const std::runtime_error&) {
    return unknown();
  }
}

std::optional<Instant> local_to_utc(const date::time_zone* zone, date::local_seconds local) {
  const date::local_info info = zone->get_info(local);
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:  // first = the offset before the transition = earlier instant
      return Instant{local.time_since_epoch() - info.first.offset};
    case date::local_info::nonexistent:
    default:
      return std::nullopt;
  }
}

Instant local_edge_to_utc(const date::time_zone* zone, date::local_seconds local) {
  const date::local_info info = zone->get_info(local);
  if (info.result == date::local_info::nonexistent) return info.first.end;  // the transition
  return Instant{local.time_since_epoch() - info.first.offset};
}

std::string format_local_minutes(const date::time_zone* zone, Instant at) {
  return format_local(zone->to_local(at));
}

std::string format_local(date::local_seconds local) {
  const auto day = date::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(local - day).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(minutes / 60), static_cast<int>(minutes % 60));
  return buf;
}

int utc_offset_minutes(const date::time_zone* zone, Instant at) {
  return static_cast<int>(
      std::chrono::duration_cast<std::chrono::minutes>(zone->get_info(at).offset).count());
}

date::year_month_day local_date(const date::time_zone* zone, Instant at) {
  return date::year_month_day{date::floor<date::days>(zone->to_local(at))};
}

}  // namespace alliance::scheduling
