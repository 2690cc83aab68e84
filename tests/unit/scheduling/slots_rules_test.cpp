// Slot rules a front desk would notice: buffers block neighbours both ways, minimum
// notice, booking horizon, extra hours, time off, check_slot's answers and fields,
// and check_slot agreeing with find_slots on random availability and bookings.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "scheduling_test_util.hpp"

namespace alliance::scheduling {
namespace {

using namespace testing;
using std::chrono::minutes;
using Strings = std::vector<std::string>;

constexpr int kMon = 1;

// Etc/UTC, Monday 09:00-13:00, so every expectation below is readable as-is.
// 2026-06-01 is a Monday.
Availability monday_mornings() {
  Availability a;
  a.time_zone = "Etc/UTC";
  a.weekly = {weekly(kMon, 9, 0, 13, 0)};
  return a;
}

const Instant kNow = utc(2026, 5, 25);

Strings search_monday(const SlotRules& rules, const std::vector<Booked>& booked) {
  auto slots = find_slots(monday_mornings(), rules, booked, utc(2026, 6, 1), utc(2026, 6, 2), kNow);
  EXPECT_TRUE(slots.ok());
  return slots.ok() ? starts_of(*slots) : Strings{};
}

Booked booked(int h, int m, int end_h, int end_m, int before = 0, int after = 0) {
  return Booked{utc(2026, 6, 1, h, m), utc(2026, 6, 1, end_h, end_m), minutes(before), minutes(after)};
}

TEST(SlotRules, OwnBufferAfterBlocksTheSlotBeforeABooking) {
  SlotRules r = rules_minutes(60, 15);
  r.buffer_after = minutes(15);
  // 09:00-10:00 would need 10:00-10:15 for notes, which the 10:00 booking holds.
  EXPECT_EQ(search_monday(r, {booked(10, 0, 11, 0)}),
            (Strings{"2026-06-01T11:00Z", "2026-06-01T11:15Z", "2026-06-01T11:30Z", "2026-06-01T11:45Z",
                     "2026-06-01T12:00Z"}));
}

TEST(SlotRules, OwnBufferBeforeBlocksTheSlotAfterABooking) {
  SlotRules r = rules_minutes(60, 15);
  r.buffer_before = minutes(30);
  // 09:00 stays bookable: its buffer may reach before the therapist's hours.
  EXPECT_EQ(search_monday(r, {booked(10, 0, 11, 0)}),
            (Strings{"2026-06-01T09:00Z", "2026-06-01T11:30Z", "2026-06-01T11:45Z", "2026-06-01T12:00Z"}));
}

TEST(SlotRules, BookedAppointmentsOwnBuffersBlockBothWays) {
  const SlotRules r = rules_minutes(60, 15);
  // The existing appointment keeps 30 minutes after it.
  EXPECT_EQ(search_monday(r, {booked(10, 0, 11, 0, 0, 30)}),
            (Strings{"2026-06-01T09:00Z", "2026-06-01T11:30Z", "2026-06-01T11:45Z", "2026-06-01T12:00Z"}));
  // The existing appointment keeps 30 minutes before it: 09:30-10:30 still fits.
  EXPECT_EQ(search_monday(r, {booked(11, 0, 12, 0, 30, 0)}),
            (Strings{"2026-06-01T09:00Z", "2026-06-01T09:15Z", "2026-06-01T09:30Z", "2026-06-01T12:00Z"}));
  // Without buffers anywhere, back-to-back is fine.
  EXPECT_EQ(search_monday(rules_minutes(60), {booked(10, 0, 11, 0)}),
            (Strings{"2026-06-01T09:00Z", "2026-06-01T11:00Z", "2026-06-01T12:00Z"}));
}

TEST(SlotRules, MinimumNotice) {
  SlotRules r = rules_minutes(60);
  r.min_notice = minutes(120);
  const Instant now = utc(2026, 6, 1, 8, 0);
  auto slots = find_slots(monday_mornings(), r, {}, utc(2026, 6, 1), utc(2026, 6, 2), now);
  ASSERT_TRUE(slots.ok());
  EXPECT_EQ(starts_of(*slots), (Strings{"2026-06-01T10:00Z", "2026-06-01T11:00Z", "2026-06-01T12:00Z"}));
  auto early = check_slot(monday_mornings(), r, {}, utc(2026, 6, 1, 9, 0), now);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(early.error().message, "start_time: inside the minimum notice");
  EXPECT_TRUE(check_slot(monday_mornings(), r, {}, utc(2026, 6, 1, 10, 0), now).ok());
}

TEST(SlotRules, BookingHorizonIsInclusive) {
  Availability a;
  a.time_zone = "Etc/UTC";
  for (int d = 0; d < 7; ++d) a.weekly.push_back(weekly(d, 9, 0, 10, 0));
  SlotRules r = rules_minutes(60);
  r.booking_horizon = std::chrono::days(2);
  const Instant now = utc(2026, 6, 1, 9, 0);  // latest start: 2026-06-03T09:00Z exactly
  auto slots = find_slots(a, r, {}, utc(2026, 6, 1), utc(2026, 6, 11), now);
  ASSERT_TRUE(slots.ok());
  EXPECT_EQ(starts_of(*slots), (Strings{"2026-06-01T09:00Z", "2026-06-02T09:00Z", "2026-06-03T09:00Z"}));
  auto late = check_slot(a, r, {}, utc(2026, 6, 4, 9, 0), now);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(late.error().message, "start_time: beyond the booking horizon");
}

TEST(SlotRules, ExtraHoursAddAndExtendAndTimeOffRemoves) {
  Availability a = monday_mornings();
  a.extra = {extra(ymd(2026, 6, 6), 10, 0, 12, 0),   // a Saturday
             extra(ymd(2026, 6, 1), 13, 0, 14, 0)};  // extends Monday's hours
  const SlotRules r = rules_minutes(60, 30);
  auto slots = find_slots(a, r, {}, utc(2026, 6, 1), utc(2026, 6, 8), kNow);
  ASSERT_TRUE(slots.ok());
  EXPECT_EQ(starts_of(*slots),
            (Strings{"2026-06-01T09:00Z", "2026-06-01T09:30Z", "2026-06-01T10:00Z", "2026-06-01T10:30Z",
                     "2026-06-01T11:00Z", "2026-06-01T11:30Z", "2026-06-01T12:00Z", "2026-06-01T12:30Z",
                     "2026-06-01T13:00Z", "2026-06-06T10:00Z", "2026-06-06T10:30Z", "2026-06-06T11:00Z"}));

  // A week off covering both: nothing on those days, the next Monday is back.
  a.time_off = {TimeOff{ymd(2026, 6, 1), ymd(2026, 6, 7)}};
  slots = find_slots(a, r, {}, utc(2026, 6, 1), utc(2026, 6, 9), kNow);
  ASSERT_TRUE(slots.ok());
  ASSERT_FALSE(slots->empty());
  EXPECT_EQ(iso(slots->front().start), "2026-06-08T09:00Z");
  auto off = check_slot(a, r, {}, utc(2026, 6, 6, 10, 0), kNow);
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.error().message, "start_time: outside the therapist's hours");
}

TEST(SlotRules, CheckSlotNamesWhatIsWrong) {
  const Availability a = monday_mornings();
  const SlotRules r = rules_minutes(60, 30);
  auto off_grid = check_slot(a, r, {}, utc(2026, 6, 1, 9, 10), kNow);
  ASSERT_FALSE(off_grid.ok());
  EXPECT_EQ(off_grid.error().code, Code::kInvalidArgument);
  EXPECT_EQ(off_grid.error().field, "start_time");
  EXPECT_EQ(off_grid.error().message, "start_time: not on the appointment type's grid");

  auto after_hours = check_slot(a, r, {}, utc(2026, 6, 1, 14, 0), kNow);
  ASSERT_FALSE(after_hours.ok());
  EXPECT_EQ(after_hours.error().message, "start_time: outside the therapist's hours");
  // 12:30 is on the grid but the hour would end at 13:30, after 13:00.
  auto runs_over = check_slot(a, r, {}, utc(2026, 6, 1, 12, 30), kNow);
  ASSERT_FALSE(runs_over.ok());
  EXPECT_EQ(runs_over.error().message, "start_time: outside the therapist's hours");

  auto taken = check_slot(a, r, {booked(9, 30, 10, 30)}, utc(2026, 6, 1, 10, 0), kNow);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, Code::kAlreadyExists);
  EXPECT_EQ(taken.error().message, "start_time: overlaps another appointment or its buffer");

