// Recurring series keep the therapist's local wall time across DST changes
// (expected instants worked out by hand from the 2026 rules).
#include <gtest/gtest.h>

#include "scheduling_test_util.hpp"

namespace alliance::scheduling {
namespace {

using namespace testing;
using Strings = std::vector<std::string>;

Strings series(const std::string& zone, Instant first, int interval_weeks, int count) {
  auto starts = series_starts(zone, first, interval_weeks, count);
  EXPECT_TRUE(starts.ok()) << (starts.ok() ? "" : starts.error().message);
  return starts.ok() ? isos(*starts) : Strings{};
}

TEST(Series, WeeklyAcrossNewYorkSpringForwardStaysAtNine) {
  // Monday 2026-02-23 09:00 EST; from 2026-03-09 on, 09:00 is EDT.
  EXPECT_EQ(series("America/New_York", utc(2026, 2, 23, 14, 0), 1, 4),
            (Strings{"2026-02-23T14:00Z", "2026-03-02T14:00Z", "2026-03-09T13:00Z", "2026-03-16T13:00Z"}));
}

TEST(Series, EveryTwoWeeksAcrossNewYorkFallBackStaysAtNine) {
  EXPECT_EQ(series("America/New_York", utc(2026, 10, 26, 13, 0), 2, 3),
            (Strings{"2026-10-26T13:00Z", "2026-11-09T14:00Z", "2026-11-23T14:00Z"}));
}

TEST(Series, NonexistentLocalTimeMovesForwardByTheGap) {
  // Sunday 02:30 EST; on 2026-03-08 02:30 does not exist and becomes 03:30 EDT (07:30Z).
  EXPECT_EQ(series("America/New_York", utc(2026, 3, 1, 7, 30), 1, 3),
            (Strings{"2026-03-01T07:30Z", "2026-03-08T07:30Z", "2026-03-15T06:30Z"}));
}

TEST(Series, AmbiguousLocalTimeTakesTheEarlierInstant) {
  // Sunday 01:30 EDT; 2026-11-01 01:30 happens twice, the EDT one is used.
  EXPECT_EQ(series("America/New_York", utc(2026, 10, 25, 5, 30), 1, 3),
            (Strings{"2026-10-25T05:30Z", "2026-11-01T05:30Z", "2026-11-08T06:30Z"}));
}

TEST(Series, LordHoweHalfHourShiftAndLondon) {
  // Monday 2026-09-28 09:00 +10:30; from 2026-10-05, 09:00 is +11:00.
  EXPECT_EQ(series("Australia/Lord_Howe", utc(2026, 9, 27, 22, 30), 1, 2),
            (Strings{"2026-09-27T22:30Z", "2026-10-04T22:00Z"}));
  // Friday 2026-10-16 17:00 BST; from 2026-10-30, 17:00 is GMT.
  EXPECT_EQ(series("Europe/London", utc(2026, 10, 16, 16, 0), 2, 2),
            (Strings{"2026-10-16T16:00Z", "2026-10-30T17:00Z"}));
}

TEST(Series, FiftyTwoWeeksInAZoneWithoutDst) {
  auto starts = series_starts("Asia/Tokyo", utc(2026, 1, 5, 1, 0), 1, 52);
  ASSERT_TRUE(starts.ok());
  ASSERT_EQ(starts->size(), 52u);
  EXPECT_EQ(iso(starts->back()), "2026-12-28T01:00Z");
}

TEST(Series, BadInputNamesTheField) {
  auto field = [](const Result<std::vector<Instant>>& r) { return r.ok() ? std::string() : r.error().field; };
  const Instant first = utc(2026, 6, 1, 9, 0);
  EXPECT_EQ(field(series_starts("Nowhere/Special", first, 1, 4)), "time_zone");
  EXPECT_EQ(field(series_starts("Etc/UTC", first, 3, 4)), "interval_weeks");
  EXPECT_EQ(field(series_starts("Etc/UTC", first, 0, 4)), "interval_weeks");
  EXPECT_EQ(field(series_starts("Etc/UTC", first, 1, 0)), "count");
  EXPECT_EQ(field(series_starts("Etc/UTC", first, 1, 53)), "count");
  auto bad = series_starts("Etc/UTC", first, 1, 53);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "count: must be between 1 and 52");
}

}  // namespace
}  // namespace alliance::scheduling
