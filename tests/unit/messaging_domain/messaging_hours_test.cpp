// Messaging hours against UTC instants worked out by hand from the 2026 rules:
// New York EST = UTC-5, EDT = UTC-4, spring-forward Sunday 2026-03-08 07:00Z
// (02:00 EST -> 03:00 EDT), fall-back Sunday 2026-11-01 06:00Z (02:00 EDT -> 01:00
// EST); Kolkata UTC+5:30 all year; Adelaide UTC+10:30 in January, UTC+9:30 in June.
// 2026-01-05, 2026-03-09, 2026-06-01 and 2026-11-02 are Mondays.
#include "domain/messaging_hours.hpp"

#include <gtest/gtest.h>

#include <limits>

#include <date/date.h>

namespace alliance::messaging {
namespace {

using Windows = std::vector<std::tuple<int, std::string, std::string>>;

constexpr int kSun = 0, kMon = 1, kTue = 2, kWed = 3, kThu = 4, kFri = 5, kSat = 6;

TimePoint utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  const date::sys_days day{date::year{y} / date::month{m} / date::day{d}};
  return TimePoint{day} + std::chrono::hours{hh} + std::chrono::minutes{mm};
}

std::string iso(TimePoint t) { return date::format("%Y-%m-%dT%H:%MZ", date::floor<std::chrono::minutes>(t)); }

WeeklyHours parse_ok(std::string_view zone, const Windows& windows, int expected_reply_hours = 0) {
  auto parsed = parse_weekly_hours(zone, windows, expected_reply_hours);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? *parsed : WeeklyHours{};
}

// Monday to Friday 09:00-17:00.
WeeklyHours weekdays_nine_to_five(std::string_view zone, int expected_reply_hours = 0) {
  Windows w;
  for (int d : {kMon, kTue, kWed, kThu, kFri}) w.emplace_back(d, "09:00", "17:00");
  return parse_ok(zone, w, expected_reply_hours);
}

std::string next_iso(const WeeklyHours& hours, TimePoint at) {
  const auto next = next_opening(hours, at);
  return next ? iso(*next) : "none";
}

// ---- within_hours ----

TEST(WithinHours, NewYorkWinterMondayEdgesInEst) {
  const auto h = weekdays_nine_to_five("America/New_York");
  EXPECT_FALSE(within_hours(h, utc(2026, 1, 5, 13, 59)));  // 08:59 EST
  EXPECT_FALSE(within_hours(h, utc(2026, 1, 5, 14, 0) - std::chrono::milliseconds{1}));
  EXPECT_TRUE(within_hours(h, utc(2026, 1, 5, 14, 0)));    // 09:00
  EXPECT_TRUE(within_hours(h, utc(2026, 1, 5, 21, 59)));   // 16:59
  EXPECT_FALSE(within_hours(h, utc(2026, 1, 5, 22, 0)));   // 17:00
  EXPECT_FALSE(within_hours(h, utc(2026, 1, 10, 17, 0)));  // Saturday 12:00
  EXPECT_FALSE(within_hours(h, utc(2026, 1, 11, 17, 0)));  // Sunday 12:00
}

TEST(WithinHours, NewYorkSummerMondayEdgesInEdt) {
  const auto h = weekdays_nine_to_five("America/New_York");
  EXPECT_FALSE(within_hours(h, utc(2026, 6, 1, 12, 59)));  // 08:59 EDT
  EXPECT_TRUE(within_hours(h, utc(2026, 6, 1, 13, 0)));    // 09:00
  EXPECT_TRUE(within_hours(h, utc(2026, 6, 1, 20, 59)));   // 16:59
  EXPECT_FALSE(within_hours(h, utc(2026, 6, 1, 21, 0)));   // 17:00
  EXPECT_FALSE(within_hours(h, utc(2026, 6, 6, 14, 0)));   // Saturday 10:00
  // 13:59Z is inside in summer but 08:59 in winter: the offset really moves.
  EXPECT_TRUE(within_hours(h, utc(2026, 6, 1, 13, 59)));
}

TEST(WithinHours, NewYorkSpringForwardWeekend) {
  const auto h = weekdays_nine_to_five("America/New_York");
  EXPECT_FALSE(within_hours(h, utc(2026, 3, 8, 14, 0)));   // Sunday 10:00 EDT
  EXPECT_FALSE(within_hours(h, utc(2026, 3, 9, 12, 59)));  // Monday 08:59 EDT
  EXPECT_TRUE(within_hours(h, utc(2026, 3, 9, 13, 0)));    // Monday 09:00 EDT (08:00 on EST)
  EXPECT_TRUE(within_hours(h, utc(2026, 3, 9, 20, 59)));   // 16:59 EDT
  EXPECT_FALSE(within_hours(h, utc(2026, 3, 9, 21, 0)));   // 17:00 EDT
  EXPECT_TRUE(within_hours(h, utc(2026, 3, 6, 21, 59)));   // Friday before: 16:59 EST
  EXPECT_FALSE(within_hours(h, utc(2026, 3, 6, 22, 0)));   // 17:00 EST
}

TEST(WithinHours, NewYorkFallBackWeekend) {
  const auto h = weekdays_nine_to_five("America/New_York");
  EXPECT_FALSE(within_hours(h, utc(2026, 11, 1, 14, 0)));   // Sunday 09:00 EST
  EXPECT_FALSE(within_hours(h, utc(2026, 11, 2, 13, 0)));   // Monday 08:00 EST (09:00 on EDT)
  EXPECT_FALSE(within_hours(h, utc(2026, 11, 2, 13, 59)));  // 08:59 EST
  EXPECT_TRUE(within_hours(h, utc(2026, 11, 2, 14, 0)));    // 09:00 EST
  EXPECT_TRUE(within_hours(h, utc(2026, 11, 2, 21, 59)));   // 16:59 EST
  EXPECT_FALSE(within_hours(h, utc(2026, 11, 2, 22, 0)));   // 17:00 EST
}

TEST(WithinHours, SundayWindowAcrossTheSpringForwardGap) {
  // Sunday 01:00-04:00 on 2026-03-08: 01:00 EST = 06:00Z, the clock jumps from
  // 01:59:59 EST to 03:00 EDT at 07:00Z, 04:00 EDT = 08:00Z.
  const auto h = parse_ok("America/New_York", {{kSun, "01:00", "04:00"}});
  EXPECT_FALSE(within_hours(h, utc(2026, 3, 8, 5, 59)));
  EXPECT_TRUE(within_hours(h, utc(2026, 3, 8, 6, 0)));
  EXPECT_TRUE(within_hours(h, utc(2026, 3, 8, 7, 0)));
  EXPECT_TRUE(within_hours(h, utc(2026, 3, 8, 7, 59)));  // 03:59 EDT
  EXPECT_FALSE(within_hours(h, utc(2026, 3, 8, 8, 0)));  // 04:00 EDT
}

TEST(WithinHours, SundayWindowRepeatedByTheFallBack) {
  // Sunday 01:15-01:45 on 2026-11-01 happens twice: 05:15Z-05:45Z (EDT) and
  // 06:15Z-06:45Z (EST).
  const auto h = parse_ok("America/New_York", {{kSun, "01:15", "01:45"}});
  EXPECT_FALSE(within_hours(h, utc(2026, 11, 1, 5, 14)));
  EXPECT_TRUE(within_hours(h, utc(2026, 11, 1, 5, 15)));
  EXPECT_FALSE(within_hours(h, utc(2026, 11, 1, 5, 45)));
  EXPECT_FALSE(within_hours(h, utc(2026, 11, 1, 6, 0)));  // 01:00 EST
  EXPECT_TRUE(within_hours(h, utc(2026, 11, 1, 6, 15)));
  EXPECT_TRUE(within_hours(h, utc(2026, 11, 1, 6, 44)));
  EXPECT_FALSE(within_hours(h, utc(2026, 11, 1, 6, 45)));
}

TEST(WithinHours, KolkataHalfHourOffset) {
  const auto h = weekdays_nine_to_five("Asia/Kolkata");  // 09:00 IST = 03:30Z
  EXPECT_FALSE(within_hours(h, utc(2026, 1, 5, 3, 29)));
  EXPECT_TRUE(within_hours(h, utc(2026, 1, 5, 3, 30)));
  EXPECT_TRUE(within_hours(h, utc(2026, 1, 5, 11, 29)));  // 16:59 IST
  EXPECT_FALSE(within_hours(h, utc(2026, 1, 5, 11, 30)));
}

TEST(WithinHours, AdelaideMondayStartsOnSundayInUtc) {
  const auto h = weekdays_nine_to_five("Australia/Adelaide");
  // January, ACDT UTC+10:30: Monday 2026-01-05 09:00 = Sunday 2026-01-04 22:30Z.
  EXPECT_FALSE(within_hours(h, utc(2026, 1, 4, 22, 29)));
  EXPECT_TRUE(within_hours(h, utc(2026, 1, 4, 22, 30)));
  EXPECT_FALSE(within_hours(h, utc(2026, 1, 5, 6, 30)));  // 17:00 ACDT
  // June, ACST UTC+9:30: Monday 2026-06-01 09:00 = Sunday 2026-05-31 23:30Z.
  EXPECT_FALSE(within_hours(h, utc(2026, 5, 31, 23, 29)));
  EXPECT_TRUE(within_hours(h, utc(2026, 5, 31, 23, 30)));
  EXPECT_EQ(next_iso(h, utc(2026, 5, 30, 0, 0)), "2026-05-31T23:30Z");
}

TEST(WithinHours, WindowEndingAtMidnight) {
  // Saturday 20:00-24:00 in New York (EST): Saturday 2026-01-10 20:00 = 2026-01-11 01:00Z.
  const auto h = parse_ok("America/New_York", {{kSat, "20:00", "24:00"}});
  ASSERT_EQ(h.windows.size(), 1u);
  EXPECT_EQ(h.windows[0].end_minute, 1440);
  EXPECT_FALSE(within_hours(h, utc(2026, 1, 11, 0, 59)));
  EXPECT_TRUE(within_hours(h, utc(2026, 1, 11, 1, 0)));
  EXPECT_TRUE(within_hours(h, utc(2026, 1, 11, 4, 59)));  // Saturday 23:59
  EXPECT_TRUE(within_hours(h, utc(2026, 1, 11, 5, 0) - std::chrono::milliseconds{1}));
  EXPECT_FALSE(within_hours(h, utc(2026, 1, 11, 5, 0)));  // Sunday 00:00
}

TEST(WithinHours, NoWindowsNeverWithin) {
  const auto h = parse_ok("America/New_York", {});
  EXPECT_FALSE(within_hours(h, utc(2026, 1, 5, 15, 0)));
  EXPECT_EQ(next_opening(h, utc(2026, 1, 5, 15, 0)), std::nullopt);
}

TEST(WithinHours, UnknownZoneInUnparsedHoursIsNeverWithin) {
  WeeklyHours h{"Mars/Base", {{kMon, 0, 1440}}, 0};
  EXPECT_FALSE(within_hours(h, utc(2026, 1, 5, 15, 0)));
  EXPECT_EQ(next_opening(h, utc(2026, 1, 5, 15, 0)), std::nullopt);
}

// ---- next_opening ----

TEST(NextOpening, FridayEveningToMondayAcrossSpringForward) {
  const auto h = weekdays_nine_to_five("America/New_York");
  // Friday 2026-03-06 18:00 EST -> Monday 2026-03-09 09:00 EDT = 13:00Z (not 14:00Z).
  EXPECT_EQ(next_iso(h, utc(2026, 3, 6, 23, 0)), "2026-03-09T13:00Z");
}

TEST(NextOpening, FridayEveningToMondayAcrossFallBack) {
  const auto h = weekdays_nine_to_five("America/New_York");
  // Friday 2026-10-30 18:00 EDT -> Monday 2026-11-02 09:00 EST = 14:00Z (not 13:00Z).
  EXPECT_EQ(next_iso(h, utc(2026, 10, 30, 22, 0)), "2026-11-02T14:00Z");
}

TEST(NextOpening, SameDayAndAtTheOpeningItself) {
  const auto h = weekdays_nine_to_five("America/New_York");
  EXPECT_EQ(next_iso(h, utc(2026, 1, 5, 12, 0)), "2026-01-05T14:00Z");  // Monday 07:00 EST
  EXPECT_EQ(next_iso(h, utc(2026, 1, 5, 14, 0)), "2026-01-05T14:00Z");  // exactly 09:00
  // Inside hours: the next opening is the following day's.
  EXPECT_EQ(next_iso(h, utc(2026, 1, 5, 15, 0)), "2026-01-06T14:00Z");
}

TEST(NextOpening, TouchingWindowsAreOneStretch) {
  // Saturday 20:00-24:00 and Sunday 00:00-02:00 (EST): from Saturday 21:00 the
  // next opening is the next Saturday 20:00, not Sunday 00:00.
  const auto h = parse_ok("America/New_York", {{kSun, "00:00", "02:00"}, {kSat, "20:00", "24:00"}});
  EXPECT_TRUE(within_hours(h, utc(2026, 1, 11, 5, 0)));  // Sunday 00:00 EST
  EXPECT_EQ(next_iso(h, utc(2026, 1, 11, 2, 0)), "2026-01-18T01:00Z");
}

TEST(NextOpening, WeeklyOnlyWindowWrapsAroundTheWeek) {
  const auto h = parse_ok("America/New_York", {{kMon, "09:00", "10:00"}});
  // Monday 2026-01-05 10:30 EST -> Monday 2026-01-12 09:00 EST.
  EXPECT_EQ(next_iso(h, utc(2026, 1, 5, 15, 30)), "2026-01-12T14:00Z");
}

TEST(NextOpening, StartInsideTheGapOpensAtTheTransition) {
  // Sunday 02:30-03:30 on 2026-03-08: 02:30 does not exist; the clock reads 03:00
  // EDT at 07:00Z, which is inside the window.
  const auto h = parse_ok("America/New_York", {{kSun, "02:30", "03:30"}});
  EXPECT_EQ(next_iso(h, utc(2026, 3, 7, 12, 0)), "2026-03-08T07:00Z");
  EXPECT_TRUE(within_hours(h, utc(2026, 3, 8, 7, 0)));
}

TEST(NextOpening, WindowWhollyInsideTheGapDoesNotOpenThatDay) {
  // Sunday 02:00-02:30 never happens on 2026-03-08; the next Sunday it is EDT.
  const auto h = parse_ok("America/New_York", {{kSun, "02:00", "02:30"}});
  EXPECT_EQ(next_iso(h, utc(2026, 3, 7, 12, 0)), "2026-03-15T06:00Z");
}

TEST(NextOpening, FallBackOpensTwice) {
  const auto h = parse_ok("America/New_York", {{kSun, "01:15", "01:45"}});
  EXPECT_EQ(next_iso(h, utc(2026, 11, 1, 0, 0)), "2026-11-01T05:15Z");   // 01:15 EDT
  EXPECT_EQ(next_iso(h, utc(2026, 11, 1, 5, 20)), "2026-11-01T06:15Z");  // 01:15 EST
  EXPECT_EQ(next_iso(h, utc(2026, 11, 1, 6, 20)), "2026-11-08T06:15Z");  // next Sunday, EST
}

TEST(NextOpening, FallBackCarriesTheClockBackIntoAWindow) {
  // Sunday 00:00-01:30: at 01:45 EDT (05:45Z) the hours are closed; at 06:00Z the
  // clock reads 01:00 EST, inside again, though no window starts then.
  const auto h = parse_ok("America/New_York", {{kSun, "00:00", "01:30"}});
  EXPECT_FALSE(within_hours(h, utc(2026, 11, 1, 5, 45)));
  EXPECT_EQ(next_iso(h, utc(2026, 11, 1, 5, 45)), "2026-11-01T06:00Z");
}

TEST(NextOpening, AlwaysOpenNeverOpens) {
  Windows all_week;
  for (int d = 0; d < 7; ++d) all_week.emplace_back(d, "00:00", "24:00");
  const auto h = parse_ok("America/New_York", all_week);
  EXPECT_TRUE(within_hours(h, utc(2026, 3, 8, 7, 0)));
  EXPECT_EQ(next_opening(h, utc(2026, 3, 6, 0, 0)), std::nullopt);
}

// ---- after_hours_notice ----

TEST(AfterHoursNotice, FullTextSpeaksAsThePractice) {
  const auto h = weekdays_nine_to_five("America/New_York", 24);
  const std::string notice =
      after_hours_notice(h, utc(2026, 3, 6, 23, 0), "Call or text 988, or go to the nearest emergency room.");
  EXPECT_EQ(notice,
            "Automatic notice from the practice: your therapist's messaging hours are closed right "
            "now. Messages are read during messaging hours; they reopen Monday 09:00 "
            "(America/New_York). Expected reply within 24 hours. If this is urgent: Call or text "
            "988, or go to the nearest emergency room.");
  EXPECT_NE(notice.find("Automatic"), std::string::npos);
  EXPECT_NE(notice.find("Monday 09:00 (America/New_York)"), std::string::npos);
  EXPECT_NE(notice.find("24 hours"), std::string::npos);
  EXPECT_NE(notice.find("988"), std::string::npos);
  // Never in the therapist's voice: no first person.
  for (const char* word : {" I ", "I'm", "I'll", " me ", " my ", " we "}) {
    EXPECT_EQ(notice.find(word), std::string::npos) << word;
  }
}

TEST(AfterHoursNotice, ReopeningIsShownOnTheLocalClock) {
  // The Monday opening after the fall-back is 14:00Z; the notice shows 09:00 local.
  const auto h = weekdays_nine_to_five("America/New_York");
  const std::string notice = after_hours_notice(h, utc(2026, 10, 30, 22, 0), "");
  EXPECT_NE(notice.find("they reopen Monday 09:00 (America/New_York)."), std::string::npos) << notice;
  // Kolkata: Friday 18:00 IST -> Monday 09:00 IST.
  const auto k = weekdays_nine_to_five("Asia/Kolkata");
  const std::string k_notice = after_hours_notice(k, utc(2026, 1, 9, 12, 30), "");
  EXPECT_NE(k_notice.find("they reopen Monday 09:00 (Asia/Kolkata)."), std::string::npos) << k_notice;
  // A gap start shows the time that exists: Sunday 03:00.
  const auto g = parse_ok("America/New_York", {{kSun, "02:30", "03:30"}});
  const std::string g_notice = after_hours_notice(g, utc(2026, 3, 7, 12, 0), "");
  EXPECT_NE(g_notice.find("they reopen Sunday 03:00 (America/New_York)."), std::string::npos) << g_notice;
}

TEST(AfterHoursNotice, LeavesOutWhatIsNotKnown) {
  const auto h = weekdays_nine_to_five("America/New_York", 0);
  const std::string notice = after_hours_notice(h, utc(2026, 1, 10, 17, 0), "  \n");
  EXPECT_EQ(notice,
            "Automatic notice from the practice: your therapist's messaging hours are closed right "
            "now. Messages are read during messaging hours; they reopen Monday 09:00 "
            "(America/New_York).");

  const auto none = parse_ok("America/New_York", {}, 1);
  EXPECT_EQ(after_hours_notice(none, utc(2026, 1, 10, 17, 0), "Call 911."),
            "Automatic notice from the practice: your therapist's messaging hours are closed right "
            "now. Messages are read during messaging hours. Expected reply within 1 hour. If this "
            "is urgent: Call 911.");
}

// ---- notice_due ----

TEST(NoticeDue, OnePerPeriod) {
  const std::chrono::minutes period{720};  // 43'200'000 ms
  const std::int64_t last = 1'770'000'000'000;
  EXPECT_TRUE(notice_due(0, last, period));  // no notice yet
  EXPECT_FALSE(notice_due(last, last, period));
  EXPECT_FALSE(notice_due(last, last + 43'199'999, period));
  EXPECT_TRUE(notice_due(last, last + 43'200'000, period));
  EXPECT_TRUE(notice_due(last, last + 43'200'001, period));
  EXPECT_FALSE(notice_due(last, last - 1, period));  // last notice in the future: clock skew
}

TEST(NoticeDue, HostileValuesDoNotOverflow) {
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  EXPECT_TRUE(notice_due(kMin, kMax, std::chrono::minutes{720}));
  EXPECT_FALSE(notice_due(kMax, kMin, std::chrono::minutes{720}));
  EXPECT_FALSE(notice_due(1, kMax, std::chrono::minutes::max()));
  EXPECT_TRUE(notice_due(1, 1, std::chrono::minutes{0}));
  EXPECT_TRUE(notice_due(1, 1, std::chrono::minutes{-5}));
}

// ---- format_hhmm ----

TEST(FormatHhmm, PadsAndClamps) {
  EXPECT_EQ(format_hhmm(0), "00:00");
  EXPECT_EQ(format_hhmm(545), "09:05");
  EXPECT_EQ(format_hhmm(1439), "23:59");
  EXPECT_EQ(format_hhmm(1440), "24:00");
  EXPECT_EQ(format_hhmm(-3), "00:00");
  EXPECT_EQ(format_hhmm(99999), "24:00");
}

// ---- parse_weekly_hours ----

void expect_field(const Result<WeeklyHours>& r, const std::string& field) {
  ASSERT_FALSE(r.ok()) << "expected an error on " << field;
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  EXPECT_EQ(r.error().field, field);
  EXPECT_EQ(r.error().message.rfind(field + ": ", 0), 0u) << r.error().message;
}

TEST(ParseWeeklyHours, NormalisesValidInput) {
  auto r = parse_weekly_hours("America/New_York",
                              {{kWed, "13:00", "17:00"}, {kMon, "13:00", "24:00"}, {kMon, "08:30", "12:00"},
                               {kMon, "12:00", "13:00"}},
                              336);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->time_zone, "America/New_York");
  EXPECT_EQ(r->expected_reply_hours, 336);
  ASSERT_EQ(r->windows.size(), 4u);
  EXPECT_EQ(r->windows[0].weekday, kMon);
  EXPECT_EQ(r->windows[0].start_minute, 510);
  EXPECT_EQ(r->windows[0].end_minute, 720);
  EXPECT_EQ(r->windows[1].start_minute, 720);
  EXPECT_EQ(r->windows[2].start_minute, 780);
  EXPECT_EQ(r->windows[2].end_minute, 1440);
  EXPECT_EQ(r->windows[3].weekday, kWed);
}

