#include "domain/ics_feed.hpp"

#include <algorithm>
#include <climits>
#include <ctime>
#include <memory>
#include <string>

#include <libical/ical.h>

#include "alliance/core/utf8.hpp"

namespace alliance::scheduling {
namespace {

struct ComponentFree {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
struct BufferFree {
  void operator()(char* s) const { icalmemory_free_buffer(s); }
};

icaltimetype utc_time(Instant at) {
  const auto t = static_cast<time_t>(at.time_since_epoch().count());
  return icaltime_from_timet_with_zone(t, 0, icaltimezone_get_utc_timezone());
}

icalproperty_status ical_status(const std::string& status) {
  if (status == "cancelled") return ICAL_STATUS_CANCELLED;
  if (status == "booked") return ICAL_STATUS_TENTATIVE;  // the client has not confirmed yet
  if (status == "confirmed" || status == "completed" || status == "no_show") {
    return ICAL_STATUS_CONFIRMED;  // the time was (or is) held
  }
  return ICAL_STATUS_TENTATIVE;
}

// A value as libical should write it. libical escapes line feeds, commas and semicolons
// in TEXT but writes a carriage return or other control character as it is, which some
// calendar apps read as a line break (a name could then start properties of its own),
// and it folds lines by UTF-8 lead bytes, so a malformed sequence puts a break inside a
// line: both are replaced.
std::string ical_text(std::string_view text) {
  std::string out = valid_utf8(text);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7f) c = ' ';
  }
  return out;
}

}  // namespace

std::string build_ics_feed(std::string_view calendar_name, const std::vector<FeedEvent>& events,
                           Instant now) {
  std::unique_ptr<icalcomponent, ComponentFree> calendar(icalcomponent_new_vcalendar());
  icalcomponent_add_property(calendar.get(), icalproperty_new_prodid("-//Alliance//Scheduling//EN"));
  icalcomponent_add_property(calendar.get(), icalproperty_new_version("2.0"));
  icalcomponent_add_property(calendar.get(), icalproperty_new_calscale("GREGORIAN"));
  icalproperty* name = icalproperty_new_x(ical_text(calendar_name).c_str());
  icalproperty_set_x_name(name, "X-WR-CALNAME");
  icalcomponent_add_property(calendar.get(), name);

  const icaltimetype stamp = utc_time(now);
  for (const FeedEvent& e : events) {
    icalcomponent* event = icalcomponent_new_vevent();
    icalcomponent_add_property(event, icalproperty_new_uid(ical_text(e.appointment_id + "@alliance").c_str()));
    icalcomponent_add_property(event, icalproperty_new_dtstamp(stamp));
    icalcomponent_add_property(event, icalproperty_new_dtstart(utc_time(e.start)));
    icalcomponent_add_property(event, icalproperty_new_dtend(utc_time(e.end)));
    icalcomponent_add_property(event, icalproperty_new_summary("Appointment"));
    icalcomponent_add_property(event, icalproperty_new_description(ical_text(e.type_name).c_str()));
    icalcomponent_add_property(event, icalproperty_new_status(ical_status(e.status)));
    const auto sequence = static_cast<int>(std::clamp<std::int64_t>(e.version, 0, INT_MAX));
    icalcomponent_add_property(event, icalproperty_new_sequence(sequence));
    icalcomponent_add_component(calendar.get(), event);  // calendar now owns event
  }
  std::unique_ptr<char, BufferFree> text(icalcomponent_as_ical_string_r(calendar.get()));
  return text ? std::string(text.get()) : std::string();
}

}  // namespace alliance::scheduling
