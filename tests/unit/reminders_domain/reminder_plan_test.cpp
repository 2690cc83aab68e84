// Planning rules for reminders: offsets, what is skipped, quiet hours in the
// client's zone across DST changes (America/New_York and Australia/Lord_Howe, whose
// clocks move by 30 minutes), policy validation and the reminder's wording.
#include <gtest/gtest.h>

#include <cstdio>

#include "domain/reminder_plan.hpp"
#include "domain/reminder_text.hpp"

namespace alliance::reminders {
namespace {

using namespace std::chrono_literals;

TimePoint at(const std::string& rfc3339) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (std::sscanf(rfc3339.c_str(), "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &sec) != 6)
    throw std::runtime_error("bad test instant " + rfc3339);
  auto day = date::sys_days{date::year{y} / static_cast<unsigned>(mo) / static_cast<unsigned>(d)};
  return TimePoint{day + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{sec}};
}

std::string show(TimePoint t) {
  return date::format("%Y-%m-%dT%H:%M:%SZ", std::chrono::time_point_cast<std::chrono::seconds>(t));
}

const date::time_zone* zone(const char* name) {
  auto* z = find_zone(name);
  if (!z) throw std::runtime_error(std::string("no zone ") + name);
  return z;
}

const QuietHours kNight{21 * 60, 8 * 60};

// --------------------------------------------------------------- offsets

TEST(ReminderPlan, BookedThreeHoursAheadGetsOnlyTheTwoHourReminder) {
  auto p = default_policy();
  auto now = at("2026-06-10T14:00:00Z");    // 10:00 in New York
  auto start = at("2026-06-10T17:00:00Z");  // 13:00
  auto plan = plan_reminders(p, "type", start, zone("America/New_York"), now);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].offset_minutes, 120);
  EXPECT_EQ(show(plan[0].due), "2026-06-10T15:00:00Z");
  EXPECT_FALSE(plan[0].moved_for_quiet_hours);
}

TEST(ReminderPlan, BookedDaysAheadGetsEveryOffsetEarliestFirst) {
  auto plan = plan_reminders(default_policy(), "type", at("2026-06-12T17:00:00Z"), zone("America/New_York"),
                             at("2026-06-01T12:00:00Z"));
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].offset_minutes, 1440);
  EXPECT_EQ(show(plan[0].due), "2026-06-11T17:00:00Z");
  EXPECT_EQ(plan[1].offset_minutes, 120);
  EXPECT_EQ(show(plan[1].due), "2026-06-12T15:00:00Z");
}

TEST(ReminderPlan, AnAppointmentThatHasStartedGetsNone) {
  auto start = at("2026-06-12T17:00:00Z");
  EXPECT_TRUE(plan_reminders(default_policy(), "t", start, zone("UTC"), start).empty());
  EXPECT_TRUE(plan_reminders(default_policy(), "t", start, zone("UTC"), start + 1min).empty());
}

TEST(ReminderPlan, AnOffsetExactlyNowIsSkipped) {
  auto start = at("2026-06-12T17:00:00Z");
  auto plan = plan_reminders(default_policy(), "t", start, zone("UTC"), start - 120min);
  EXPECT_TRUE(plan.empty());
}

TEST(ReminderPlan, TheTypesOverrideReplacesThePracticeOffsets) {
  auto p = default_policy();
  p.type_offsets["intake"] = {2880, 60};
  auto start = at("2026-06-12T17:00:00Z");
  auto now = at("2026-06-01T12:00:00Z");
  auto intake = plan_reminders(p, "intake", start, zone("UTC"), now);
  ASSERT_EQ(intake.size(), 2u);
  EXPECT_EQ(intake[0].offset_minutes, 2880);
  EXPECT_EQ(intake[1].offset_minutes, 60);
  EXPECT_EQ(plan_reminders(p, "other", start, zone("UTC"), now)[1].offset_minutes, 120);
}

// --------------------------------------------------------------- quiet hours