TEST(ParseWeeklyHours, TimeZone) {
  const Windows w = {{kMon, "09:00", "17:00"}};
  for (std::string_view zone : {"", "Mars/Base", "../../etc/passwd", "/etc/localtime",
                                "America/New_York\n", "America/New York", "EST5EDT\"x"}) {
    SCOPED_TRACE(zone);
    expect_field(parse_weekly_hours(zone, w, 0), "time_zone");
  }
  expect_field(parse_weekly_hours(std::string(200, 'A'), w, 0), "time_zone");
  const auto r = parse_weekly_hours("Mars/Base", w, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "time_zone: unknown time zone \"Mars/Base\"");
}

TEST(ParseWeeklyHours, TooManyWindows) {
  Windows w;
  for (int i = 0; i < 51; ++i) w.emplace_back(i % 7, format_hhmm(i), format_hhmm(i + 1));
  expect_field(parse_weekly_hours("UTC", w, 0), "windows");
  w.pop_back();
  EXPECT_TRUE(parse_weekly_hours("UTC", w, 0).ok());
}

TEST(ParseWeeklyHours, Weekday) {
  for (int day : {-1, 7, 1000}) {
    expect_field(parse_weekly_hours("UTC", {{kMon, "09:00", "10:00"}, {day, "09:00", "10:00"}}, 0),
                 "windows[1].weekday");
  }
}

