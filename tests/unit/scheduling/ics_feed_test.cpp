// The calendar feed parses back with libical into the same appointments, and a
// VEVENT carries nothing a client could be identified by: only "Appointment" and
// the appointment type.
#include <gtest/gtest.h>

#include <libical/ical.h>

#include <memory>
#include <set>

#include "scheduling_test_util.hpp"

namespace alliance::scheduling {
namespace {

using namespace testing;

struct Parsed {
  std::unique_ptr<icalcomponent, void (*)(icalcomponent*)> root{nullptr, icalcomponent_free};
};

Parsed parse(const std::string& text) {
  Parsed p;
  p.root.reset(icalparser_parse_string(text.c_str()));
  return p;
}

std::vector<icalcomponent*> events_of(icalcomponent* calendar) {
  std::vector<icalcomponent*> out;
  for (icalcomponent* c = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT); c;
       c = icalcomponent_get_next_component(calendar, ICAL_VEVENT_COMPONENT)) {
    out.push_back(c);
  }
  return out;
}

Instant as_instant(icaltimetype t) {
  EXPECT_TRUE(icaltime_is_utc(t));
  return Instant{std::chrono::seconds(icaltime_as_timet_with_zone(t, icaltimezone_get_utc_timezone()))};
}

std::vector<FeedEvent> sample_events() {
  return {
      FeedEvent{"apt-1", utc(2026, 3, 6, 14, 0), utc(2026, 3, 6, 14, 50), "Individual therapy", "booked", 1},
      FeedEvent{"apt-2", utc(2026, 3, 9, 13, 0), utc(2026, 3, 9, 13, 50), "Couples session, 50 min; in person",
                "confirmed", 3},
      FeedEvent{"apt-3", utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30), "Intake", "cancelled", 2},
      FeedEvent{"apt-4", utc(2026, 11, 2, 14, 0), utc(2026, 11, 2, 15, 0), "Intake", "completed", 4},
  };
}

TEST(IcsFeed, ParsesBackToTheSameAppointments) {
  const auto events = sample_events();
  const std::string text = build_ics_feed("Dr. Rivera's calendar", events, utc(2026, 3, 1, 12, 0));
  Parsed p = parse(text);
  ASSERT_NE(p.root, nullptr);
  icalcomponent* cal = p.root.get();
  ASSERT_EQ(icalcomponent_isa(cal), ICAL_VCALENDAR_COMPONENT);
  EXPECT_STREQ(icalcomponent_get_first_property(cal, ICAL_PRODID_PROPERTY) != nullptr
                   ? icalproperty_get_prodid(icalcomponent_get_first_property(cal, ICAL_PRODID_PROPERTY))
                   : "",
               "-//Alliance//Scheduling//EN");
  icalproperty* version = icalcomponent_get_first_property(cal, ICAL_VERSION_PROPERTY);
  ASSERT_NE(version, nullptr);
  EXPECT_STREQ(icalproperty_get_version(version), "2.0");
  icalproperty* x = icalcomponent_get_first_property(cal, ICAL_X_PROPERTY);
  ASSERT_NE(x, nullptr);
  EXPECT_STREQ(icalproperty_get_x_name(x), "X-WR-CALNAME");
  EXPECT_STREQ(icalproperty_get_x(x), "Dr. Rivera's calendar");

  const auto parsed = events_of(cal);
  ASSERT_EQ(parsed.size(), events.size());
  const char* statuses[] = {"TENTATIVE", "CONFIRMED", "CANCELLED", "CONFIRMED"};
  for (std::size_t i = 0; i < events.size(); ++i) {
    icalcomponent* e = parsed[i];
    EXPECT_EQ(std::string(icalcomponent_get_uid(e)), events[i].appointment_id + "@alliance");
    EXPECT_EQ(iso(as_instant(icalcomponent_get_dtstart(e))), iso(events[i].start));
    EXPECT_EQ(iso(as_instant(icalcomponent_get_dtend(e))), iso(events[i].end));
    EXPECT_EQ(iso(as_instant(icalcomponent_get_dtstamp(e))), "2026-03-01T12:00Z");
    EXPECT_STREQ(icalcomponent_get_summary(e), "Appointment");
    EXPECT_EQ(std::string(icalcomponent_get_description(e)), events[i].type_name);  // escaping round-trips
    EXPECT_STREQ(icalproperty_status_to_string(icalcomponent_get_status(e)), statuses[i]);
    EXPECT_EQ(icalcomponent_get_sequence(e), static_cast<int>(events[i].version));
  }
  // Hand-checked wire form of one start (New York 09:00 EST on 2026-03-06).
  EXPECT_NE(text.find("DTSTART:20260306T140000Z"), std::string::npos) << text;
}