  EXPECT_TRUE(check_slot(a, r, {booked(9, 30, 10, 30)}, utc(2026, 6, 1, 10, 30), kNow).ok());
}

TEST(SlotRules, BadSearchInputNamesTheField) {
  const Availability a = monday_mornings();
  const SlotRules r = rules_minutes(60);
  auto expect_field = [](const Result<std::vector<Slot>>& res, const std::string& field,
                         const std::string& message) {
    ASSERT_FALSE(res.ok());
    EXPECT_EQ(res.error().code, Code::kInvalidArgument);
    EXPECT_EQ(res.error().field, field);
    EXPECT_EQ(res.error().message, message);
  };
  expect_field(find_slots(a, r, {}, utc(2026, 6, 2), utc(2026, 6, 1), kNow), "to", "to: must be after from");
  expect_field(find_slots(a, r, {}, utc(2026, 6, 1), utc(2026, 6, 1), kNow), "to", "to: must be after from");
  expect_field(find_slots(a, r, {}, utc(2026, 6, 1), utc(2026, 7, 13, 0, 1), kNow), "to",
               "to: range longer than 42 days");
  EXPECT_TRUE(find_slots(a, r, {}, utc(2026, 6, 1), utc(2026, 7, 13), kNow).ok());  // exactly 42 days
  expect_field(find_slots(a, r, {}, utc(2026, 5, 1), utc(2026, 5, 2), kNow), "from", "from: too far in the past");
  expect_field(find_slots(a, r, {}, utc(2028, 6, 1), utc(2028, 6, 2), kNow), "from",
               "from: too far in the future");

  Availability bad_zone = a;
  bad_zone.time_zone = "Mars/Olympus_Mons";
  expect_field(find_slots(bad_zone, r, {}, utc(2026, 6, 1), utc(2026, 6, 2), kNow), "time_zone",
               "time_zone: unknown time zone \"Mars/Olympus_Mons\"");
  Availability backwards = a;
  backwards.weekly.push_back(weekly(2, 17, 0, 9, 0));
  expect_field(find_slots(backwards, r, {}, utc(2026, 6, 1), utc(2026, 6, 2), kNow), "weekly[1].end_minute",
               "weekly[1].end_minute: must be after start_minute");
  SlotRules too_long = r;
  too_long.duration = minutes(600);
  expect_field(find_slots(a, too_long, {}, utc(2026, 6, 1), utc(2026, 6, 2), kNow), "duration",
               "duration: must be between 5 and 480 minutes");
}

