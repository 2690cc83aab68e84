// A front desk opens one therapist's day, two therapists side by side, and a week, in
// the practice's zone or another one: appointments with their staff notes, time
// blocks, days off and working hours come in one call. A therapist sees only their own
// calendar; the client never sees a staff note, not in their appointment nor in the
// therapist's calendar feed.
#include <gtest/gtest.h>

#include <chrono>

#include "alliance/client/https_client.hpp"
#include "scheduling_practice.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::string_view kNote = "Prefers the blue room; discuss sleep diary";

class CalendarView : public SchedulingPractice {
 protected:
  // On the UTC day two days ahead (the same New York date for every slot): Jo booked
  // with Kim at the third slot with a staff note, Kim's fifth slot blocked for
  // supervision, and Lee off the whole day.
  void SetUp() override {
    SchedulingPractice::SetUp();
    if (HasFatalFailure()) return;
    date_ = day_from_now(2).substr(0, 10);
    auto open = slots(therapist_id_, day_from_now(2), day_from_now(3));
    ASSERT_GE(open.size(), 6u);
    auto booked = desk_->post_json("/v1/appointments", booking(open[2], client_id_));
    ASSERT_TRUE(booked) << booked.error().message;
    appointment_id_ = str(booked->at("appointment"), "id");
    json::value note = {{"note", kNote}};
    auto noted = desk_->call_json("PUT", "/v1/appointments/" + appointment_id_ + "/note", &note);
    ASSERT_TRUE(noted) << noted.error().message;
    auto block = desk_->post_json("/v1/therapists/" + therapist_id_ + "/time-blocks",
                                  json::value{{"start_time", open[4]}, {"end_time", open[5]}, {"reason", "Supervision"}});
    ASSERT_TRUE(block) << block.error().message;
    json::array weekly;
    for (int d = 0; d <= 6; ++d) weekly.push_back(json::value{{"weekday", d}, {"start", "08:00"}, {"end", "20:00"}});
    json::value lee = {{"time_zone", "America/New_York"},
                       {"weekly", weekly},
                       {"time_off", json::array{json::value{{"first_date", date_}, {"last_date", date_}}}}};
    auto off = admin_->call_json("PUT", "/v1/therapists/" + therapist2_id_ + "/availability", &lee);
    ASSERT_TRUE(off) << off.error().message;
  }

  Result<json::value> view(client::AllianceClient& who, const std::string& query) {
    return who.get_json("/v1/calendar?date=" + date_ + query);
  }

  std::string date_, appointment_id_;
};

TEST_F(CalendarView, TheFrontDeskSeesTwoTherapistsDaysWithAppointmentsNotesBlocksAndTimeOff) {
  auto day = view(*desk_, "&therapist_ids=" + therapist_id_ + "," + therapist2_id_);
  ASSERT_TRUE(day) << day.error().message;
  EXPECT_EQ(str(*day, "time_zone"), "America/New_York");
  const auto& therapists = day->at("therapists").as_array();
  ASSERT_EQ(therapists.size(), 2u);

  const auto& kim = therapists.at(0);
  EXPECT_EQ(str(kim, "therapist_id"), therapist_id_);
  ASSERT_EQ(kim.at("working_hours").as_array().size(), 1u);
  EXPECT_EQ(str(kim.at("working_hours").at(0), "local_start"), date_ + "T08:00");
  EXPECT_EQ(str(kim.at("working_hours").at(0), "local_end"), date_ + "T20:00");
  ASSERT_EQ(kim.at("appointments").as_array().size(), 1u);
  const auto& appointment = kim.at("appointments").at(0);
  EXPECT_EQ(str(appointment.at("appointment"), "id"), appointment_id_);
  EXPECT_EQ(str(appointment, "staff_note"), kNote);
  ASSERT_EQ(kim.at("blocks").as_array().size(), 1u);
  EXPECT_EQ(str(kim.at("blocks").at(0), "reason"), "Supervision");
  EXPECT_TRUE(kim.at("time_off").as_array().empty());

  const auto& lee = therapists.at(1);
  EXPECT_TRUE(lee.at("working_hours").as_array().empty());
  ASSERT_EQ(lee.at("time_off").as_array().size(), 1u);
  EXPECT_EQ(str(lee.at("time_off").at(0), "local_start"), date_ + "T00:00");

  // Without ids: every therapist of the practice who has hours.
  auto all = view(*desk_, "");
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(all->at("therapists").as_array().size(), 2u);
}

TEST_F(CalendarView, AnotherZoneShowsTheSameHoursOnItsOwnClockAndAWeekHasSevenDays) {
  auto berlin = view(*desk_, "&therapist_ids=" + therapist_id_ + "&time_zone=Europe%2FBerlin");
  ASSERT_TRUE(berlin) << berlin.error().message;
  EXPECT_EQ(str(*berlin, "time_zone"), "Europe/Berlin");
  // New York 08:00 is 14:00 in Berlin in winter; the evening before spills past Berlin's midnight.
  std::vector<std::string> starts;
  for (const auto& s : berlin->at("therapists").at(0).at("working_hours").as_array()) starts.push_back(str(s, "local_start"));
  EXPECT_EQ(starts, (std::vector<std::string>{date_ + "T00:00", date_ + "T14:00"}));

  auto week = view(*desk_, "&days=7&therapist_ids=" + therapist_id_);
  ASSERT_TRUE(week) << week.error().message;
  EXPECT_EQ(week->at("therapists").at(0).at("working_hours").as_array().size(), 7u);
}

