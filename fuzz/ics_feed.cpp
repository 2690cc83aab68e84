// The iCalendar feed writer given hostile names and ids (appointment type names come
// from admins, the calendar label from the therapist). Must hold: every line ends in
// CRLF and is at most 75 octets (RFC 5545 3.1), nothing in a value starts a line of
// its own, and there is exactly one VEVENT per event.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "domain/ics_feed.hpp"

using alliance::scheduling::FeedEvent;
using alliance::scheduling::Instant;

namespace {

[[noreturn]] void fail(const char* why, std::string_view line) {
  std::fprintf(stderr, "ics: %s: \"%.*s\"\n", why, static_cast<int>(line.size()), line.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string calendar_name = in.ConsumeRandomLengthString(200);
  std::vector<FeedEvent> events(in.ConsumeIntegralInRange<std::size_t>(0, 4));
  static const char* const kStatuses[] = {"booked", "confirmed", "cancelled", "completed", "no_show"};
  for (auto& e : events) {
    e.appointment_id = in.ConsumeRandomLengthString(40);
    e.type_name = in.ConsumeRandomLengthString(200);
    e.status = kStatuses[in.ConsumeIntegralInRange<int>(0, 4)];
    // 1970 to 2100, as the service keeps them.
    e.start = Instant(std::chrono::seconds(in.ConsumeIntegralInRange<std::int64_t>(0, 4'102'444'800)));
    e.end = e.start + std::chrono::minutes(in.ConsumeIntegralInRange<int>(1, 600));
    e.version = in.ConsumeIntegral<std::int64_t>();
  }
  const std::string ics = alliance::scheduling::build_ics_feed(calendar_name, events, Instant(std::chrono::seconds(1'764'000'000)));
  std::size_t begins = 0, pos = 0;
  while (pos < ics.size()) {
    const std::size_t end = ics.find("\r\n", pos);
    if (end == std::string::npos) fail("a line not ended by CRLF", std::string_view(ics).substr(pos));
    const std::string_view line(ics.data() + pos, end - pos);
    if (line.size() > 75) fail("a line over 75 octets", line);
    if (line.find('\r') != std::string_view::npos || line.find('\n') != std::string_view::npos)
      fail("a bare CR or LF", line);
    // A line that is not a folded continuation starts a property of the writer's own.
    if (line == "BEGIN:VEVENT") ++begins;
    pos = end + 2;
  }
  if (begins != events.size()) fail("not one VEVENT per event", ics);
  return 0;
}