TEST(SlotRules, ValidateRules) {
  auto field_of = [](const SlotRules& r) { auto s = validate(r); return s.ok() ? std::string() : s.error().field; };
  SlotRules r = rules_minutes(50);
  EXPECT_EQ(field_of(r), "");
  r.duration = minutes(4);
  EXPECT_EQ(field_of(r), "duration");
  r = rules_minutes(50);
  r.buffer_before = minutes(-5);
  EXPECT_EQ(field_of(r), "buffer_before");
  r = rules_minutes(50);
  r.buffer_after = minutes(241);
  EXPECT_EQ(field_of(r), "buffer_after");
  r = rules_minutes(50, 3);
  EXPECT_EQ(field_of(r), "step");
  r = rules_minutes(50);
  r.booking_horizon = std::chrono::days(0);
  EXPECT_EQ(field_of(r), "booking_horizon");
  r = rules_minutes(50);
  r.min_notice = minutes(-1);
  EXPECT_EQ(field_of(r), "min_notice");
}

// Random availability, rules and bookings around both New York transitions and in
// other zones: every offered start passes check_slot, and a sample of other
// 5-minute instants passes check_slot only if it was offered.
TEST(SlotRules, CheckSlotAgreesWithFindSlots) {
  std::mt19937 rng(20260308);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const std::vector<std::string> zones = {"America/New_York", "Europe/London", "Australia/Lord_Howe",
                                          "Asia/Tokyo", "Etc/UTC"};
  const std::vector<Instant> nows = {utc(2026, 3, 2, 13, 7), utc(2026, 10, 20, 2, 0), utc(2026, 3, 24),
                                     utc(2026, 9, 28, 17, 30)};
  int offered_total = 0, rejected_total = 0;
  for (int round = 0; round < 40; ++round) {
    Availability a;
    a.time_zone = zones[round % zones.size()];
    for (int d = 0; d < 7; ++d) {
      if (pick(0, 4) == 0) continue;
      // Morning (somewhere 00:00-12:00) and maybe afternoon (12:00-24:00): never overlapping.
      int s = pick(0, 20) * 30, e = s + pick(1, 24 - s / 30) * 30;
      a.weekly.push_back(WeeklyHours{d, LocalInterval{s, std::min(e, 720)}});
      if (pick(0, 1)) {
        s = 720 + pick(0, 20) * 30;
        e = std::min(1440, s + pick(1, 10) * 30);
        a.weekly.push_back(WeeklyHours{d, LocalInterval{s, e}});
      }
    }
    const Instant now = nows[round % nows.size()];
    const auto now_day = date::floor<date::days>(now);
    for (int i = 0; i < 3; ++i) {
      const ExtraHours e{date::year_month_day{now_day + date::days(pick(0, 13))},
                         LocalInterval{pick(0, 10) * 60, pick(11, 24) * 60}};
      bool same_date = false;  // extras on one date must not overlap; keep one per date
      for (const ExtraHours& x : a.extra) same_date = same_date || x.date == e.date;
      if (!same_date) a.extra.push_back(e);
    }
    if (pick(0, 1)) {
      const auto first = now_day + date::days(pick(0, 13));
      a.time_off.push_back(TimeOff{date::year_month_day{first},
                                   date::year_month_day{first + date::days(pick(0, 2))}});
    }
    SlotRules r;
    r.duration = minutes(pick(3, 24) * 5);
    r.step = minutes(pick(0, 2) * 15);
    r.buffer_before = minutes(pick(0, 3) * 10);
    r.buffer_after = minutes(pick(0, 3) * 10);
    r.min_notice = minutes(pick(0, 48) * 30);
    r.booking_horizon = std::chrono::days(pick(3, 30));
    ASSERT_TRUE(validate(a).ok()) << validate(a).error().message;
    ASSERT_TRUE(validate(r).ok()) << validate(r).error().message;

    std::vector<Booked> bookings;
    for (int i = 0; i < pick(0, 12); ++i) {
      const Instant s = now + minutes(pick(0, 14 * 24 * 12) * 5);
      bookings.push_back(Booked{s, s + minutes(pick(2, 18) * 5), minutes(pick(0, 2) * 15),
                                minutes(pick(0, 2) * 15)});
    }
    const Instant from = now;
    const Instant to = now + std::chrono::days(14);
    auto slots = find_slots(a, r, bookings, from, to, now);
    ASSERT_TRUE(slots.ok()) << slots.error().message;
    std::set<Instant> offered;
    for (std::size_t i = 0; i < slots->size(); ++i) {
      const Slot& s = (*slots)[i];
      if (i > 0) {
        ASSERT_LT((*slots)[i - 1].start, s.start) << "sorted, no duplicates";
      }
      EXPECT_TRUE(check_slot(a, r, bookings, s.start, now).ok()) << a.time_zone << " " << iso(s.start);
      EXPECT_EQ(s.end - s.start, r.duration);
      offered.insert(s.start);
    }
    offered_total += static_cast<int>(offered.size());
    const auto first_5 = date::ceil<minutes>(from);
    for (int i = 0; i < 300; ++i) {
      const Instant t = first_5 + minutes(pick(0, 14 * 24 * 12 - 1) * 5);
      const bool ok = check_slot(a, r, bookings, t, now).ok();
      EXPECT_EQ(ok, offered.count(t) == 1) << a.time_zone << " " << iso(t);
      if (!ok) ++rejected_total;
    }
  }
  // The sample exercised both answers.
  EXPECT_GT(offered_total, 200);
  EXPECT_GT(rejected_total, 1000);
}

}  // namespace
}  // namespace alliance::scheduling