TEST(ReminderPlan, OutsideQuietHoursNothingMoves) {
  auto r = move_out_of_quiet_hours(at("2026-06-10T14:00:00Z"), at("2026-06-11T14:00:00Z"), kNight,
                                   zone("America/New_York"));
  EXPECT_FALSE(r.moved);
  EXPECT_EQ(show(r.due), "2026-06-10T14:00:00Z");
}

TEST(ReminderPlan, QuietHoursEndIsExclusiveAndStartInclusive) {
  auto* ny = zone("America/New_York");
  // 08:00 EDT is 12:00Z: already allowed. 21:00 EDT is 01:00Z next day: quiet.
  EXPECT_FALSE(move_out_of_quiet_hours(at("2026-06-10T12:00:00Z"), at("2026-06-11T20:00:00Z"), kNight, ny).moved);
  EXPECT_TRUE(move_out_of_quiet_hours(at("2026-06-11T01:00:00Z"), at("2026-06-11T20:00:00Z"), kNight, ny).moved);
}

TEST(ReminderPlan, InsideQuietHoursMovesToTheirEndWhenThatIsStillHalfAnHourBeforeTheStart) {
  // 23:00 EDT -> 08:00 EDT next morning; the appointment is at 10:00.
  auto r = move_out_of_quiet_hours(at("2026-06-11T03:00:00Z"), at("2026-06-11T14:00:00Z"), kNight,
                                   zone("America/New_York"));
  EXPECT_TRUE(r.moved);
  EXPECT_EQ(show(r.due), "2026-06-11T12:00:00Z");
}

TEST(ReminderPlan, InsideQuietHoursMovesEarlierToTheirStartWhenTheEndIsTooLate) {
  // Appointment 08:15 EDT, 2 h reminder at 06:15: 08:00 is not 30 min before 08:15,
  // so it goes to 21:00 the evening before.
  auto r = move_out_of_quiet_hours(at("2026-06-11T10:15:00Z"), at("2026-06-11T12:15:00Z"), kNight,
                                   zone("America/New_York"));
  EXPECT_TRUE(r.moved);
  EXPECT_EQ(show(r.due), "2026-06-11T01:00:00Z");
}

TEST(ReminderPlan, EndExactlyThirtyMinutesBeforeTheStartIsStillAllowed) {
  auto r = move_out_of_quiet_hours(at("2026-06-11T10:00:00Z"), at("2026-06-11T12:30:00Z"), kNight,
                                   zone("America/New_York"));
  EXPECT_EQ(show(r.due), "2026-06-11T12:00:00Z");
}

TEST(ReminderPlan, QuietHoursWithinOneDayWork) {
  QuietHours lunch{12 * 60, 13 * 60};
  auto r = move_out_of_quiet_hours(at("2026-06-10T12:20:00Z"), at("2026-06-10T18:00:00Z"), lunch, zone("UTC"));
  EXPECT_EQ(show(r.due), "2026-06-10T13:00:00Z");
}

// New York springs forward on Sunday 8 March 2026 at 02:00 EST (-5) to 03:00 EDT (-4).
TEST(ReminderPlanDst, NewYorkSpringForwardNightEndsAtEightOClockDaylightTime) {
  auto* ny = zone("America/New_York");
  // Appointment Sunday 12:00 EDT (16:00Z); 12 h reminder at Saturday 23:00 EST (04:00Z).
  auto r = move_out_of_quiet_hours(at("2026-03-08T04:00:00Z"), at("2026-03-08T16:00:00Z"), kNight, ny);
  EXPECT_TRUE(r.moved);
  EXPECT_EQ(show(r.due), "2026-03-08T12:00:00Z");  // 08:00 EDT, not 13:00Z (08:00 at the evening's offset)
}

TEST(ReminderPlanDst, NewYorkSpringForwardNightStartIsNineOClockStandardTime) {
  auto* ny = zone("America/New_York");
  // Appointment Sunday 08:15 EDT (12:15Z); 2 h reminder at 06:15 EDT: moved back to Saturday 21:00 EST.
  auto r = move_out_of_quiet_hours(at("2026-03-08T10:15:00Z"), at("2026-03-08T12:15:00Z"), kNight, ny);
  EXPECT_TRUE(r.moved);
  EXPECT_EQ(show(r.due), "2026-03-08T02:00:00Z");  // not 01:00Z (21:00 at the morning's offset)
}

