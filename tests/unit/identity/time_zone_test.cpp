// Per-user time zones and what LookupUsers tells other services, on IdentityService
// over a real SQLite file and a real redis-server (no RPC): who may set whose zone,
// what a bad zone answers, and where the zone shows up afterwards.
#include "identity_service_fixture.hpp"

namespace alliance::identity {
namespace {

class TimeZoneTest : public IdentityServiceTest {
 protected:
  void SetUp() override {
    IdentityServiceTest::SetUp();
    acme_ = make_practice("acme");
    admin_ = acme_.admin();
    front_desk_ = make_user(admin_, "desk@acme.example", "front_desk");
    therapist_ = make_user(admin_, "tess@acme.example", "therapist");
    client_ = make_user(admin_, "cleo@acme.example", "client");
    other_client_ = make_user(admin_, "carl@acme.example", "client");
  }

  Result<pb::SetTimeZoneResponse> set_zone(const pb::User& by, const std::string& user_id,
                                           const std::string& zone) {
    pb::SetTimeZoneRequest req;
    req.set_user_id(user_id);
    req.set_time_zone(zone);
    return run(service_->set_time_zone(req, as(by)));
  }

  std::string zone_of(const pb::User& u) {
    auto me = run(service_->get_me({}, as(u)));
    EXPECT_TRUE(me.ok()) << me.error().message;
    return me.ok() ? me->user().time_zone() : "<error>";
  }

  static void expect_hidden(const Result<pb::SetTimeZoneResponse>& r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Code::kNotFound);
    EXPECT_EQ(r.error().field, "user_id");
    EXPECT_EQ(r.error().message, "user_id: no such user");
  }

  pb::CreatePracticeResponse acme_;
  pb::User admin_, front_desk_, therapist_, client_, other_client_;
};

TEST_F(TimeZoneTest, UsersSetTheirOwnByMeEmptyOrTheirIdAndGetMeShowsIt) {
  EXPECT_EQ(zone_of(client_), "");  // nobody has a zone until one is set

  auto r = set_zone(client_, "me", "Europe/Berlin");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->user().id(), client_.id());
  EXPECT_EQ(r->user().time_zone(), "Europe/Berlin");
  EXPECT_EQ(r->user().email(), "cleo@acme.example");
  EXPECT_EQ(zone_of(client_), "Europe/Berlin");

  r = set_zone(client_, "", "America/New_York");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(zone_of(client_), "America/New_York");

  r = set_zone(therapist_, therapist_.id(), "Asia/Tokyo");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(zone_of(therapist_), "Asia/Tokyo");
  EXPECT_EQ(zone_of(client_), "America/New_York");  // one user's zone only
}

TEST_F(TimeZoneTest, EmptyZoneClearsIt) {
  ASSERT_TRUE(set_zone(client_, "me", "Europe/Berlin").ok());
  auto r = set_zone(client_, "me", "");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->user().time_zone(), "");
  EXPECT_EQ(zone_of(client_), "");
}

TEST_F(TimeZoneTest, UnknownZoneNamesTheFieldAndChangesNothing) {
  ASSERT_TRUE(set_zone(client_, "me", "Europe/Berlin").ok());
  auto r = set_zone(client_, "me", "Mars/Base");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  EXPECT_EQ(r.error().field, "time_zone");
  EXPECT_EQ(r.error().message, "time_zone: unknown time zone \"Mars/Base\"");
  r = set_zone(client_, "me", "../../etc/passwd");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "time_zone");
  EXPECT_EQ(zone_of(client_), "Europe/Berlin");
}

TEST_F(TimeZoneTest, FrontDeskSetsAClientsZoneButNotStaffs) {
  auto r = set_zone(front_desk_, client_.id(), "Europe/Lisbon");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->user().id(), client_.id());
  EXPECT_EQ(zone_of(client_), "Europe/Lisbon");

  expect_hidden(set_zone(front_desk_, therapist_.id(), "Europe/Lisbon"));
  expect_hidden(set_zone(front_desk_, admin_.id(), "Europe/Lisbon"));
  EXPECT_EQ(zone_of(therapist_), "");
  EXPECT_EQ(zone_of(admin_), "");
}

TEST_F(TimeZoneTest, AdminSetsAnyonesInThePractice) {
  ASSERT_TRUE(set_zone(admin_, therapist_.id(), "America/Chicago").ok());
  ASSERT_TRUE(set_zone(admin_, front_desk_.id(), "America/Denver").ok());
  ASSERT_TRUE(set_zone(admin_, client_.id(), "America/Phoenix").ok());
  EXPECT_EQ(zone_of(therapist_), "America/Chicago");
  EXPECT_EQ(zone_of(front_desk_), "America/Denver");
  EXPECT_EQ(zone_of(client_), "America/Phoenix");
}

TEST_F(TimeZoneTest, OthersAndOtherPracticesGetNotFoundLikeAnUnknownUser) {
  // A therapist or a client may not set someone else's zone.
  expect_hidden(set_zone(therapist_, client_.id(), "Europe/Paris"));
  expect_hidden(set_zone(client_, other_client_.id(), "Europe/Paris"));
  // Staff of another practice cannot reach this one's users at all.
  auto other = make_practice("other");
  auto other_desk = make_user(other.admin(), "desk@other.example", "front_desk");
  expect_hidden(set_zone(other.admin(), client_.id(), "Europe/Paris"));
  expect_hidden(set_zone(other_desk, client_.id(), "Europe/Paris"));
  // ...which answers exactly what an id that exists nowhere answers.
  expect_hidden(set_zone(admin_, new_id(), "Europe/Paris"));
  expect_hidden(set_zone(admin_, std::string(65, 'x'), "Europe/Paris"));
  EXPECT_EQ(zone_of(client_), "");
  EXPECT_EQ(zone_of(other_client_), "");
}

