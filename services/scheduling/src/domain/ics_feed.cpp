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

// libical's lines folded again. libical counts a line's own CRLF when it folds at 75
// octets, so a line of 74 octets is written "...\r" CRLF " \n": a bare CR ending one
// line and a bare LF on the next. Its folds are removed (CRLF and a space: a value
// holds no CR, see ical_text), which also mends that split, and each line is folded
// at 75 octets (RFC 5545 3.1) without splitting a UTF-8 sequence.
std::string refold(std::string_view folded) {
  std::string unfolded;
  unfolded.reserve(folded.size());
  for (std::size_t i = 0; i < folded.size(); ++i) {
    if (folded.compare(i, 3, "\r\n ") == 0) {
      i += 2;
      continue;
    }
    unfolded += folded[i];
  }
  constexpr std::size_t kMaxLine = 75;
  std::string out;
  out.reserve(unfolded.size() + unfolded.size() / 64 * 3);
  std::string_view rest(unfolded);
  while (!rest.empty()) {
    std::size_t end = rest.find("\r\n");
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 2);
    bool first = true;
    do {
      std::size_t room = first ? kMaxLine : kMaxLine - 1;  // a continuation starts with a space
      std::size_t take = 0;
      while (take < line.size()) {
        std::size_t n = utf8_sequence_length(line.substr(take));
        if (n == 0) n = 1;  // not expected here: never split, never stall
        if (take + n > room) break;
        take += n;
      }
      if (!first) out += ' ';
      out.append(line.substr(0, take));
      out += "\r\n";
      line.remove_prefix(take);
      first = false;
    } while (!line.empty());
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

  for (const FeedEvent& e : events) {
    icalcomponent* event = icalcomponent_new_vevent();
    icalcomponent_add_property(event, icalproperty_new_uid(ical_text(e.appointment_id + "@alliance").c_str()));
    icalcomponent_add_property(event, icalproperty_new_dtstamp(utc_time(e.changed == Instant{} ? now : e.changed)));
    icalcomponent_add_property(event, icalproperty_new_dtstart(utc_time(e.start)));
    icalcomponent_add_property(event, icalproperty_new_dtend(utc_time(e.end)));
    icalcomponent_add_property(event, icalproperty_new_summary("Appointment"));
    icalcomponent_add_property(event, icalproperty_new_description(ical_text(e.type_name).c_str()));
    icalcomponent_add_property(event, icalproperty_new_status(ical_status(e.status)));
    if (!e.location.empty())
      icalcomponent_add_property(event, icalproperty_new_location(ical_text(e.location).c_str()));
    const auto sequence = static_cast<int>(std::clamp<std::int64_t>(e.version, 0, INT_MAX));
    icalcomponent_add_property(event, icalproperty_new_sequence(sequence));
    icalcomponent_add_component(calendar.get(), event);  // calendar now owns event
  }
  std::unique_ptr<char, BufferFree> text(icalcomponent_as_ical_string_r(calendar.get()));
  return text ? refold(text.get()) : std::string();
}

}  // namespace alliance::scheduling
