// A therapist goes part time from a date on: the front desk sets hours that change
// from that date, and the open slots, the calendar view and booking follow them,
// while the days before keep the old hours.
#include <gtest/gtest.h>

#include <algorithm>

#include "scheduling_practice.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;

class AvailabilityChanges : public SchedulingPractice {};

TEST_F(AvailabilityChanges, HoursChangeFromTheirDateOn) {
  const std::string change_date = day_from_now(9).substr(0, 10);
  json::array weekly, mornings;
  for (int d = 0; d <= 6; ++d) {
    weekly.push_back(json::value{{"weekday", d}, {"start", "08:00"}, {"end", "20:00"}});
    mornings.push_back(json::value{{"weekday", d}, {"start", "08:00"}, {"end", "12:00"}});
  }
  json::value body = {{"time_zone", "America/New_York"},
                      {"weekly", weekly},
                      {"changes", json::array{json::value{{"from_date", change_date}, {"weekly", mornings}}}}};
  auto set = admin_->call_json("PUT", "/v1/therapists/" + therapist_id_ + "/availability", &body);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(str(set->at("availability").at("changes").at(0), "from_date"), change_date);

  auto before = slots(therapist_id_, day_from_now(8), day_from_now(9));
  auto after = slots(therapist_id_, day_from_now(9), day_from_now(10));
  // A UTC day starts at 19:00 New York the evening before: that day's last slot (old
  // hours), then the local day's own, 08:00 .. 18:00 before the change, 08:00 .. 11:00 on it.
  EXPECT_EQ(before.size(), 12u);
  ASSERT_EQ(after.size(), 5u);
  EXPECT_EQ(after.front(), change_date + "T00:00:00Z");
  EXPECT_EQ(after.back(), change_date + "T16:00:00Z");
  auto afternoon = change_date + "T20:00:00Z";  // 15:00 New York
  EXPECT_NE(std::find(before.begin(), before.end(), day_from_now(8).substr(0, 10) + "T20:00:00Z"), before.end());
  auto refused = post(*desk_, "/v1/appointments", booking(afternoon, client_id_));
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("outside the therapist's hours"), std::string::npos) << refused.body;
  EXPECT_EQ(post(*desk_, "/v1/appointments", booking(after[1], client_id_)).status, 201);

  auto view = desk_->get_json("/v1/calendar?date=" + change_date + "&therapist_ids=" + therapist_id_);
  ASSERT_TRUE(view) << view.error().message;
  EXPECT_EQ(str(view->at("therapists").at(0).at("working_hours").at(0), "local_end"), change_date + "T12:00");

  json::value unordered = {{"time_zone", "America/New_York"},
                           {"weekly", weekly},
                           {"changes", json::array{json::value{{"from_date", change_date}, {"weekly", mornings}},
                                                   json::value{{"from_date", change_date}, {"weekly", weekly}}}}};
  auto bad = admin_->call_json("PUT", "/v1/therapists/" + therapist_id_ + "/availability", &unordered);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "changes[1].from_date");
  json::value empty = {{"time_zone", "America/New_York"},
                       {"changes", json::array{json::value{{"from_date", change_date}}}}};
  auto none = admin_->call_json("PUT", "/v1/therapists/" + therapist_id_ + "/availability", &empty);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().field, "changes[0].weekly");
}

}  // namespace
}  // namespace alliance::testing