TEST_F(TimeZoneTest, SigningInFirstIsRequired) {
  pb::SetTimeZoneRequest req;
  req.set_user_id(client_.id());
  req.set_time_zone("Europe/Paris");
  auto r = run(service_->set_time_zone(req, net::CallContext{}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kUnauthenticated);
  EXPECT_EQ(zone_of(client_), "");
}

TEST_F(TimeZoneTest, ZoneIsInEveryUserAnswer) {
  ASSERT_TRUE(set_zone(client_, "me", "Australia/Sydney").ok());

  auto listed = run(service_->list_users({}, as(front_desk_)));
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  bool seen = false;
  for (const auto& u : listed->users()) {
    if (u.id() != client_.id()) continue;
    seen = true;
    EXPECT_EQ(u.time_zone(), "Australia/Sydney");
  }
  EXPECT_TRUE(seen);

  auto signed_in = login("acme", "cleo@acme.example", kPassword);
  ASSERT_TRUE(signed_in.ok()) << signed_in.error().message;
  EXPECT_EQ(signed_in->user().time_zone(), "Australia/Sydney");
  auto refreshed = refresh(signed_in->refresh_token());
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().message;
  EXPECT_EQ(refreshed->user().time_zone(), "Australia/Sydney");

  // A new user has none yet.
  EXPECT_EQ(make_user(admin_, "new@acme.example", "client").time_zone(), "");

  // The zone is stored: a fresh service over the same database still answers it.
  rebuild();
  EXPECT_EQ(zone_of(client_), "Australia/Sydney");
}

TEST_F(TimeZoneTest, LookupUsersAnswersNamesZonesAndEachPracticeOnce) {
  ASSERT_TRUE(set_zone(client_, "me", "Europe/Berlin").ok());
  auto other = make_practice("other");
  ASSERT_TRUE(set_zone(other.admin(), "me", "Asia/Kolkata").ok());

  pb::LookupUsersRequest req;
  req.add_user_ids(client_.id());
  req.add_user_ids(new_id());  // unknown: left out
  req.add_user_ids(therapist_.id());
  req.add_user_ids(other.admin().id());
  req.add_user_ids("");
  auto r = run(service_->lookup_users(req, {}));
  ASSERT_TRUE(r.ok()) << r.error().message;

  ASSERT_EQ(r->users_size(), 3);
  EXPECT_EQ(r->users(0).id(), client_.id());
  EXPECT_EQ(r->users(0).practice_id(), acme_.practice().id());
  EXPECT_EQ(r->users(0).role(), "client");
  EXPECT_EQ(r->users(0).display_name(), "User client");
  EXPECT_EQ(r->users(0).time_zone(), "Europe/Berlin");
  EXPECT_EQ(r->users(1).id(), therapist_.id());
  EXPECT_EQ(r->users(1).role(), "therapist");
  EXPECT_EQ(r->users(1).display_name(), "User therapist");
  EXPECT_EQ(r->users(1).time_zone(), "");
  EXPECT_EQ(r->users(2).id(), other.admin().id());
  EXPECT_EQ(r->users(2).practice_id(), other.practice().id());
  EXPECT_EQ(r->users(2).display_name(), "Admin");
  EXPECT_EQ(r->users(2).time_zone(), "Asia/Kolkata");

  // Two users of acme, one of other: each practice once, with its name and slug.
  ASSERT_EQ(r->practices_size(), 2);
  EXPECT_EQ(r->practices(0).id(), acme_.practice().id());
  EXPECT_EQ(r->practices(0).name(), "Practice acme");
  EXPECT_EQ(r->practices(0).slug(), "acme");
  EXPECT_EQ(r->practices(1).id(), other.practice().id());
  EXPECT_EQ(r->practices(1).name(), "Practice other");
  EXPECT_EQ(r->practices(1).slug(), "other");
  EXPECT_GT(r->practices(1).created_unix_ms(), 0);

  // Nobody known: no users and no practices.
  pb::LookupUsersRequest none;
  none.add_user_ids(new_id());
  auto empty = run(service_->lookup_users(none, {}));
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(empty->users_size(), 0);
  EXPECT_EQ(empty->practices_size(), 0);
}

TEST_F(TimeZoneTest, LookupUsersIsForServicesAndBounded) {
  pb::LookupUsersRequest req;
  req.add_user_ids(client_.id());
  auto as_user = run(service_->lookup_users(req, as(admin_)));
  ASSERT_FALSE(as_user.ok());
  EXPECT_EQ(as_user.error().code, Code::kPermissionDenied);

  for (int i = 0; i < 100; ++i) req.add_user_ids(new_id());
  auto too_many = run(service_->lookup_users(req, {}));
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, Code::kInvalidArgument);
  EXPECT_EQ(too_many.error().field, "user_ids");
}

}  // namespace
}  // namespace alliance::identity
