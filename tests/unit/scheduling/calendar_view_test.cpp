// A calendar view's working hours and days off as UTC spans, per local date in the
// therapist's zone: clipped to the view, none on a day off, and a DST day as long as
// it really is (New York 2026: spring forward on 03-08).
#include <gtest/gtest.h>

#include "domain/calendar_view.hpp"
#include "scheduling_test_util.hpp"

namespace alliance::scheduling {
namespace {

using namespace testing;

date::year_month_day ymd(int y, unsigned m, unsigned d) {
  return date::year_month_day{date::year(y), date::month(m), date::day(d)};
}

Availability all_day_every_day() {
  Availability a;
  a.time_zone = "America/New_York";
  for (int d = 0; d <= 6; ++d) a.weekly.push_back(WeeklyHours{d, LocalInterval{0, 1440}});
  return a;
}

TEST(CalendarView, WorkingHoursOfTheSpringForwardDayLastTwentyThreeHours) {
  auto a = all_day_every_day();
  auto spans = working_spans(a, utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 4, 0));
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(iso(spans[0].start), "2026-03-08T05:00Z");
  EXPECT_EQ(iso(spans[0].end), "2026-03-09T04:00Z");
}

TEST(CalendarView, DaysOffHaveNoHoursAndShowAsWholeLocalDaysClippedToTheView) {
  auto a = all_day_every_day();
  a.weekly = {WeeklyHours{1, LocalInterval{9 * 60, 17 * 60}}};  // Mondays 09:00-17:00
  a.time_off = {TimeOff{ymd(2026, 2, 16), ymd(2026, 2, 17)}};
  // The week of Monday 2026-02-16 (EST, -05:00) from Sunday 00:00 local.
  const auto from = utc(2026, 2, 15, 5, 0), to = utc(2026, 2, 22, 5, 0);
  EXPECT_TRUE(working_spans(a, from, to).empty());
  auto off = time_off_spans(a, from, to);
  ASSERT_EQ(off.size(), 1u);
  EXPECT_EQ(iso(off[0].start), "2026-02-16T05:00Z");
  EXPECT_EQ(iso(off[0].end), "2026-02-18T05:00Z");
  auto next_week = working_spans(a, to, to + std::chrono::days(7));
  ASSERT_EQ(next_week.size(), 1u);
  EXPECT_EQ(iso(next_week[0].start), "2026-02-23T14:00Z");
  // A view that starts mid-way cuts the day off at its start.
  EXPECT_EQ(iso(time_off_spans(a, utc(2026, 2, 17, 12, 0), to).at(0).start), "2026-02-17T12:00Z");
}

}  // namespace
}  // namespace alliance::scheduling
