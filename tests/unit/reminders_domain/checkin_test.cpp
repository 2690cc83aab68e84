// Check-in answers and alert rules: each rating's range, the sealed comment's shape,
// the policy's bounds, and when a total raises an alert.
#include <gtest/gtest.h>

#include "domain/checkin.hpp"

namespace alliance::reminders {
namespace {

TEST(CheckinRatings, EachIsRequiredAndFromZeroToTen) {
  auto ok = parse_ratings(0, 10, 5, 7);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->total(), 22);
  auto missing = parse_ratings(5, std::nullopt, 5, 5);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().field, "ratings.goals");
  auto high = parse_ratings(5, 5, 11, 5);
  ASSERT_FALSE(high);
  EXPECT_EQ(high.error().field, "ratings.approach");
  auto low = parse_ratings(5, 5, 5, -1);
  ASSERT_FALSE(low);
  EXPECT_EQ(low.error().field, "ratings.overall");
}

TEST(CheckinComment, NoneIsFineAndASealedOneMustBeWellFormed) {
  EXPECT_TRUE(check_comment({}));
  SealedComment c{"device-1", std::string(200, 'x'), {{"t-1", std::string(80, 'k')}}};
  EXPECT_TRUE(check_comment(c));
  auto no_sender = c;
  no_sender.sender_device_id.clear();
  EXPECT_EQ(check_comment(no_sender).error().field, "comment.sender_device_id");
  auto short_ct = c;
  short_ct.ciphertext = "abc";
  EXPECT_EQ(check_comment(short_ct).error().field, "comment.ciphertext");
  auto long_ct = c;
  long_ct.ciphertext = std::string(kMaxCommentCiphertext + 1, 'x');
  EXPECT_EQ(check_comment(long_ct).error().field, "comment.ciphertext");
  auto no_keys = c;
  no_keys.keys.clear();
  EXPECT_EQ(check_comment(no_keys).error().field, "comment.keys");
  auto bad_key = c;
  bad_key.keys.push_back({"t-2", "short"});
  EXPECT_EQ(check_comment(bad_key).error().field, "comment.keys[1].wrapped_key");
  auto twice = c;
  twice.keys.push_back(c.keys[0]);
  EXPECT_EQ(check_comment(twice).error().field, "comment.keys[1].device_id");
}

TEST(CheckinPolicy, BoundsNameTheField) {
  EXPECT_TRUE(check_policy({30, 5, true}));
  EXPECT_EQ(check_policy({41, 0, false}).error().field, "alert_below_total");
  EXPECT_EQ(check_policy({0, -1, false}).error().field, "alert_drop_points");
}

TEST(CheckinAlerts, BelowTheThresholdOrADropFromTheClientsOwnAverage) {
  const CheckinPolicy off{};
  EXPECT_TRUE(alert_reasons(off, 0, 40, 3).empty());
  const CheckinPolicy policy{30, 5, false};
  EXPECT_TRUE(alert_reasons(policy, 30, 33, 2).empty());
  EXPECT_EQ(alert_reasons(policy, 29, 30, 2), std::vector<std::string>{"below_threshold"});
  // A drop needs history and more than N points.
  EXPECT_TRUE(alert_reasons(policy, 34, 39, 2).empty());
  EXPECT_EQ(alert_reasons(policy, 33, 39, 2), std::vector<std::string>{"drop"});
  EXPECT_TRUE(alert_reasons({0, 5, false}, 10, 0, 0).empty());
  EXPECT_EQ(alert_reasons(policy, 20, 38, 4), (std::vector<std::string>{"below_threshold", "drop"}));
}

}  // namespace
}  // namespace alliance::reminders
