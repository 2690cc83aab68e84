// A front desk blocks two hours of a therapist's day for supervision, once and then
// weekly: the client's slot search skips them, booking over them is refused like a
// conflict, the client never learns why, and deleting the block gives the time back.
#include <gtest/gtest.h>

#include <algorithm>

#include "alliance/core/ids.hpp"
#include "scheduling_practice.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;

class TimeBlocks : public SchedulingPractice {
 protected:
  // The therapist's open slots on the UTC day `days` from now (New York 08:00-19:00 in winter).
  std::vector<std::string> day(int days) { return slots(therapist_id_, day_from_now(days), day_from_now(days + 1)); }

  std::string blocks_path() const { return "/v1/therapists/" + therapist_id_ + "/time-blocks"; }

  client::HttpResponse create(client::AllianceClient& who, const json::value& body) {
    return post(who, blocks_path(), body);
  }

  static bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }
  // The same instant a week later ("...T16:00:00Z"): a New York time in December, no DST change between.
  static std::string week_later(const std::string& instant, int days_now, int weeks = 1) {
    return day_from_now(days_now + 7 * weeks).substr(0, 10) + instant.substr(10);
  }
};

TEST_F(TimeBlocks, ABlockHidesItsSlotsRefusesBookingsAndDeletingItGivesTheTimeBack) {
  auto open = day(2);
  ASSERT_GE(open.size(), 6u);
  // Two hours from the fourth slot on: the third slot's 10 minutes after end where the block starts.
  json::value body = {{"start_time", open[3]}, {"end_time", open[5]}, {"reason", "Supervision with Dr. Reyes"}};
  auto made = create(*desk_, body);
  ASSERT_EQ(made.status, 201) << made.body;
  auto block = json::parse(made.body).at("block");
  EXPECT_EQ(str(block, "reason"), "Supervision with Dr. Reyes");
  EXPECT_EQ(str(block, "repeat"), "none");
  EXPECT_EQ(str(block, "time_zone"), "America/New_York");

  auto after = day(2);
  EXPECT_FALSE(has(after, open[3]));
  EXPECT_FALSE(has(after, open[4]));
  EXPECT_TRUE(has(after, open[2]));
  EXPECT_TRUE(has(after, open[5]));

  auto refused = post(*desk_, "/v1/appointments", booking(open[4], client_id_));
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("start_time"), std::string::npos);
  EXPECT_EQ(refused.body.find("Supervision"), std::string::npos);
  // Moving an appointment into the block is refused the same way.
  auto booked = post(*desk_, "/v1/appointments", booking(open[2], client_id_));
  ASSERT_EQ(booked.status, 201) << booked.body;
  auto id = str(json::parse(booked.body).at("appointment"), "id");
  auto moved = post(*desk_, "/v1/appointments/" + id + "/reschedule", json::value{{"new_start_time", open[3]}});
  EXPECT_EQ(moved.status, 409) << moved.body;

  // Staff see why; the client sees only that the time is taken.
  auto staff_view = desk_->get_json(blocks_path() + "?from=" + client::url_encode(day_from_now(2)));
  ASSERT_TRUE(staff_view) << staff_view.error().message;
  ASSERT_EQ(staff_view->at("blocks").as_array().size(), 1u);
  EXPECT_EQ(str(staff_view->at("blocks").at(0), "reason"), "Supervision with Dr. Reyes");
  auto client_view = client_->get_json(blocks_path() + "?from=" + client::url_encode(day_from_now(2)));
  ASSERT_TRUE(client_view) << client_view.error().message;
  ASSERT_EQ(client_view->at("blocks").as_array().size(), 1u);
  const auto& seen = client_view->at("blocks").at(0).as_object();
  EXPECT_EQ(str(seen, "start_time"), open[3]);
  EXPECT_EQ(str(seen, "reason"), "");
  EXPECT_EQ(str(seen, "created_by"), "");
  EXPECT_EQ(json::serialize(*client_view).find("Supervision"), std::string::npos);

  auto gone = desk_->call_json("DELETE", blocks_path() + "/" + str(block, "id"), nullptr);
  ASSERT_TRUE(gone) << gone.error().message;
  EXPECT_TRUE(has(day(2), open[4]));
  EXPECT_EQ(post(*desk_, "/v1/appointments", booking(open[4], client_id_)).status, 201);
  auto twice = desk_->call_json("DELETE", blocks_path() + "/" + str(block, "id"), nullptr);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, Code::kNotFound);
}

