// Availability validation names the field at fault; a day's intervals combine weekly
// hours, extra hours and time off the way a therapist expects.
#include <gtest/gtest.h>

#include "scheduling_test_util.hpp"

namespace alliance::scheduling {
namespace {

using namespace testing;

std::string field_of(const Availability& a) {
  auto s = validate(a);
  return s.ok() ? std::string() : s.error().field;
}

std::string message_of(const Availability& a) {
  auto s = validate(a);
  return s.ok() ? std::string() : s.error().message;
}

Availability base() {
  Availability a;
  a.time_zone = "America/New_York";
  a.weekly = {weekly(1, 9, 0, 12, 0), weekly(1, 13, 0, 17, 0), weekly(3, 9, 0, 17, 0)};
  return a;
}

TEST(TimeZones, KnownAndUnknownNames) {
  EXPECT_TRUE(find_time_zone("America/New_York").ok());
  EXPECT_TRUE(find_time_zone("Australia/Lord_Howe").ok());
  EXPECT_TRUE(find_time_zone("Etc/UTC").ok());
  for (const char* bad : {"", "America/Nowhere", "../../etc/passwd", "/usr/share/zoneinfo/UTC",
                          "America/New_York\n", "EST5EDT; rm -rf"}) {
    auto z = find_time_zone(bad);
    ASSERT_FALSE(z.ok()) << bad;
    EXPECT_EQ(z.error().code, Code::kInvalidArgument);
    EXPECT_EQ(z.error().field, "time_zone");
  }
  EXPECT_EQ(find_time_zone("America/Nowhere").error().message,
            "time_zone: unknown time zone \"America/Nowhere\"");
}

TEST(Availability, ValidNamesNoField) { EXPECT_EQ(message_of(base()), ""); }

TEST(Availability, EndBeforeStartNamesTheEntry) {
  Availability a = base();
  a.weekly.push_back(weekly(4, 17, 0, 9, 0));
  EXPECT_EQ(field_of(a), "weekly[3].end_minute");
  EXPECT_EQ(message_of(a), "weekly[3].end_minute: must be after start_minute");
}

TEST(Availability, BadValuesNameTheirFields) {
  Availability a = base();
  a.time_zone = "Atlantis/Capital";
  EXPECT_EQ(field_of(a), "time_zone");

  a = base();
  a.weekly[1].weekday = 7;
  EXPECT_EQ(field_of(a), "weekly[1].weekday");

  a = base();
  a.weekly[0].interval.end_minute = 1441;
  EXPECT_EQ(field_of(a), "weekly[0].end_minute");

  a = base();
  a.weekly[2].interval.start_minute = -30;
  EXPECT_EQ(field_of(a), "weekly[2].start_minute");

  a = base();
  a.extra = {extra(ymd(2026, 2, 30), 9, 0, 10, 0)};
  EXPECT_EQ(field_of(a), "extra[0].date");

  a = base();
  a.time_off = {TimeOff{ymd(2026, 8, 10), ymd(2026, 8, 1)}};
  EXPECT_EQ(field_of(a), "time_off[0].last");
}

TEST(Availability, OverlapsOnOneDayAreRefused) {
  Availability a = base();
  a.weekly.push_back(weekly(1, 11, 30, 14, 0));  // overlaps both Monday intervals
  EXPECT_EQ(field_of(a), "weekly[3]");
  EXPECT_EQ(message_of(a), "weekly[3]: overlaps weekly[0] on the same weekday");

  // Touching is not overlapping; another weekday is independent.
  a = base();
  a.weekly.push_back(weekly(1, 12, 0, 13, 0));
  a.weekly.push_back(weekly(2, 11, 30, 14, 0));
  EXPECT_EQ(field_of(a), "");

  a = base();
  a.extra = {extra(ymd(2026, 6, 6), 9, 0, 12, 0), extra(ymd(2026, 6, 6), 11, 0, 13, 0)};
  EXPECT_EQ(field_of(a), "extra[1]");
}

TEST(Availability, DayIntervalsMergeExtraAndHonourTimeOff) {
  Availability a = base();
  // 2026-06-01 is a Monday: 09-12 and 13-17, plus extra 12-13 joins them into one.
  a.extra = {extra(ymd(2026, 6, 1), 12, 0, 13, 0), extra(ymd(2026, 6, 6), 10, 0, 11, 0)};
  auto monday = intervals_on(a, ymd(2026, 6, 1));
  ASSERT_EQ(monday.size(), 1u);
  EXPECT_EQ(monday[0].start_minute, 9 * 60);
  EXPECT_EQ(monday[0].end_minute, 17 * 60);

  auto next_monday = intervals_on(a, ymd(2026, 6, 8));
  ASSERT_EQ(next_monday.size(), 2u);
  EXPECT_EQ(next_monday[1].start_minute, 13 * 60);

  auto saturday = intervals_on(a, ymd(2026, 6, 6));
  ASSERT_EQ(saturday.size(), 1u);
  EXPECT_EQ(saturday[0].start_minute, 10 * 60);
  EXPECT_TRUE(intervals_on(a, ymd(2026, 6, 2)).empty());  // Tuesday: no hours

  // Time off is inclusive at both ends and wins over extra hours.
  a.time_off = {TimeOff{ymd(2026, 6, 1), ymd(2026, 6, 6)}};
  EXPECT_TRUE(intervals_on(a, ymd(2026, 6, 1)).empty());
  EXPECT_TRUE(intervals_on(a, ymd(2026, 6, 6)).empty());
  EXPECT_EQ(intervals_on(a, ymd(2026, 6, 8)).size(), 2u);
}

TEST(Availability, HoursChangeFromTheirDateOnAndChangesAreCheckedInOrder) {
  Availability a = base();
  // From Monday 2026-06-08 Mondays are mornings only; from 06-22 afternoons only.
  a.changes = {DatedWeekly{ymd(2026, 6, 8), {weekly(1, 9, 0, 12, 0)}},
               DatedWeekly{ymd(2026, 6, 22), {weekly(1, 14, 0, 18, 0)}}};
  EXPECT_EQ(message_of(a), "");
  EXPECT_EQ(intervals_on(a, ymd(2026, 6, 1)).size(), 2u);  // before any change: the weekly hours
  auto from_change = intervals_on(a, ymd(2026, 6, 8));
  ASSERT_EQ(from_change.size(), 1u);
  EXPECT_EQ(from_change[0].end_minute, 12 * 60);
  EXPECT_TRUE(intervals_on(a, ymd(2026, 6, 10)).empty());  // Wednesday is not in the change
  auto later = intervals_on(a, ymd(2026, 6, 29));
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].start_minute, 14 * 60);

  a.changes[1].from = ymd(2026, 6, 8);
  EXPECT_EQ(field_of(a), "changes[1].from_date");
  a.changes[1].from = ymd(2026, 6, 22);
  a.changes[1].weekly.push_back(weekly(1, 15, 0, 16, 0));
  EXPECT_EQ(message_of(a), "changes[1].weekly[1]: overlaps changes[1].weekly[0] on the same weekday");
}

}  // namespace
}  // namespace alliance::scheduling