TEST(IcsFeed, DtstampIsEachEventsLastChangeSoPollingSeesOnlyRealChanges) {
  auto events = sample_events();
  events[0].changed = utc(2026, 2, 20, 9, 30);
  events[1].changed = utc(2026, 2, 27, 16, 5);
  const std::string first = build_ics_feed("Cal", events, utc(2026, 3, 1, 12, 0));
  const std::string later = build_ics_feed("Cal", events, utc(2026, 3, 2, 8, 0));
  Parsed a = parse(first);
  ASSERT_NE(a.root, nullptr);
  const auto parsed = events_of(a.root.get());
  ASSERT_EQ(parsed.size(), events.size());
  EXPECT_EQ(iso(as_instant(icalcomponent_get_dtstamp(parsed[0]))), "2026-02-20T09:30Z");
  EXPECT_EQ(iso(as_instant(icalcomponent_get_dtstamp(parsed[1]))), "2026-02-27T16:05Z");
  // The same appointments fetched a day later: their VEVENTs are byte for byte the same.
  auto vevent = [](const std::string& text, const std::string& uid) {
    const auto at = text.find("UID:" + uid);
    return text.substr(text.rfind("BEGIN:VEVENT", at), text.find("END:VEVENT", at) - text.rfind("BEGIN:VEVENT", at));
  };
  EXPECT_EQ(vevent(first, "apt-1@alliance"), vevent(later, "apt-1@alliance"));
  EXPECT_EQ(vevent(first, "apt-2@alliance"), vevent(later, "apt-2@alliance"));
}

TEST(IcsFeed, EventsCarryNoOtherText) {
  const auto events = sample_events();
  Parsed p = parse(build_ics_feed("Calendar", events, utc(2026, 3, 1)));
  ASSERT_NE(p.root, nullptr);
  // Only these properties exist on an event: no ATTENDEE, ORGANIZER, CONTACT,
  // LOCATION, COMMENT or X- property where a person's name could go.
  const std::set<icalproperty_kind> allowed = {ICAL_UID_PROPERTY,         ICAL_DTSTAMP_PROPERTY,
                                               ICAL_DTSTART_PROPERTY,     ICAL_DTEND_PROPERTY,
                                               ICAL_SUMMARY_PROPERTY,     ICAL_DESCRIPTION_PROPERTY,
                                               ICAL_STATUS_PROPERTY,      ICAL_SEQUENCE_PROPERTY};
  std::size_t i = 0;
  for (icalcomponent* e : events_of(p.root.get())) {
    int count = 0;
    for (icalproperty* prop = icalcomponent_get_first_property(e, ICAL_ANY_PROPERTY); prop;
         prop = icalcomponent_get_next_property(e, ICAL_ANY_PROPERTY)) {
      EXPECT_TRUE(allowed.count(icalproperty_isa(prop)) == 1) << icalproperty_get_property_name(prop);
      ++count;
    }
    EXPECT_EQ(count, 8);
    // The only free text: "Appointment" and the type name.
    EXPECT_STREQ(icalcomponent_get_summary(e), "Appointment");
    EXPECT_EQ(std::string(icalcomponent_get_description(e)), events[i].type_name);
    EXPECT_EQ(icalcomponent_get_first_component(e, ICAL_ANY_COMPONENT), nullptr);  // no VALARM etc.
    ++i;
  }
  EXPECT_EQ(i, events.size());
}

TEST(IcsFeed, LineBreaksInTextCannotAddProperties) {
  // A type name or calendar label with a line break must stay one escaped value,
  // never a new ATTENDEE line.
  const std::vector<FeedEvent> events = {FeedEvent{"apt-9", utc(2026, 3, 6, 14, 0), utc(2026, 3, 6, 15, 0),
                                                   "Intake\r\nATTENDEE:mailto:someone@example.com", "booked", 1}};
  const std::string text = build_ics_feed("Cal\nATTENDEE:x", events, utc(2026, 3, 1));
  EXPECT_EQ(text.find("\nATTENDEE"), std::string::npos) << text;
  Parsed p = parse(text);
  ASSERT_NE(p.root, nullptr);
  auto parsed = events_of(p.root.get());
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(icalcomponent_get_first_property(parsed[0], ICAL_ATTENDEE_PROPERTY), nullptr);
  EXPECT_EQ(icalcomponent_get_first_property(p.root.get(), ICAL_ATTENDEE_PROPERTY), nullptr);
}

// Every line ends in CRLF, holds no other CR or LF and is at most 75 octets.
void expect_well_formed_lines(const std::string& text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find("\r\n", pos);
    ASSERT_NE(end, std::string::npos) << "not ended by CRLF: " << text.substr(pos);
    const std::string line = text.substr(pos, end - pos);
    EXPECT_LE(line.size(), 75u) << line;
    EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos) << line;
    pos = end + 2;
  }
}