// An open front desk screen hears a block made and deleted on its practice's staff
// channel at once (ids and times, never the reason); a client's socket hears nothing.
TEST_F(TimeBlocks, OpenConsolesHearABlockMadeAndDeletedWithoutItsReason) {
  auto desk_socket = desk_->open_push_socket();
  ASSERT_TRUE(desk_socket) << desk_socket.error().message;
  auto client_socket = client_->open_push_socket();
  ASSERT_TRUE(client_socket) << client_socket.error().message;
  auto open = day(3);
  ASSERT_GE(open.size(), 3u);
  auto made = create(*admin_, json::value{{"start_time", open[1]}, {"end_time", open[2]}, {"reason", "Supervision"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string id = str(json::parse(made.body).at("block"), "id");
  auto heard = [&](const std::string& change) {
    auto frame = (*desk_socket)->read_text(std::chrono::seconds(5));
    ASSERT_TRUE(frame) << "no " << change << " push";
    EXPECT_EQ(frame->find("Supervision"), std::string::npos) << *frame;
    auto f = json::parse(*frame);
    EXPECT_EQ(str(f, "type"), "time_block.changed");
    const auto& body = f.at("body");
    EXPECT_EQ(str(body, "change"), change);
    EXPECT_EQ(str(body, "block_id"), id);
    EXPECT_EQ(str(body, "therapist_id"), therapist_id_);
    EXPECT_EQ(str(body, "start_time"), open[1]);
    EXPECT_EQ(str(body, "end_time"), open[2]);
  };
  heard("created");
  auto gone = desk_->call_json("DELETE", blocks_path() + "/" + id, nullptr);
  ASSERT_TRUE(gone) << gone.error().message;
  heard("deleted");
  EXPECT_FALSE((*client_socket)->read_text(std::chrono::milliseconds(300)));
}

TEST_F(TimeBlocks, AWeeklyBlockRepeatsAtTheSameLocalTimeUntilItsLastDate) {
  auto open = day(2);
  ASSERT_GE(open.size(), 6u);
  auto kim = sys_->login(slug_, "kim@" + slug_ + ".example");
  json::value body = {{"start_time", open[3]},
                      {"end_time", open[4]},
                      {"repeat", "weekly"},
                      {"repeat_until", day_from_now(9).substr(0, 10)},
                      {"reason", "Personal"}};
  auto made = create(*kim, body);
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_FALSE(has(day(2), open[3]));
  EXPECT_FALSE(has(day(9), week_later(open[3], 2)));
  EXPECT_TRUE(has(day(9), week_later(open[4], 2)));
  EXPECT_TRUE(has(day(16), week_later(open[3], 2, 2)));
  EXPECT_EQ(post(*desk_, "/v1/appointments", booking(week_later(open[3], 2), client_id_)).status, 409);
  EXPECT_EQ(post(*desk_, "/v1/appointments", booking(week_later(open[3], 2, 2), client_id_)).status, 201);
}

TEST_F(TimeBlocks, OnlyStaffArrangeBlocksAndEveryBadFieldIsNamed) {
  auto open = day(2);
  ASSERT_GE(open.size(), 3u);
  json::value ok = {{"start_time", open[0]}, {"end_time", open[1]}};
  EXPECT_EQ(create(*client_, ok).status, 403);
  auto lee = sys_->login(slug_, "lee@" + slug_ + ".example");
  EXPECT_EQ(create(*lee, ok).status, 403);
  EXPECT_EQ(post(*desk_, "/v1/therapists/" + new_id() + "/time-blocks", ok).status, 404);

  auto expect_field = [&](json::value body, const std::string& field) {
    auto r = create(*desk_, body);
    EXPECT_EQ(r.status, 400) << field << ": " << r.body;
    auto error = json::parse(r.body).at("error");
    EXPECT_EQ(str(error, "field"), field) << r.body;
  };
  expect_field({{"start_time", open[1]}, {"end_time", open[0]}}, "end_time");
  expect_field({{"start_time", "tomorrow"}, {"end_time", open[0]}}, "start_time");
  expect_field({{"start_time", open[0]}, {"end_time", day_from_now(4)}}, "end_time");
  expect_field({{"start_time", open[0]}, {"end_time", open[1]}, {"repeat", "daily"}}, "repeat");
  expect_field({{"start_time", open[0]}, {"end_time", open[1]}, {"repeat_until", "2030-01-01"}}, "repeat_until");
  expect_field({{"start_time", open[0]}, {"end_time", open[1]}, {"repeat", "weekly"}, {"repeat_until", "2001-01-01"}},
               "repeat_until");
  expect_field({{"start_time", open[0]}, {"end_time", open[1]}, {"reason", std::string(201, 'x')}}, "reason");
  expect_field({{"start_time", open[0]}, {"end_time", open[1]}, {"reason", "a\x1b[2Jb"}}, "reason");
  // 200 two-byte characters are within the limit: it counts characters.
  std::string e_acute;
  for (int i = 0; i < 200; ++i) e_acute += "\xc3\xa9";
  EXPECT_EQ(create(*desk_, json::value{{"start_time", open[0]}, {"end_time", open[1]}, {"reason", e_acute}}).status, 201);
}

}  // namespace
}  // namespace alliance::testing
