// A front desk runs the day from the command line: alliancectl (the real binary) lists
// types, hours and open slots, books, reschedules, confirms and cancels, blocks time,
// prints the day's table, books a series, looks at the waitlist and finds a client,
// and a therapist rotates their calendar feed; every command also prints the server's
// JSON with --json.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>

#include "dev_certs.hpp"
#include "process.hpp"
#include "scheduling_practice.hpp"

namespace alliance::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

class AllianceCtlScheduling : public SchedulingPractice {
 protected:
  void SetUp() override {
    SchedulingPractice::SetUp();
    if (HasFatalFailure()) return;
    pw_ = sys_->dir() / ("pw-" + slug_);
    std::ofstream(pw_) << System::kPassword;
    for (const auto& [who, email] : {std::pair<std::string, std::string>{"desk", "desk"}, {"kim", "kim"}}) {
      auto login = ctl(who, {"login", "--practice", slug_, "--email", email + "@" + slug_ + ".example",
                             "--password-file", pw_.string()});
      ASSERT_EQ(login.exit_code, 0) << login.out;
    }
  }

  // alliancectl as `who` (their own session file), stdout and stderr together.
  CommandOutput ctl(const std::string& who, std::vector<std::string> args) {
    std::vector<std::string> all = {"-c", "exec \"$0\" \"$@\" 2>&1", binary("tools/alliancectl/alliancectl").string(),
                                    "--gateway", "https://127.0.0.1:" + std::to_string(sys_->gateway_port()),
                                    "--ca", dev_certs().ca().string(), "--session",
                                    (sys_->dir() / (who + "-" + slug_ + ".json")).string()};
    all.insert(all.end(), args.begin(), args.end());
    return run_command("/bin/sh", all, 20s);
  }

  CommandOutput desk(std::vector<std::string> args) { return ctl("desk", std::move(args)); }

  // The appointment id a change line names: "... (id <ID>, version N)".
  static std::string id_in(const std::string& out) {
    auto at = out.find("(id ");
    return at == std::string::npos ? std::string() : out.substr(at + 4, out.find(',', at) - at - 4);
  }
  static bool has(const std::string& out, const std::string& text) { return out.find(text) != std::string::npos; }

  std::filesystem::path pw_;
};

