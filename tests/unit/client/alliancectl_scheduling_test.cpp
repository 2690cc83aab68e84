// alliancectl's scheduling commands: their command lines, and exactly what a front desk
// reads for a change and for a day's calendar (someone else's text shown, not obeyed).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "cli.hpp"
#include "scheduling_commands.hpp"

namespace alliance::ctl {
namespace {

using Args = std::vector<std::string>;

Result<Invocation> parse(Args args) {
  return parse_args(args, [](const std::string&) -> std::optional<std::string> { return std::string("/home/ada"); });
}

TEST(SchedulingCommands, EveryCommandIsKnownAndItsRequiredOptionsAreNamed) {
  auto book = parse(Args{"book", "--therapist", "t1", "--type", "ty", "--start", "2026-12-07T14:00:00Z"});
  ASSERT_TRUE(book) << book.error().message;
  EXPECT_NE(scheduling_command(book->command), nullptr);
  auto missing = parse(Args{"book", "--therapist", "t1", "--type", "ty"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().field, "start");
  auto weekly = parse(Args{"blocks", "add", "--therapist", "t1", "--start", "a", "--end", "b", "--weekly"});
  ASSERT_TRUE(weekly) << weekly.error().message;
  EXPECT_TRUE(weekly->flag("weekly"));
  auto days = parse(Args{"appointments", "--date", "2026-12-07", "--days", "seven"});
  ASSERT_FALSE(days);
  EXPECT_EQ(days.error().field, "days");
  for (const char* name : {"types", "availability", "blocks list", "blocks add", "blocks delete", "slots", "book",
                           "reschedule", "cancel", "confirm", "no-show", "appointments", "series", "waitlist",
                           "clients search", "calendar-feed rotate"}) {
    EXPECT_NE(scheduling_command(name), nullptr) << name;
    EXPECT_NE(usage().find(std::string("  ") + name + " "), std::string::npos) << name;
  }
  EXPECT_EQ(scheduling_command("user list"), nullptr);
}

TEST(SchedulingCommands, AChangeIsOneLineAndADayIsOneTableInTimeOrder) {
  auto a = boost::json::parse(R"({"id":"a1","status":"booked","local_start":"2026-12-07T09:00",
    "time_zone":"America/New_York","type_name":"Intake\u001b[2J","therapist_id":"t1","client_id":"c1","version":"2"})");
  EXPECT_EQ(appointment_line("booked", a),
            "booked booked 2026-12-07 09:00 America/New_York Intake\\x1b[2J, therapist t1, client c1 (id a1, version 2)\n");

  auto day = boost::json::parse(R"({"time_zone":"America/New_York","from":"2026-12-07T05:00:00Z","to":"2026-12-08T05:00:00Z",
    "therapists":[{"therapist_id":"t1",
      "appointments":[{"appointment":{"id":"a1","status":"booked","type_name":"Intake","client_id":"c1"},
                       "span":{"start_time":"2026-12-07T16:00:00Z","local_start":"2026-12-07T11:00","local_end":"2026-12-07T11:50"},
                       "staff_note":"blue room"}],
      "blocks":[{"block_id":"b1","repeat":"weekly","reason":"Supervision",
                 "span":{"start_time":"2026-12-07T14:00:00Z","local_start":"2026-12-07T09:00","local_end":"2026-12-07T10:00"}}]}]})");
  const std::string table = calendar_table(day);
  EXPECT_EQ(table.rfind("calendar 2026-12-07 05:00Z to 2026-12-08 05:00Z, times in America/New_York\n", 0), 0u) << table;
  const auto block = table.find("2026-12-07 09:00"), appointment = table.find("2026-12-07 11:00");
  ASSERT_NE(block, std::string::npos) << table;
  ASSERT_NE(appointment, std::string::npos) << table;
  EXPECT_LT(block, appointment) << table;
  EXPECT_NE(table.find("weekly block"), std::string::npos) << table;
  EXPECT_NE(table.find("blue room"), std::string::npos) << table;
  EXPECT_NE(table.find("11:50"), std::string::npos) << table;
  // Missing fields read as empty: nothing to show is said, never a crash.
  const std::string empty = calendar_table(boost::json::parse(R"({"therapists":[{"appointments":[{"span":{}}]}]})"));
  EXPECT_NE(empty.find("calendar"), std::string::npos) << empty;
  EXPECT_NE(calendar_table(boost::json::parse(R"({"time_zone":"UTC"})")).find("no appointments or blocks"), std::string::npos);
}

}  // namespace
}  // namespace alliance::ctl