TEST(ReminderPlanDst, NewYorkQuietHoursEndingInsideTheGapEndAtTheTransition) {
  QuietHours q{21 * 60, 2 * 60 + 15};  // 02:15 does not exist that night
  auto r = move_out_of_quiet_hours(at("2026-03-08T05:00:00Z"), at("2026-03-08T16:00:00Z"), q,
                                   zone("America/New_York"));
  EXPECT_EQ(show(r.due), "2026-03-08T07:00:00Z");  // 03:00 EDT, the first minute after the gap
}

// New York falls back on Sunday 1 November 2026 at 02:00 EDT (-4) to 01:00 EST (-5).
TEST(ReminderPlanDst, NewYorkFallBackNightEndsAtEightOClockStandardTime) {
  auto* ny = zone("America/New_York");
  // Appointment Sunday 12:00 EST (17:00Z); 12 h reminder at 01:00 EDT (05:00Z, the first 01:00).
  auto r = move_out_of_quiet_hours(at("2026-11-01T05:00:00Z"), at("2026-11-01T17:00:00Z"), kNight, ny);
  EXPECT_TRUE(r.moved);
  EXPECT_EQ(show(r.due), "2026-11-01T13:00:00Z");  // 08:00 EST
}

TEST(ReminderPlanDst, NewYorkFallBackNightStartIsNineOClockDaylightTime) {
  auto* ny = zone("America/New_York");
  // Appointment Sunday 08:10 EST (13:10Z); 1 h reminder at 07:10 EST: back to Saturday 21:00 EDT.
  auto r = move_out_of_quiet_hours(at("2026-11-01T12:10:00Z"), at("2026-11-01T13:10:00Z"), kNight, ny);
  EXPECT_EQ(show(r.due), "2026-11-01T01:00:00Z");
}

TEST(ReminderPlanDst, NewYorkRepeatedEndHourEndsAtItsSecondOccurrence) {
  QuietHours q{21 * 60, 1 * 60 + 30};  // 01:30 happens twice that night
  auto r = move_out_of_quiet_hours(at("2026-11-01T03:00:00Z"), at("2026-11-01T17:00:00Z"), q,
                                   zone("America/New_York"));
  EXPECT_EQ(show(r.due), "2026-11-01T06:30:00Z");  // 01:30 EST, not 01:30 EDT (05:30Z)
}

// Lord Howe Island moves its clocks by 30 minutes: +11:00 in summer, +10:30 in winter.
// Daylight time ends Sunday 5 April 2026 02:00 (+11) -> 01:30 (+10:30).
TEST(ReminderPlanDst, LordHoweFallBackNightEndsAtEightOClockStandardTime) {
  auto* lh = zone("Australia/Lord_Howe");
  // Appointment Sunday 10:00 (+10:30) = Saturday 23:30Z; 12 h reminder at Saturday 22:30 (+11).
  auto r = move_out_of_quiet_hours(at("2026-04-04T11:30:00Z"), at("2026-04-04T23:30:00Z"), kNight, lh);
  EXPECT_TRUE(r.moved);
  EXPECT_EQ(show(r.due), "2026-04-04T21:30:00Z");  // 08:00 at +10:30, not 21:00Z
}

TEST(ReminderPlanDst, LordHoweFallBackNightStartIsNineOClockDaylightTime) {
  auto* lh = zone("Australia/Lord_Howe");
  // Appointment Sunday 08:20 (+10:30) = 21:50Z; 1 h reminder at 07:20: back to Saturday 21:00 (+11).
  auto r = move_out_of_quiet_hours(at("2026-04-04T20:50:00Z"), at("2026-04-04T21:50:00Z"), kNight, lh);
  EXPECT_EQ(show(r.due), "2026-04-04T10:00:00Z");
}