TEST_F(AllianceCtlScheduling, AFrontDeskBooksMovesBlocksAndCancelsFromTheCommandLine) {
  const std::string day = day_from_now(2), next = day_from_now(3), date = day.substr(0, 10);
  auto open = slots(therapist_id_, day, next);
  ASSERT_GE(open.size(), 6u);

  auto types = desk({"types"});
  EXPECT_EQ(types.exit_code, 0) << types.out;
  EXPECT_TRUE(has(types.out, "Individual therapy")) << types.out;
  EXPECT_TRUE(has(types.out, type_id_)) << types.out;
  auto hours = desk({"availability", "--therapist", therapist_id_});
  EXPECT_TRUE(has(hours.out, "America/New_York") && has(hours.out, "Mon") && has(hours.out, "08:00")) << hours.out;
  auto free = desk({"slots", "--therapist", therapist_id_, "--type", type_id_, "--from", day, "--to", next});
  EXPECT_EQ(free.exit_code, 0) << free.out;
  EXPECT_TRUE(has(free.out, open[2])) << free.out;
  EXPECT_TRUE(has(free.out, date + " 10:00")) << free.out;

  const std::string key = "ctl-" + slug_;
  auto booked = desk({"book", "--therapist", therapist_id_, "--client", client_id_, "--type", type_id_, "--start",
                      open[2], "--key", key});
  ASSERT_EQ(booked.exit_code, 0) << booked.out;
  EXPECT_TRUE(has(booked.out, "booked booked " + date)) << booked.out;
  const std::string id = id_in(booked.out);
  ASSERT_EQ(id.size(), 32u) << booked.out;
  auto again = desk({"book", "--therapist", therapist_id_, "--client", client_id_, "--type", type_id_, "--start",
                     open[2], "--key", key});
  EXPECT_TRUE(has(again.out, "already booked:") && id_in(again.out) == id) << again.out;

  auto blocked = desk({"blocks", "add", "--therapist", therapist_id_, "--start", open[4], "--end", open[5], "--reason",
                       "Supervision"});
  ASSERT_EQ(blocked.exit_code, 0) << blocked.out;
  EXPECT_TRUE(has(blocked.out, "added block")) << blocked.out;
  auto refused = desk({"book", "--therapist", therapist_id_, "--client", client_id_, "--type", type_id_, "--start",
                       open[4]});
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_TRUE(has(refused.out, "field: start_time")) << refused.out;
  auto blocks = desk({"blocks", "list", "--therapist", therapist_id_, "--from", day});
  EXPECT_TRUE(has(blocks.out, "Supervision")) << blocks.out;

  auto moved = desk({"reschedule", "--id", id, "--start", open[3]});
  ASSERT_EQ(moved.exit_code, 0) << moved.out;
  EXPECT_TRUE(has(moved.out, "rescheduled booked")) << moved.out;
  auto confirmed = desk({"confirm", "--id", id});
  EXPECT_TRUE(has(confirmed.out, "confirmed confirmed")) << confirmed.out;

  // The day's table: the appointment where it moved to and the block, in time order.
  // The day of the booking on the therapist's clock, as the booked line says it.
  const auto on = booked.out.find("booked booked ") + 14;
  auto table = desk({"appointments", "--date", booked.out.substr(on, 10), "--therapist", therapist_id_});
  ASSERT_EQ(table.exit_code, 0) << table.out;
  EXPECT_TRUE(has(table.out, "times in America/New_York")) << table.out;
  const auto appointment_row = table.out.find(id), block_row = table.out.find("Supervision");
  ASSERT_NE(appointment_row, std::string::npos) << table.out;
  ASSERT_NE(block_row, std::string::npos) << table.out;
  EXPECT_LT(appointment_row, block_row) << table.out;
  auto as_json = desk({"--json", "appointments", "--date", date, "--days", "7", "--therapist", therapist_id_});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.out;
  auto parsed = json::parse(as_json.out);
  EXPECT_EQ(parsed.at("therapists").at(0).at("working_hours").as_array().size(), 7u);

  auto early = desk({"no-show", "--id", id});
  EXPECT_EQ(early.exit_code, 1) << early.out;
  EXPECT_TRUE(has(early.out, "error:")) << early.out;
  auto cancelled = desk({"cancel", "--id", id, "--reason", "unwell"});
  EXPECT_TRUE(has(cancelled.out, "cancelled cancelled")) << cancelled.out;

  auto deleted = desk({"blocks", "delete", "--therapist", therapist_id_, "--id",
                       std::string(json::parse(desk({"--json", "blocks", "list", "--therapist", therapist_id_, "--from", day}).out)
                                       .at("blocks").at(0).at("id").as_string())});
  EXPECT_TRUE(has(deleted.out, "deleted block")) << deleted.out;
}