// An admin gives the practice its own zone: a view that asks for none is in it (before
// the caller's or a therapist's), and only a real IANA name is taken.
TEST_F(CalendarView, ThePracticesOwnZoneIsTheViewsDefault) {
  auto set = [&](client::AllianceClient& who, const std::string& zone) {
    json::value body = {{"time_zone", zone}};
    return who.call_json("PUT", "/v1/practice/policy", &body);
  };
  auto refused = set(*admin_, "Mars/Olympus");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "time_zone");
  EXPECT_FALSE(set(*admin_, "../../etc/passwd"));
  EXPECT_EQ(set(*desk_, "Asia/Tokyo").error().code, Code::kPermissionDenied);
  auto saved = set(*admin_, "Asia/Tokyo");
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_EQ(str(saved->at("practice"), "time_zone"), "Asia/Tokyo");
  auto me = admin_->get_json("/v1/me");
  ASSERT_TRUE(me) << me.error().message;
  EXPECT_EQ(str(me->at("practice"), "time_zone"), "Asia/Tokyo");

  // Scheduling keeps what identity said of a user for a while: a desk it has not met yet.
  sys_->create_user(slug_, "desk2@" + slug_ + ".example", "front_desk");
  auto desk2 = sys_->login(slug_, "desk2@" + slug_ + ".example");
  auto tokyo = view(*desk2, "&therapist_ids=" + therapist_id_);
  ASSERT_TRUE(tokyo) << tokyo.error().message;
  EXPECT_EQ(str(*tokyo, "time_zone"), "Asia/Tokyo");
  // The practice's Tokyo day starts at 15:00 UTC the day before.
  EXPECT_EQ(str(*tokyo, "from").substr(11), "15:00:00Z");
  auto asked = view(*desk2, "&therapist_ids=" + therapist_id_ + "&time_zone=Europe%2FBerlin");
  ASSERT_TRUE(asked) << asked.error().message;
  EXPECT_EQ(str(*asked, "time_zone"), "Europe/Berlin");
  auto cleared = set(*admin_, "");
  ASSERT_TRUE(cleared) << cleared.error().message;
  EXPECT_EQ(str(cleared->at("practice"), "time_zone"), "");
}

TEST_F(CalendarView, ATherapistSeesOnlyTheirOwnCalendarAndClientsNone) {
  auto kim = sys_->login(slug_, "kim@" + slug_ + ".example");
  auto own = view(*kim, "");
  ASSERT_TRUE(own) << own.error().message;
  ASSERT_EQ(own->at("therapists").as_array().size(), 1u);
  EXPECT_EQ(str(own->at("therapists").at(0), "therapist_id"), therapist_id_);
  auto other = view(*kim, "&therapist_ids=" + therapist2_id_);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Code::kNotFound);
  EXPECT_EQ(other.error().field, "therapist_ids");
  auto by_client = view(*client_, "&therapist_ids=" + therapist_id_);
  ASSERT_FALSE(by_client);
  EXPECT_EQ(by_client.error().code, Code::kPermissionDenied);

  for (const auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"&days=3", "days"}, {"&time_zone=Mars%2FOlympus", "time_zone"}, {"&therapist_ids=a,,b", "therapist_ids"}}) {
    auto r = view(*desk_, query);
    ASSERT_FALSE(r) << query;
    EXPECT_EQ(r.error().field, field) << query << ": " << r.error().message;
  }
  auto bad_date = desk_->get_json("/v1/calendar?date=tomorrow");
  ASSERT_FALSE(bad_date);
  EXPECT_EQ(bad_date.error().field, "date");
}

TEST_F(CalendarView, AStaffNoteNeverReachesTheClientNorTheCalendarFeed) {
  auto kim = sys_->login(slug_, "kim@" + slug_ + ".example");
  auto read = kim->get_json("/v1/appointments/" + appointment_id_ + "/note");
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(str(read->at("note"), "note"), kNote);

  auto lee = sys_->login(slug_, "lee@" + slug_ + ".example");
  auto not_lees = lee->get_json("/v1/appointments/" + appointment_id_ + "/note");
  ASSERT_FALSE(not_lees);
  EXPECT_EQ(not_lees.error().code, Code::kNotFound);

  auto denied = client_->get_json("/v1/appointments/" + appointment_id_ + "/note");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, Code::kPermissionDenied);
  auto own = client_->get_json("/v1/appointments/" + appointment_id_);
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_EQ(json::serialize(*own).find("blue room"), std::string::npos);
  auto listed = client_->get_json("/v1/appointments");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(json::serialize(*listed).find("blue room"), std::string::npos);

  const std::string feed = fetch_feed(*kim);
  EXPECT_NE(feed.find("BEGIN:VEVENT"), std::string::npos);
  EXPECT_EQ(feed.find("blue room"), std::string::npos);

  json::value too_long = {{"note", std::string(2001, 'x')}};
  auto refused = desk_->call_json("PUT", "/v1/appointments/" + appointment_id_ + "/note", &too_long);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "note");
  json::value cleared = {{"note", ""}};
  ASSERT_TRUE(desk_->call_json("PUT", "/v1/appointments/" + appointment_id_ + "/note", &cleared));
  auto gone = kim->get_json("/v1/appointments/" + appointment_id_ + "/note");
  ASSERT_TRUE(gone) << gone.error().message;
  EXPECT_EQ(str(gone->at("note"), "note"), "");
}

}  // namespace
}  // namespace alliance::testing