// Daylight time starts Sunday 4 October 2026 02:00 (+10:30) -> 02:30 (+11).
TEST(ReminderPlanDst, LordHoweSpringForwardNightEndsAtEightOClockDaylightTime) {
  auto* lh = zone("Australia/Lord_Howe");
  // Appointment Sunday 10:00 (+11) = Saturday 23:00Z; 12 h reminder at Saturday 21:30 (+10:30).
  auto r = move_out_of_quiet_hours(at("2026-10-03T11:00:00Z"), at("2026-10-03T23:00:00Z"), kNight, lh);
  EXPECT_TRUE(r.moved);
  EXPECT_EQ(show(r.due), "2026-10-03T21:00:00Z");  // 08:00 at +11, not 21:30Z
}

TEST(ReminderPlanDst, LordHoweSpringForwardNightStartIsNineOClockStandardTime) {
  auto* lh = zone("Australia/Lord_Howe");
  // Appointment Sunday 08:20 (+11) = 21:20Z; 1 h reminder at 07:20: back to Saturday 21:00 (+10:30).
  auto r = move_out_of_quiet_hours(at("2026-10-03T20:20:00Z"), at("2026-10-03T21:20:00Z"), kNight, lh);
  EXPECT_EQ(show(r.due), "2026-10-03T10:30:00Z");
}

TEST(ReminderPlanDst, LordHoweQuietHoursEndingInsideTheHalfHourGapEndAtTheTransition) {
  QuietHours q{21 * 60, 2 * 60 + 10};  // 02:10 does not exist on 4 October
  auto r = move_out_of_quiet_hours(at("2026-10-03T12:00:00Z"), at("2026-10-03T23:00:00Z"), q,
                                   zone("Australia/Lord_Howe"));
  EXPECT_EQ(show(r.due), "2026-10-03T15:30:00Z");  // 02:30 (+11)
}

TEST(ReminderPlan, ReminderMovedBeforeNowIsSentNowNotDropped) {
  // Booked at 22:00 EDT for 07:00 the next morning: the 2 h reminder (05:00) falls in
  // quiet hours whose end is too late and whose start (21:00) has passed.
  auto now = at("2026-06-11T02:00:00Z");
  auto plan = plan_reminders(default_policy(), "t", at("2026-06-11T11:00:00Z"), zone("America/New_York"), now);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].offset_minutes, 120);
  EXPECT_EQ(plan[0].due, now);
  EXPECT_TRUE(plan[0].moved_for_quiet_hours);
}

TEST(ReminderPlan, TwoOffsetsMovedToTheSameInstantAreSentOnce) {
  auto p = default_policy();
  p.offsets_minutes = {660, 600};  // 23:00 and 00:00 for an 10:00 appointment: both moved to 08:00
  auto plan = plan_reminders(p, "t", at("2026-06-11T14:00:00Z"), zone("America/New_York"),
                             at("2026-06-09T12:00:00Z"));
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].offset_minutes, 600);
  EXPECT_EQ(show(plan[0].due), "2026-06-11T12:00:00Z");
}

TEST(ReminderPlan, NoQuietHoursMeansNothingMoves) {
  auto p = default_policy();
  p.quiet.reset();
  auto plan = plan_reminders(p, "t", at("2026-06-11T06:00:00Z"), zone("America/New_York"),
                             at("2026-06-01T00:00:00Z"));
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(show(plan[1].due), "2026-06-11T04:00:00Z");  // 00:00 EDT
  EXPECT_FALSE(plan[1].moved_for_quiet_hours);
}

// --------------------------------------------------------------- policy input

TEST(ReminderPolicyInput, ValidPolicyIsNormalisedLargestOffsetFirst) {
  auto p = parse_policy({120, 1440, 30}, {{"t1", {60, 2880}}}, "22:00", "07:30", true);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->offsets_minutes, (std::vector<int>{1440, 120, 30}));
  EXPECT_EQ(p->type_offsets.at("t1"), (std::vector<int>{2880, 60}));
  ASSERT_TRUE(p->quiet);
  EXPECT_EQ(p->quiet->start_minute, 22 * 60);
  EXPECT_EQ(p->quiet->end_minute, 7 * 60 + 30);
  EXPECT_TRUE(p->show_therapist_name);
}

