// Time blocks: a weekly block keeps the therapist's local wall time across DST, stops
// after its last date, and blocks slots like an appointment without buffers (expected
// instants worked out by hand from the 2026 New York rules).
#include <gtest/gtest.h>

#include "domain/time_blocks.hpp"
#include "scheduling_test_util.hpp"

namespace alliance::scheduling {
namespace {

using namespace testing;
using Strings = std::vector<std::string>;

Strings starts(const std::vector<Booked>& booked) {
  Strings out;
  for (const auto& b : booked) out.push_back(iso(b.start));
  return out;
}

// Tuesdays 13:00-14:00 New York from 2026-02-24 (EST) until 2026-03-17 (EDT from 03-08).
BlockTimes supervision(std::optional<date::year_month_day> until) {
  return BlockTimes{utc(2026, 2, 24, 18, 0), utc(2026, 2, 24, 19, 0), "America/New_York", true, until};
}

TEST(TimeBlocks, WeeklyKeepsLocalTimeAcrossSpringForwardAndStopsAfterItsLastDate) {
  auto block = supervision(date::year_month_day{date::year(2026), date::month(3), date::day(17)});
  EXPECT_EQ(starts(block_occurrences(block, utc(2026, 1, 1), utc(2026, 6, 1))),
            (Strings{"2026-02-24T18:00Z", "2026-03-03T18:00Z", "2026-03-10T17:00Z", "2026-03-17T17:00Z"}));
  // Only the occurrences overlapping the range, also far from the first one.
  EXPECT_EQ(starts(block_occurrences(block, utc(2026, 3, 10, 17, 30), utc(2026, 3, 11))), (Strings{"2026-03-10T17:00Z"}));
  EXPECT_TRUE(block_occurrences(block, utc(2026, 3, 10, 18, 0), utc(2026, 3, 17, 17, 0)).empty());
}

TEST(TimeBlocks, WithoutEndRepeatsForEverButReadsOnlyTheRangeAsked) {
  auto block = supervision(std::nullopt);
  EXPECT_FALSE(block_last_end(block));
  EXPECT_EQ(starts(block_occurrences(block, utc(2036, 3, 1), utc(2036, 3, 12))),
            (Strings{"2036-03-04T18:00Z", "2036-03-11T17:00Z"}));
}

TEST(TimeBlocks, OnceIsOnlyItsOwnTimeAndBlocksSlotsLikeAnAppointmentWithoutBuffers) {
  BlockTimes once{utc(2026, 2, 24, 18, 0), utc(2026, 2, 24, 19, 0), "America/New_York", false, std::nullopt};
  auto occurrences = block_occurrences(once, utc(2026, 1, 1), utc(2027, 1, 1));
  ASSERT_EQ(occurrences.size(), 1u);
  EXPECT_EQ(block_last_end(once), utc(2026, 2, 24, 19, 0));
  // A session ending where the block starts fits; its 10 minutes after do not.
  const auto ten = std::chrono::minutes(10);
  EXPECT_FALSE(conflicts(occurrences, utc(2026, 2, 24, 17, 0), utc(2026, 2, 24, 18, 0), {}, {}));
  EXPECT_TRUE(conflicts(occurrences, utc(2026, 2, 24, 17, 0), utc(2026, 2, 24, 18, 0), {}, ten));
  EXPECT_FALSE(conflicts(occurrences, utc(2026, 2, 24, 19, 0), utc(2026, 2, 24, 20, 0), {}, ten));
}

}  // namespace
}  // namespace alliance::scheduling