TEST_F(AllianceCtlScheduling, SeriesWaitlistClientSearchAndTheCalendarFeed) {
  auto open = slots(therapist_id_, day_from_now(2), day_from_now(3));
  ASSERT_GE(open.size(), 2u);
  auto series = desk({"series", "--therapist", therapist_id_, "--client", client_id_, "--type", type_id_, "--start",
                      open[1], "--count", "3"});
  ASSERT_EQ(series.exit_code, 0) << series.out;
  EXPECT_TRUE(has(series.out, "3 booked, 0 skipped")) << series.out;

  auto waiting = desk({"waitlist"});
  EXPECT_EQ(waiting.exit_code, 0) << waiting.out;
  EXPECT_TRUE(has(waiting.out, "no one waiting")) << waiting.out;

  auto found = desk({"clients", "search", "--query", "jo"});
  ASSERT_EQ(found.exit_code, 0) << found.out;
  EXPECT_TRUE(has(found.out, client_id_) && has(found.out, "jo@" + slug_)) << found.out;
  EXPECT_FALSE(has(found.out, client2_id_)) << found.out;
  auto empty_query = desk({"clients", "search", "--query", ""});
  EXPECT_NE(empty_query.exit_code, 0) << empty_query.out;

  auto not_desk = desk({"calendar-feed", "rotate", "--therapist", therapist_id_});
  EXPECT_EQ(not_desk.exit_code, 1) << not_desk.out;
  auto rotated = ctl("kim", {"calendar-feed", "rotate"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.out;
  EXPECT_TRUE(has(rotated.out, "/v1/calendars/")) << rotated.out;
}

// With --json every command prints the server's answer instead of its table or line:
// one JSON object a script can read, with the field the answer is about.
TEST_F(AllianceCtlScheduling, EveryCommandPrintsTheServersAnswerWithJson) {
  const std::string day = day_from_now(2), next = day_from_now(3);
  auto open = slots(therapist_id_, day, next);
  ASSERT_GE(open.size(), 6u);
  auto json_of = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    auto r = desk(args);
    EXPECT_EQ(r.exit_code, 0) << args[1] << ": " << r.out;
    boost::system::error_code ec;
    auto v = json::parse(r.out, ec);
    EXPECT_FALSE(ec) << args[1] << " printed no JSON: " << r.out;
    return ec || !v.is_object() ? json::object{} : v.as_object();
  };
  EXPECT_TRUE(json_of({"types"}).contains("types"));
  EXPECT_TRUE(json_of({"availability", "--therapist", therapist_id_}).contains("availability"));
  EXPECT_TRUE(json_of({"slots", "--therapist", therapist_id_, "--type", type_id_, "--from", day, "--to", next})
                  .contains("slots"));
  auto booked = json_of({"book", "--therapist", therapist_id_, "--client", client_id_, "--type", type_id_, "--start",
                         open[0]});
  ASSERT_TRUE(booked.contains("appointment")) << json::serialize(booked);
  const std::string id(booked.at("appointment").at("id").as_string());
  EXPECT_TRUE(json_of({"reschedule", "--id", id, "--start", open[1]}).contains("appointment"));
  EXPECT_TRUE(json_of({"confirm", "--id", id}).contains("appointment"));
  EXPECT_TRUE(json_of({"cancel", "--id", id, "--reason", "unwell"}).contains("appointment"));
  EXPECT_TRUE(json_of({"blocks", "add", "--therapist", therapist_id_, "--start", open[4], "--end", open[5], "--reason",
                       "Supervision"})
                  .contains("block"));
  EXPECT_TRUE(json_of({"blocks", "list", "--therapist", therapist_id_, "--from", day}).contains("blocks"));
  EXPECT_TRUE(json_of({"appointments", "--date", day.substr(0, 10), "--therapist", therapist_id_})
                  .contains("therapists"));
  EXPECT_TRUE(json_of({"series", "--therapist", therapist_id_, "--client", client_id_, "--type", type_id_, "--start",
                       open[2], "--count", "2"})
                  .contains("booked"));
  EXPECT_TRUE(json_of({"waitlist"}).contains("entries"));
  EXPECT_TRUE(json_of({"clients", "search", "--query", "jo"}).contains("clients"));
  EXPECT_TRUE(json_of({"locations", "list"}).contains("locations"));
}

// An admin sets up where the practice works from the command line: a location with
// rooms, a room retired and one added, the practice's zone and default video link;
// the front desk books into a room and sees where in the day's table.
TEST_F(AllianceCtlScheduling, LocationsRoomsAndPracticeSettingsFromTheCommandLine) {
  ASSERT_EQ(ctl("admin", {"login", "--practice", slug_, "--email", "admin@" + slug_ + ".example", "--password-file",
                          pw_.string()})
                .exit_code,
            0);
  auto added = ctl("admin", {"locations", "add", "--name", "Elm Street office", "--address", "12 Elm St", "--room",
                             "Room 1", "--room", "Room 2"});
  ASSERT_EQ(added.exit_code, 0) << added.out;
  EXPECT_TRUE(has(added.out, "rooms: Room 1, Room 2")) << added.out;
  const auto at = added.out.find("location ") + 9;
  const std::string location = added.out.substr(at, added.out.find(':', at) - at);
  ASSERT_EQ(location.size(), 32u) << added.out;
  auto edited = ctl("admin", {"locations", "edit", "--id", location, "--name", "Elm Street clinic", "--retire-room",
                              "Room 1", "--add-room", "Room 3"});
  ASSERT_EQ(edited.exit_code, 0) << edited.out;
  EXPECT_TRUE(has(edited.out, "changed location " + location + ": Elm Street clinic")) << edited.out;
  EXPECT_TRUE(has(edited.out, "rooms: Room 2, Room 3") && has(edited.out, "retired rooms: Room 1")) << edited.out;
  auto listed = desk({"locations", "list"});
  EXPECT_TRUE(has(listed.out, "Elm Street clinic") && has(listed.out, "Room 2, Room 3")) << listed.out;
  auto not_admin = desk({"locations", "edit", "--id", location, "--name", "Mine"});
  EXPECT_NE(not_admin.exit_code, 0) << not_admin.out;

  auto open = slots(therapist_id_, day_from_now(2), day_from_now(3));
  ASSERT_GE(open.size(), 2u);
  auto booked = desk({"book", "--therapist", therapist_id_, "--client", client_id_, "--type", type_id_, "--start",
                      open[0], "--modality", "in_person", "--location", location, "--room", "Room 3"});
  ASSERT_EQ(booked.exit_code, 0) << booked.out;
  EXPECT_TRUE(has(booked.out, "at Elm Street clinic, Room 3")) << booked.out;
  auto retired = desk({"book", "--therapist", therapist_id_, "--client", client_id_, "--type", type_id_, "--start",
                       open[1], "--modality", "in_person", "--location", location, "--room", "Room 1"});
  EXPECT_NE(retired.exit_code, 0);
  EXPECT_TRUE(has(retired.out, "room: the room is retired")) << retired.out;
  // A series takes the same flags: Lee's two weeks in Room 3 lose the first one to the
  // booking above, or are refused whole when asked for all or nothing.
  const std::vector<std::string> lee_weekly = {"series", "--therapist", therapist2_id_, "--client", client2_id_,
                                               "--type", type_id_, "--start", open[0], "--count", "2", "--modality",
                                               "in_person", "--location", location, "--room", "Room 3"};
  auto all_or_nothing = lee_weekly;
  all_or_nothing.insert(all_or_nothing.end(), {"--on-conflict", "reject"});
  auto whole = desk(all_or_nothing);
  EXPECT_NE(whole.exit_code, 0);
  EXPECT_TRUE(has(whole.out, "room: the room is booked at an overlapping time")) << whole.out;
  auto weekly = desk(lee_weekly);
  ASSERT_EQ(weekly.exit_code, 0) << weekly.out;
  EXPECT_TRUE(has(weekly.out, "1 booked, 1 skipped") && has(weekly.out, "room: the room is booked")) << weekly.out;
  // The day of the booking on the therapist's clock, as the booked line says it.
  const auto on = booked.out.find("booked booked ") + 14;
  auto table = desk({"appointments", "--date", booked.out.substr(on, 10), "--therapist", therapist_id_});
  ASSERT_EQ(table.exit_code, 0) << table.out;
  EXPECT_TRUE(has(table.out, "WHERE") && has(table.out, "Elm Street clinic, Room 3")) << table.out;

  auto zone = ctl("admin", {"practice", "set-time-zone", "--zone", "Europe/Lisbon"});
  EXPECT_EQ(zone.exit_code, 0) << zone.out;
  EXPECT_TRUE(has(zone.out, "practice time zone: Europe/Lisbon")) << zone.out;
  auto bad_zone = ctl("admin", {"practice", "set-time-zone", "--zone", "Nowhere/At_All"});
  EXPECT_NE(bad_zone.exit_code, 0);
  EXPECT_TRUE(has(bad_zone.out, "time_zone")) << bad_zone.out;
  auto link = ctl("admin", {"practice", "video-link", "--set", "https://video.example/practice"});
  EXPECT_EQ(link.exit_code, 0) << link.out;
  auto shown = ctl("admin", {"practice", "video-link"});
  EXPECT_TRUE(has(shown.out, "practice video link: https://video.example/practice")) << shown.out;
  auto cleared = ctl("admin", {"practice", "video-link", "--set", "none"});
  EXPECT_TRUE(has(cleared.out, "practice video link: not set")) << cleared.out;
}

}  // namespace
}  // namespace alliance::testing