TEST(ReminderPolicyInput, EmptyQuietHoursMeanNone) {
  auto p = parse_policy({60}, {}, "", "", false);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->quiet);
}

TEST(ReminderPolicyInput, BadInputNamesTheField) {
  struct Case {
    std::vector<int> offsets;
    std::vector<TypeOffsetsInput> types;
    std::string qs, qe;
    std::string field, message;
  };
  const std::vector<Case> cases = {
      {{}, {}, "", "", "offsets_minutes", "offsets_minutes: 1 to 5 offsets"},
      {{10, 20, 30, 40, 50, 60}, {}, "", "", "offsets_minutes", "offsets_minutes: 1 to 5 offsets"},
      {{60, 4}, {}, "", "", "offsets_minutes", "offsets_minutes[1]: must be 5 to 20160 minutes"},
      {{20161}, {}, "", "", "offsets_minutes", "offsets_minutes[0]: must be 5 to 20160 minutes"},
      {{120, 60, 120}, {}, "", "", "offsets_minutes", "offsets_minutes[2]: repeats 120"},
      {{60}, {{"", {60}}}, "", "", "type_overrides", "type_overrides[0].type_id: required"},
      {{60}, {{"a", {60}}, {"a", {30}}}, "", "", "type_overrides", "type_overrides[1].type_id: repeats \"a\""},
      {{60}, {{"a", {1}}}, "", "", "type_overrides", "type_overrides[0].offsets_minutes[0]: must be 5 to 20160 minutes"},
      {{60}, {}, "9:00", "08:00", "quiet_start", "quiet_start: must be \"HH:MM\" from 00:00 to 23:59"},
      {{60}, {}, "21:00", "24:00", "quiet_end", "quiet_end: must be \"HH:MM\" from 00:00 to 23:59"},
      {{60}, {}, "21:00", "", "quiet_end", "quiet_end: required with quiet_start"},
      {{60}, {}, "", "08:00", "quiet_start", "quiet_start: required with quiet_end"},
      {{60}, {}, "08:00", "08:00", "quiet_end", "quiet_end: must differ from quiet_start"},
  };
  for (const auto& c : cases) {
    auto p = parse_policy(c.offsets, c.types, c.qs, c.qe, false);
    ASSERT_FALSE(p) << c.message;
    EXPECT_EQ(p.error().code, Code::kInvalidArgument);
    EXPECT_EQ(p.error().field, c.field) << c.message;
    EXPECT_EQ(p.error().message, c.message);
  }
}

// --------------------------------------------------------------- wording

TEST(ReminderText, SaysPracticeLocalTimeInTheClientsZoneAndAsksToConfirm) {
  auto text = reminder_text({.practice_name = "Riverside Therapy",
                             .therapist_name = "",
                             .start = at("2026-12-07T14:00:00Z"),
                             .zone = zone("America/New_York"),
                             .confirmed = false});
  EXPECT_EQ(text,
            "Riverside Therapy: reminder of your appointment on Monday 7 December 2026 at 09:00 "
            "(America/New_York). Please confirm it.");
}

TEST(ReminderText, NamesTheTherapistOnlyWhenAskedAndSaysConfirmed) {
  auto text = reminder_text({.practice_name = "Riverside Therapy",
                             .therapist_name = "Dr Kim",
                             .start = at("2026-12-07T14:00:00Z"),
                             .zone = zone("Europe/Berlin"),
                             .confirmed = true});
  EXPECT_EQ(text,
            "Riverside Therapy: reminder of your appointment on Monday 7 December 2026 at 15:00 "
            "(Europe/Berlin) with Dr Kim. You have confirmed it.");
}

TEST(ReminderText, LordHoweHalfHourOffsetShowsTheRightMinute) {
  auto text = reminder_text({.practice_name = "P", .start = at("2026-06-10T00:00:00Z"), .zone = zone("Australia/Lord_Howe")});
  EXPECT_NE(text.find("Wednesday 10 June 2026 at 10:30"), std::string::npos) << text;
}

}  // namespace
}  // namespace alliance::reminders