TEST(IcsFeed, ACarriageReturnOrMalformedUtf8NeverBreaksALine) {
  // libical writes a lone CR as it is and folds by UTF-8 lead bytes: both would put a
  // line break where a calendar app may read a property of its own.
  const std::string malformed = std::string("Supervision \xf0\x9f\x82\xc8\xc9:") + std::string(60, '\xff');
  const std::vector<FeedEvent> events = {
      FeedEvent{"apt-9", utc(2026, 3, 6, 14, 0), utc(2026, 3, 6, 15, 0), "Intake\rATTENDEE:mailto:a@example.com",
                "booked", 1},
      FeedEvent{"apt-10", utc(2026, 3, 7, 14, 0), utc(2026, 3, 7, 15, 0), malformed, "booked", 1}};
  const std::string text = build_ics_feed("Terapia \xe2\x80\x94 " + malformed, events, utc(2026, 3, 1));
  expect_well_formed_lines(text);
  Parsed p = parse(text);
  ASSERT_NE(p.root, nullptr);
  auto parsed = events_of(p.root.get());
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(icalcomponent_get_first_property(parsed[0], ICAL_ATTENDEE_PROPERTY), nullptr);
  EXPECT_EQ(std::string(icalcomponent_get_description(parsed[0])), "Intake ATTENDEE:mailto:a@example.com");
}

TEST(IcsFeed, NamesOfAnyLengthFoldIntoLinesOfAtMost75OctetsAndReadBackWhole) {
  // libical alone splits a line's own CRLF when the line is 74 octets long.
  for (const std::string unit : {"a", "\xc3\xa9", "\xe2\x80\x94", "\xf0\x9f\x99\x82"}) {
    std::string name;
    for (int n = 1; n <= 160; ++n) {
      name += unit;
      const std::vector<FeedEvent> events = {
          FeedEvent{"apt-1", utc(2026, 3, 6, 14, 0), utc(2026, 3, 6, 15, 0), name, "booked", 1}};
      const std::string text = build_ics_feed(name, events, utc(2026, 3, 1));
      SCOPED_TRACE(name);
      expect_well_formed_lines(text);
      Parsed p = parse(text);
      ASSERT_NE(p.root, nullptr);
      auto parsed = events_of(p.root.get());
      ASSERT_EQ(parsed.size(), 1u);
      EXPECT_EQ(std::string(icalcomponent_get_description(parsed[0])), name);
    }
  }
}

TEST(IcsFeed, AnInPersonEventCarriesItsLocationEscapedAndFolded) {
  // The location a front desk typed: commas and semicolons are TEXT separators in
  // iCalendar, so they are escaped; a long one folds at 75 octets and reads back whole.
  const std::string place = "Elm Street office, Room 2; 12 Elm St, Springfield";
  std::string long_place = "Clínica Sol, Sala Verde";
  for (int i = 0; i < 8; ++i) long_place += ", Avenida de la Constitución " + std::to_string(i);
  auto events = sample_events();
  events[0].location = place;
  events[1].location = long_place;
  const std::string text = build_ics_feed("Cal", events, utc(2026, 3, 1));
  expect_well_formed_lines(text);
  EXPECT_NE(text.find("LOCATION:Elm Street office\\, Room 2\\; 12 Elm St\\, Springfield\r\n"), std::string::npos)
      << text;
  Parsed p = parse(text);
  ASSERT_NE(p.root, nullptr);
  const auto parsed = events_of(p.root.get());
  ASSERT_EQ(parsed.size(), events.size());
  EXPECT_EQ(std::string(icalcomponent_get_location(parsed[0])), place);
  EXPECT_EQ(std::string(icalcomponent_get_location(parsed[1])), long_place);
  // No location given (telehealth, or none chosen): no LOCATION line at all.
  EXPECT_EQ(icalcomponent_get_first_property(parsed[2], ICAL_LOCATION_PROPERTY), nullptr);
}

TEST(IcsFeed, ALineBreakInALocationCannotAddProperties) {
  auto events = sample_events();
  events[0].location = "Annex\r\nATTENDEE:mailto:someone@example.com";
  const std::string text = build_ics_feed("Cal", events, utc(2026, 3, 1));
  expect_well_formed_lines(text);
  EXPECT_EQ(text.find("\nATTENDEE"), std::string::npos) << text;
  Parsed p = parse(text);
  ASSERT_NE(p.root, nullptr);
  const auto parsed = events_of(p.root.get());
  ASSERT_FALSE(parsed.empty());
  EXPECT_EQ(icalcomponent_get_first_property(parsed[0], ICAL_ATTENDEE_PROPERTY), nullptr);
}

TEST(IcsFeed, EmptyFeedIsAValidCalendar) {
  const std::string text = build_ics_feed("Calendar", {}, utc(2026, 3, 1));
  EXPECT_EQ(text.rfind("BEGIN:VCALENDAR", 0), 0u) << text;
  Parsed p = parse(text);
  ASSERT_NE(p.root, nullptr);
  EXPECT_EQ(icalcomponent_isa(p.root.get()), ICAL_VCALENDAR_COMPONENT);
  EXPECT_TRUE(events_of(p.root.get()).empty());
}

}  // namespace
}  // namespace alliance::scheduling
