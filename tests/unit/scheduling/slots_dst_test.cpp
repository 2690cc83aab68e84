// Slot search across DST transitions, against UTC instants worked out by hand from
// the 2026 rules (zdump agrees): a 09:00 local slot stays 09:00 local, a local time
// inside a spring-forward gap is never offered, a fall-back time is offered once.
#include <gtest/gtest.h>

#include "scheduling_test_util.hpp"

namespace alliance::scheduling {
namespace {

using namespace testing;
using Strings = std::vector<std::string>;

constexpr int kSun = 0, kMon = 1, kFri = 5;

// Friday and Monday 09:00-10:00, one 60-minute slot each.
Availability fri_mon_nine(const std::string& zone) {
  Availability a;
  a.time_zone = zone;
  a.weekly = {weekly(kFri, 9, 0, 10, 0), weekly(kMon, 9, 0, 10, 0)};
  return a;
}

std::vector<Slot> search(const Availability& a, const SlotRules& rules, Instant from, Instant to,
                         Instant now) {
  auto slots = find_slots(a, rules, {}, from, to, now);
  EXPECT_TRUE(slots.ok()) << (slots.ok() ? "" : slots.error().message);
  return slots.ok() ? *slots : std::vector<Slot>{};
}

TEST(SlotsDst, NewYorkSpringForwardKeepsNineLocal) {
  const auto slots = search(fri_mon_nine("America/New_York"), rules_minutes(60),
                            utc(2026, 3, 6), utc(2026, 3, 10), utc(2026, 3, 1));
  ASSERT_EQ(starts_of(slots), (Strings{"2026-03-06T14:00Z", "2026-03-09T13:00Z"}));
  EXPECT_EQ(slots[0].local_start, "2026-03-06T09:00");
  EXPECT_EQ(slots[0].utc_offset_minutes, -300);
  EXPECT_EQ(iso(slots[0].end), "2026-03-06T15:00Z");
  EXPECT_EQ(slots[1].local_start, "2026-03-09T09:00");
  EXPECT_EQ(slots[1].utc_offset_minutes, -240);
}

TEST(SlotsDst, NewYorkFallBackKeepsNineLocal) {
  const auto slots = search(fri_mon_nine("America/New_York"), rules_minutes(60),
                            utc(2026, 10, 30), utc(2026, 11, 3), utc(2026, 10, 20));
  ASSERT_EQ(starts_of(slots), (Strings{"2026-10-30T13:00Z", "2026-11-02T14:00Z"}));
  EXPECT_EQ(slots[0].local_start, "2026-10-30T09:00");
  EXPECT_EQ(slots[0].utc_offset_minutes, -240);
  EXPECT_EQ(slots[1].local_start, "2026-11-02T09:00");
  EXPECT_EQ(slots[1].utc_offset_minutes, -300);
}

TEST(SlotsDst, NewYorkGapIsNeverOffered) {
  // 2026-03-08 (Sunday): 02:00 EST jumps to 03:00 EDT at 07:00Z. Hours 01:00-04:00 local.
  Availability a;
  a.time_zone = "America/New_York";
  a.extra = {extra(ymd(2026, 3, 8), 1, 0, 4, 0)};
  const auto half_hours = search(a, rules_minutes(30), utc(2026, 3, 8), utc(2026, 3, 9), utc(2026, 3, 1));
  EXPECT_EQ(starts_of(half_hours),
            (Strings{"2026-03-08T06:00Z", "2026-03-08T06:30Z", "2026-03-08T07:00Z", "2026-03-08T07:30Z"}));
  Strings locals;
  for (const Slot& s : half_hours) locals.push_back(s.local_start);
  EXPECT_EQ(locals, (Strings{"2026-03-08T01:00", "2026-03-08T01:30", "2026-03-08T03:00",
                             "2026-03-08T03:30"}));
  // 60-minute slots on a 30-minute grid: 03:30 EDT would end at 08:30Z, after 04:00 EDT (08:00Z).
  const auto hours = search(a, rules_minutes(60, 30), utc(2026, 3, 8), utc(2026, 3, 9), utc(2026, 3, 1));
  EXPECT_EQ(starts_of(hours), (Strings{"2026-03-08T06:00Z", "2026-03-08T06:30Z", "2026-03-08T07:00Z"}));
  // A 45-minute grid puts 02:30 in the gap: it is skipped, not moved to 03:00 EDT;
  // the grid goes on at 03:15 EDT.
  EXPECT_EQ(starts_of(search(a, rules_minutes(45), utc(2026, 3, 8), utc(2026, 3, 9), utc(2026, 3, 1))),
            (Strings{"2026-03-08T06:00Z", "2026-03-08T06:45Z", "2026-03-08T07:15Z"}));
  // The server agrees at the seam: 07:00Z is 03:00 EDT (on the grid), 06:45Z is not.
  EXPECT_TRUE(check_slot(a, rules_minutes(30), {}, utc(2026, 3, 8, 7, 0), utc(2026, 3, 1)).ok());
  EXPECT_FALSE(check_slot(a, rules_minutes(30), {}, utc(2026, 3, 8, 6, 45), utc(2026, 3, 1)).ok());
}

TEST(SlotsDst, NewYorkFallBackHourOfferedOnce) {
  // 2026-11-01 (Sunday): 02:00 EDT falls back to 01:00 EST at 06:00Z, so 01:00-01:59
  // happens twice; it is offered once, at the earlier (EDT) instant.
  Availability a;
  a.time_zone = "America/New_York";
  a.extra = {extra(ymd(2026, 11, 1), 1, 0, 3, 0)};
  const auto slots = search(a, rules_minutes(30), utc(2026, 11, 1), utc(2026, 11, 2), utc(2026, 10, 20));
  ASSERT_EQ(starts_of(slots),
            (Strings{"2026-11-01T05:00Z", "2026-11-01T05:30Z", "2026-11-01T07:00Z", "2026-11-01T07:30Z"}));
  EXPECT_EQ(slots[0].local_start, "2026-11-01T01:00");
  EXPECT_EQ(slots[0].utc_offset_minutes, -240);
  EXPECT_EQ(slots[1].local_start, "2026-11-01T01:30");
  EXPECT_EQ(slots[2].local_start, "2026-11-01T02:00");
  EXPECT_EQ(slots[2].utc_offset_minutes, -300);
  // The second 01:30 (06:30Z, EST) is not a grid point the server accepts either.
  auto second = check_slot(a, rules_minutes(30), {}, utc(2026, 11, 1, 6, 30), utc(2026, 10, 20));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Code::kInvalidArgument);
  EXPECT_TRUE(check_slot(a, rules_minutes(30), {}, utc(2026, 11, 1, 5, 30), utc(2026, 10, 20)).ok());
}

TEST(SlotsDst, LondonBothTransitions) {
  const Availability a = fri_mon_nine("Europe/London");
  // 2026-03-29: 01:00 GMT -> 02:00 BST.
  EXPECT_EQ(starts_of(search(a, rules_minutes(60), utc(2026, 3, 27), utc(2026, 3, 31), utc(2026, 3, 20))),
            (Strings{"2026-03-27T09:00Z", "2026-03-30T08:00Z"}));
  // 2026-10-25: 02:00 BST -> 01:00 GMT.
  EXPECT_EQ(starts_of(search(a, rules_minutes(60), utc(2026, 10, 23), utc(2026, 10, 27), utc(2026, 10, 20))),
            (Strings{"2026-10-23T08:00Z", "2026-10-26T09:00Z"}));

  Availability gap;
  gap.time_zone = "Europe/London";
  gap.extra = {extra(ymd(2026, 3, 29), 0, 0, 3, 0)};
  EXPECT_EQ(starts_of(search(gap, rules_minutes(30), utc(2026, 3, 28), utc(2026, 3, 30), utc(2026, 3, 20))),
            (Strings{"2026-03-29T00:00Z", "2026-03-29T00:30Z", "2026-03-29T01:00Z", "2026-03-29T01:30Z"}));
}

TEST(SlotsDst, LordHoweHalfHourShift) {
  const Availability a = fri_mon_nine("Australia/Lord_Howe");
  // 2026-04-05: 02:00 +11:00 -> 01:30 +10:30.
  auto april = search(a, rules_minutes(60), utc(2026, 4, 2), utc(2026, 4, 7), utc(2026, 3, 25));
  ASSERT_EQ(starts_of(april), (Strings{"2026-04-02T22:00Z", "2026-04-05T22:30Z"}));
  EXPECT_EQ(april[0].local_start, "2026-04-03T09:00");
  EXPECT_EQ(april[0].utc_offset_minutes, 660);
  EXPECT_EQ(april[1].local_start, "2026-04-06T09:00");
  EXPECT_EQ(april[1].utc_offset_minutes, 630);
  // 2026-10-04: 02:00 +10:30 -> 02:30 +11:00.
  auto october = search(a, rules_minutes(60), utc(2026, 10, 1), utc(2026, 10, 6), utc(2026, 9, 25));
  ASSERT_EQ(starts_of(october), (Strings{"2026-10-01T22:30Z", "2026-10-04T22:00Z"}));
  EXPECT_EQ(october[0].utc_offset_minutes, 630);
  EXPECT_EQ(october[1].utc_offset_minutes, 660);

  // Gap: 02:00 local does not exist on 2026-10-04; 02:30 does (+11:00).
  Availability gap;
  gap.time_zone = "Australia/Lord_Howe";
  gap.extra = {extra(ymd(2026, 10, 4), 1, 0, 4, 0)};
  EXPECT_EQ(starts_of(search(gap, rules_minutes(30), utc(2026, 10, 3), utc(2026, 10, 5), utc(2026, 9, 25))),
            (Strings{"2026-10-03T14:30Z", "2026-10-03T15:00Z", "2026-10-03T15:30Z", "2026-10-03T16:00Z",
                     "2026-10-03T16:30Z"}));
  // Overlap: 01:30-01:59 local happens twice on 2026-04-05; 01:30 is offered once (+11:00).
  Availability overlap;
  overlap.time_zone = "Australia/Lord_Howe";
  overlap.extra = {extra(ymd(2026, 4, 5), 1, 0, 3, 0)};
  auto slots = search(overlap, rules_minutes(30), utc(2026, 4, 4), utc(2026, 4, 6), utc(2026, 3, 25));
  ASSERT_EQ(starts_of(slots),
            (Strings{"2026-04-04T14:00Z", "2026-04-04T14:30Z", "2026-04-04T15:30Z", "2026-04-04T16:00Z"}));
  EXPECT_EQ(slots[1].local_start, "2026-04-05T01:30");
  EXPECT_EQ(slots[1].utc_offset_minutes, 660);
  EXPECT_EQ(slots[2].local_start, "2026-04-05T02:00");
  EXPECT_EQ(slots[2].utc_offset_minutes, 630);
}

TEST(SlotsDst, TokyoHasNoTransitions) {
  Availability a;
  a.time_zone = "Asia/Tokyo";
  for (int d = 1; d <= 5; ++d) a.weekly.push_back(weekly(d, 9, 0, 12, 0));
  // 50-minute sessions back to back: 09:00, 09:50, 10:40 (11:30 would end 12:20).
  // 2026-03-09 is a Monday; 09:00 JST = 00:00Z the same date.
  auto slots = search(a, rules_minutes(50), utc(2026, 3, 8, 15), utc(2026, 3, 10, 15), utc(2026, 3, 1));
  EXPECT_EQ(starts_of(slots), (Strings{"2026-03-09T00:00Z", "2026-03-09T00:50Z", "2026-03-09T01:40Z",
                                       "2026-03-10T00:00Z", "2026-03-10T00:50Z", "2026-03-10T01:40Z"}));
  for (const Slot& s : slots) EXPECT_EQ(s.utc_offset_minutes, 540);
  EXPECT_EQ(slots[1].local_start, "2026-03-09T09:50");
}

TEST(SlotsDst, UtcSundayHours) {
  Availability a;
  a.time_zone = "Etc/UTC";
  a.weekly = {weekly(kSun, 22, 0, 24, 0)};
  // Until midnight: the last hour-long slot starts 23:00 and ends at 00:00 the next day.
  auto slots = search(a, rules_minutes(60), utc(2026, 3, 8), utc(2026, 3, 9), utc(2026, 3, 1));
  EXPECT_EQ(starts_of(slots), (Strings{"2026-03-08T22:00Z", "2026-03-08T23:00Z"}));
  EXPECT_EQ(slots.back().utc_offset_minutes, 0);
}

// The compact answer around a transition: every start in exactly one run, runs split
// where the offset changes, so start + offset is each slot's local start.
TEST(SlotsDst, RunsSplitWhereTheOffsetChanges) {
  // 2026-03-07 to 2026-03-10 (UTC), around the clock, hourly in New York.
  Availability a;
  a.time_zone = "America/New_York";
  for (int d = 0; d <= 6; ++d) a.weekly.push_back(weekly(d, 0, 0, 24, 0));
  const SlotRules rules = rules_minutes(60);
  auto starts = find_open_starts(a, rules, {}, utc(2026, 3, 7), utc(2026, 3, 10), utc(2026, 3, 1));
  ASSERT_TRUE(starts.ok());
  const auto runs = to_runs(*starts, grid_step(rules));
  // Hourly in UTC all along (01:00 EST is 06:00Z, 03:00 EDT 07:00Z), yet two runs:
  // one per offset.
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(iso(runs[0].start), "2026-03-07T00:00Z");  // Friday 19:00 EST
  EXPECT_EQ(runs[0].utc_offset_minutes, -300);
  EXPECT_EQ(runs[0].count, 31);  // to Sunday 01:00 EST
  EXPECT_EQ(runs[1].count, 41);  // Sunday 03:00 EDT to Monday 19:00 EDT
  EXPECT_EQ(iso(runs[1].start), "2026-03-08T07:00Z");  // Sunday 03:00 EDT
  EXPECT_EQ(runs[1].utc_offset_minutes, -240);
  const auto slots = search(a, rules, utc(2026, 3, 7), utc(2026, 3, 10), utc(2026, 3, 1));
  std::size_t i = 0;
  for (const SlotRun& run : runs) {
    for (int k = 0; k < run.count; ++k, ++i) {
      ASSERT_LT(i, slots.size());
      EXPECT_EQ(iso(slots[i].start), iso(run.start + k * run.step));
      EXPECT_EQ(slots[i].utc_offset_minutes, run.utc_offset_minutes);
    }
  }
  EXPECT_EQ(i, slots.size());
  // A taken hour splits a run: the starts on either side stay, in two runs.
  auto taken = find_open_starts(a, rules, {Booked{utc(2026, 3, 9, 15), utc(2026, 3, 9, 16)}}, utc(2026, 3, 9, 12),
                                utc(2026, 3, 9, 20), utc(2026, 3, 1));
  ASSERT_TRUE(taken.ok());
  const auto split = to_runs(*taken, std::chrono::minutes(60));
  ASSERT_EQ(split.size(), 2u);
  EXPECT_EQ(split[0].count, 3);  // 12:00, 13:00, 14:00Z
  EXPECT_EQ(iso(split[1].start), "2026-03-09T16:00Z");
  EXPECT_EQ(split[1].count, 4);
}

}  // namespace
}  // namespace alliance::scheduling
