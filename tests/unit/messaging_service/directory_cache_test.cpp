// CachingDirectory: identity's answers kept for a while so a send costs no round
// trip, but never kept past a device change (invalidate_all), nor past the TTL.
#include <gtest/gtest.h>

#include "io_test.hpp"
#include "messaging_directory.hpp"
#include "messaging_fixture.hpp"

namespace alliance::messaging {
namespace {

using namespace std::chrono_literals;

class DirectoryCacheTest : public testing::IoTest {
 protected:
  void SetUp() override {
    inner_.add_user("c1", "p1", "client");
    inner_.add_user("t1", "p1", "therapist");
    inner_.link("c1", "t1");
    inner_.add_device("c1", "phone", "s-phone");
    inner_.add_device("t1", "desk", "s-desk");
  }
  std::vector<std::string> ids(const ActiveDevices& d) {
    std::vector<std::string> out;
    for (const auto& x : d.devices) out.push_back(x.id());
    return out;
  }
  ActiveDevices devices(const std::string& session = "s-phone") {
    auto r = run(cache_.active_devices("p1", {"c1", "t1"}, session));
    EXPECT_TRUE(r.ok());
    return r.ok() ? **r : ActiveDevices{};
  }

  FakeDirectory inner_;
  std::int64_t now_ = 1'000'000;
  CachingDirectory cache_{inner_, {.ttl = 30s, .max_entries = 1000, .now_ms = [this] { return now_; }}};
};

TEST_F(DirectoryCacheTest, AnswersFromTheCacheUntilInvalidatedOrExpired) {
  EXPECT_EQ(ids(devices()), (std::vector<std::string>{"desk", "phone"}));
  EXPECT_EQ(cache_.stats().misses, 1u);

  // A device registered meanwhile is not seen while the entry is fresh...
  inner_.add_device("t1", "tablet", "s-tablet");
  EXPECT_EQ(ids(devices()), (std::vector<std::string>{"desk", "phone"}));
  EXPECT_EQ(cache_.stats().hits, 1u);
  // ...and is seen at once after identity's announcement empties the cache.
  cache_.invalidate_all();
  EXPECT_EQ(ids(devices()), (std::vector<std::string>{"desk", "phone", "tablet"}));

  // Without an announcement (Redis down), the TTL bounds how stale it can be.
  inner_.revoke_device("tablet");
  now_ += 29'000;
  EXPECT_EQ(ids(devices()).size(), 3u);
  now_ += 1'001;
  EXPECT_EQ(ids(devices()), (std::vector<std::string>{"desk", "phone"}));
}

TEST_F(DirectoryCacheTest, EachSessionHasItsOwnEntrySoTheSenderDeviceIsRight) {
  EXPECT_EQ(devices("s-phone").session_device_id, "phone");
  EXPECT_EQ(devices("s-desk").session_device_id, "desk");
  EXPECT_EQ(devices("s-unknown").session_device_id, "");
}

TEST_F(DirectoryCacheTest, ListsWithInactiveDevicesAreKeptApartFromRecipientLists) {
  inner_.revoke_device("phone");
  inner_.add_device("c1", "tablet", "s-tablet");
  auto all = run(cache_.devices_with_inactive("p1", {"c1", "t1"}));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(ids(**all), (std::vector<std::string>{"desk", "tablet", "phone"}));
  EXPECT_EQ((*all)->session_device_id, "");
  // Same practice, users and (empty) session: still only the active devices.
  auto active = run(cache_.active_devices("p1", {"c1", "t1"}, ""));
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(ids(**active), (std::vector<std::string>{"desk", "tablet"}));
  // Both are cached, each under its own entry.
  EXPECT_EQ(ids(**run(cache_.devices_with_inactive("p1", {"c1", "t1"}))),
            (std::vector<std::string>{"desk", "tablet", "phone"}));
  EXPECT_EQ(ids(**run(cache_.active_devices("p1", {"c1", "t1"}, ""))), (std::vector<std::string>{"desk", "tablet"}));
  EXPECT_EQ(cache_.stats().misses, 2u);
  EXPECT_EQ(cache_.stats().hits, 2u);
}

TEST_F(DirectoryCacheTest, SendsShareOneAnswerThatOutlivesItsEntry) {
  auto first = run(cache_.active_devices("p1", {"c1", "t1"}, "s-phone"));
  auto second = run(cache_.active_devices("p1", {"c1", "t1"}, "s-phone"));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->get(), second->get()) << "a hit must hand out the kept answer, not a copy";
  // A send still holding the answer reads it whole after the entry is dropped.
  inner_.add_device("t1", "tablet", "s-tablet");
  cache_.invalidate_all();
  auto third = run(cache_.active_devices("p1", {"c1", "t1"}, "s-phone"));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(ids(**first), (std::vector<std::string>{"desk", "phone"}));
  EXPECT_EQ(ids(**third), (std::vector<std::string>{"desk", "phone", "tablet"}));
}

TEST_F(DirectoryCacheTest, OnlyPositiveCareTeamAnswersAndKnownUsersAreKept) {
  EXPECT_FALSE(*run(cache_.on_care_team("c1", "t2")));
  inner_.link("c1", "t2");
  EXPECT_TRUE(*run(cache_.on_care_team("c1", "t2")));  // a "no" was not remembered
  EXPECT_TRUE(*run(cache_.on_care_team("c1", "t1")));
  EXPECT_TRUE(*run(cache_.on_care_team("c1", "t1")));
  EXPECT_FALSE(run(cache_.find_user("nobody"))->has_value());
  inner_.add_user("nobody", "p1", "client");
  EXPECT_TRUE(run(cache_.find_user("nobody"))->has_value());  // unknown was not remembered
  EXPECT_EQ((*run(cache_.find_user("t1")))->role, "therapist");
  EXPECT_GE(cache_.stats().hits, 1u);
}

}  // namespace
}  // namespace alliance::messaging