TEST(ParseWeeklyHours, StartParsesStrictly) {
  for (const char* start : {"", "9:00", "09:0", "09:60", "24:00", "25:00", "ab:cd", "09-00", " 09:00",
                            "09:00 ", "+9:00", "09:00:00", "-1:00", "0x:10"}) {
    SCOPED_TRACE(start);
    expect_field(parse_weekly_hours("UTC", {{kMon, start, "23:00"}}, 0), "windows[0].start");
  }
}

TEST(ParseWeeklyHours, EndParsesStrictlyAndFollowsStart) {
  for (const char* end : {"", "24:01", "25:00", "1700", "17:0", "17:00\n", "24:60"}) {
    SCOPED_TRACE(end);
    expect_field(parse_weekly_hours("UTC", {{kMon, "09:00", end}}, 0), "windows[0].end");
  }
  expect_field(parse_weekly_hours("UTC", {{kMon, "09:00", "09:00"}}, 0), "windows[0].end");
  expect_field(parse_weekly_hours("UTC", {{kMon, "09:00", "08:59"}}, 0), "windows[0].end");
  expect_field(parse_weekly_hours("UTC", {{kMon, "09:00", "00:00"}}, 0), "windows[0].end");
}

TEST(ParseWeeklyHours, OverlapNamesTheSecondWindow) {
  const auto r = parse_weekly_hours(
      "UTC", {{kMon, "09:00", "12:00"}, {kTue, "09:00", "12:00"}, {kMon, "11:59", "13:00"}}, 0);
  expect_field(r, "windows[2]");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "windows[2]: overlaps windows[0] on Monday");
  // A window inside another, and the same window twice.
  expect_field(parse_weekly_hours("UTC", {{kFri, "08:00", "18:00"}, {kFri, "10:00", "11:00"}}, 0),
               "windows[1]");
  expect_field(parse_weekly_hours("UTC", {{kSat, "10:00", "11:00"}, {kSat, "10:00", "11:00"}}, 0),
               "windows[1]");
  // Touching is not overlapping.
  EXPECT_TRUE(parse_weekly_hours("UTC", {{kMon, "09:00", "12:00"}, {kMon, "12:00", "13:00"}}, 0).ok());
}

TEST(ParseWeeklyHours, ExpectedReplyHours) {
  const Windows w = {{kMon, "09:00", "17:00"}};
  expect_field(parse_weekly_hours("UTC", w, -1), "expected_reply_hours");
  expect_field(parse_weekly_hours("UTC", w, 337), "expected_reply_hours");
  expect_field(parse_weekly_hours("UTC", w, std::numeric_limits<int>::min()), "expected_reply_hours");
  EXPECT_TRUE(parse_weekly_hours("UTC", w, 0).ok());
  EXPECT_TRUE(parse_weekly_hours("UTC", w, 336).ok());
}

}  // namespace
}  // namespace alliance::messaging
