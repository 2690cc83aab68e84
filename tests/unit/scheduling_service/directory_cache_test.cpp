// CachingUserDirectory: identity's positive answers are kept (a user, a care-team
// link), so bookings do not ask identity each time; unknown users and missing links
// are asked again, because they may appear at any moment.
#include <gtest/gtest.h>

#include "io_test_support.hpp"
#include "user_directory.hpp"

namespace alliance::scheduling {
namespace {

class CountingDirectory final : public UserDirectory {
 public:
  FakeDirectory facts;
  int calls = 0;
  asio::awaitable<Result<std::optional<UserFacts>>> find_user(std::string id) override {
    ++calls;
    co_return co_await facts.find_user(std::move(id));
  }
  asio::awaitable<Result<bool>> on_care_team(std::string client, std::string therapist) override {
    ++calls;
    co_return co_await facts.on_care_team(std::move(client), std::move(therapist));
  }
};

class UserDirectoryCacheTest : public IoTest {
 protected:
  CountingDirectory inner_;
  std::int64_t now_ = 1'000'000;
  CachingUserDirectory cache_{inner_, {.ttl = std::chrono::seconds(60), .max_entries = 100,
                                       .now_ms = [this] { return now_; }}};
};

TEST_F(UserDirectoryCacheTest, KnownUsersAndLinksAreKeptUntilTheTtlUnknownOnesAreAskedAgain) {
  inner_.facts.add("t1", "p1", Role::kTherapist);
  EXPECT_EQ((*run(cache_.find_user("t1")))->role, Role::kTherapist);
  EXPECT_EQ((*run(cache_.find_user("t1")))->practice_id, "p1");
  EXPECT_EQ(inner_.calls, 1);

  EXPECT_FALSE(run(cache_.find_user("c1"))->has_value());
  inner_.facts.add("c1", "p1", Role::kClient);  // created after the first question
  EXPECT_TRUE(run(cache_.find_user("c1"))->has_value());
  EXPECT_EQ(inner_.calls, 3);

  EXPECT_FALSE(*run(cache_.on_care_team("c1", "t1")));
  inner_.facts.link("c1", "t1");  // linked after the first question
  EXPECT_TRUE(*run(cache_.on_care_team("c1", "t1")));
  EXPECT_TRUE(*run(cache_.on_care_team("c1", "t1")));
  EXPECT_EQ(inner_.calls, 5);
  EXPECT_EQ(cache_.hits(), 2u);

  now_ += 60'001;  // expired: asked again
  EXPECT_TRUE(*run(cache_.on_care_team("c1", "t1")));
  EXPECT_EQ(inner_.calls, 6);
}

TEST_F(UserDirectoryCacheTest, AChangedTimeZoneShowsOnceTheKeptAnswerExpires) {
  inner_.facts.add("c1", "p1", Role::kClient, "Europe/Berlin");
  EXPECT_EQ(run(client_time_zone(cache_, "c1")), "Europe/Berlin");
  inner_.facts.set_time_zone("c1", "Asia/Tokyo");  // the client moved
  now_ += 59'000;
  EXPECT_EQ(run(client_time_zone(cache_, "c1")), "Europe/Berlin") << "kept for the ttl";
  now_ += 2'000;
  EXPECT_EQ(run(client_time_zone(cache_, "c1")), "Asia/Tokyo");
  EXPECT_EQ(run(client_time_zone(cache_, "nobody")), "") << "an unknown client has no zone";
}

// identity down: every question fails.
class UnreachableDirectory final : public UserDirectory {
 public:
  asio::awaitable<Result<std::optional<UserFacts>>> find_user(std::string) override {
    co_return make_error(Code::kUnavailable, "identity is not reachable; try again");
  }
  asio::awaitable<Result<bool>> on_care_team(std::string, std::string) override {
    co_return make_error(Code::kUnavailable, "identity is not reachable; try again");
  }
};

TEST_F(UserDirectoryCacheTest, WithIdentityDownAClientHasNoZoneRatherThanAFailure) {
  UnreachableDirectory down;
  EXPECT_EQ(run(client_time_zone(down, "c1")), "");
}

}  // namespace
}  // namespace alliance::scheduling
