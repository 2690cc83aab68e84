// People who join, change and leave: an admin deactivates, reactivates, changes the
// role of, renames and re-addresses users, and resets passwords with a one-time token;
// new passwords are judged by libpwquality. IdentityService over real SQLite and Redis.
#include <array>

#include "alliance/store/query.hpp"
#include "identity_service_fixture.hpp"

namespace alliance::identity {
namespace {

class UserAdminTest : public IdentityServiceTest {
 protected:
  void SetUp() override {
    IdentityServiceTest::SetUp();
    admin_ = make_practice("leavers").admin();
    therapist_ = make_user(admin_, "sam@leavers.example", "therapist");
  }

  Result<pb::UserResponse> deactivate(const pb::User& by, const std::string& user_id) {
    pb::DeactivateUserRequest req;
    req.set_user_id(user_id);
    return run(service_->deactivate_user(req, as(by)));
  }
  Result<pb::UserResponse> reactivate(const pb::User& by, const std::string& user_id) {
    pb::ReactivateUserRequest req;
    req.set_user_id(user_id);
    return run(service_->reactivate_user(req, as(by)));
  }
  Result<pb::UserResponse> set_role(const pb::User& by, const std::string& user_id, const std::string& role) {
    pb::SetRoleRequest req;
    req.set_user_id(user_id);
    req.set_role(role);
    return run(service_->set_role(req, as(by)));
  }
  Result<pb::UserResponse> update(const pb::User& by, const std::string& user_id, const std::string& name,
                                  const std::string& email) {
    pb::UpdateUserRequest req;
    req.set_user_id(user_id);
    req.set_display_name(name);
    req.set_email(email);
    return run(service_->update_user(req, as(by)));
  }
  Result<pb::StartPasswordResetResponse> start_reset(const pb::User& by, const std::string& user_id) {
    pb::StartPasswordResetRequest req;
    req.set_user_id(user_id);
    return run(service_->start_password_reset(req, as(by)));
  }
  Result<pb::RedeemPasswordResetResponse> redeem(const std::string& token, const std::string& password) {
    pb::RedeemPasswordResetRequest req;
    req.set_reset_token(token);
    req.set_new_password(password);
    return run(service_->redeem_password_reset(req, from("203.0.113.9")));
  }

  // Session ids published on identity:revocations while `act` runs (3 s for the last one).
  std::vector<std::string> revocations_during(const std::function<void()>& act, std::size_t expected) {
    std::vector<std::string> received;
    redis::Subscriber sub(io_.get_executor(), testing::redis_login(*redis_server_, "admin"),
                          [&](std::string_view channel, std::string_view payload) {
                            alliance::push::v1::SessionRevoked msg;
                            if (channel == kRevocationChannel && msg.ParseFromString(std::string(payload)))
                              received.push_back(msg.session_id());
                          });
    sub.start();
    sub.subscribe(std::string(kRevocationChannel));
    EXPECT_TRUE(run(sub.wait_subscribed(std::string(kRevocationChannel), 3s)));
    act();
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (received.size() < expected && std::chrono::steady_clock::now() < deadline) io_.run_one_for(50ms);
    sub.stop();
    std::sort(received.begin(), received.end());
    return received;
  }

  std::string session_of(const pb::TokenResponse& t) { return verify(t.access_token())->session_id; }

  pb::User admin_;
  pb::User therapist_;
};

TEST_F(UserAdminTest, ADeactivatedUserCannotSignInOrRefreshAndEverySessionEndsUntilReactivated) {
  auto phone = login("leavers", "sam@leavers.example", kPassword);
  auto laptop = login("leavers", "sam@leavers.example", kPassword);
  ASSERT_TRUE(phone.ok() && laptop.ok());
  std::vector<std::string> sessions{session_of(*phone), session_of(*laptop)};
  std::sort(sessions.begin(), sessions.end());

  Result<pb::UserResponse> done = make_error(Code::kInternal, "not run");
  auto published = revocations_during([&] { done = deactivate(admin_, therapist_.id()); }, 2);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->sessions_ended(), 2);
  EXPECT_GT(done->user().deactivated_unix_ms(), 0);
  EXPECT_EQ(published, sessions);  // the gateways close these sessions' sockets
  auto revoked = run(service_->list_revoked_sessions({}, {}));
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->session_ids_size(), 2);

  // The right password says why; a wrong one says no more than for anyone else.
  auto refused = login("leavers", "sam@leavers.example", kPassword);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kPermissionDenied);
  EXPECT_EQ(refused.error().message, "this account is deactivated; ask your practice's admin");
  auto wrong = login("leavers", "sam@leavers.example", "not the password at all");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Code::kUnauthenticated);
  EXPECT_EQ(wrong.error().message, "invalid email or password");
  EXPECT_EQ(refresh(phone->refresh_token()).error().code, Code::kUnauthenticated);

  // Still listed (history stays), marked deactivated; deactivating again ends nothing more.
  pb::ListUsersRequest list;
  list.set_role("therapist");
  auto listed = run(service_->list_users(list, as(admin_)));
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->users_size(), 1);
  EXPECT_EQ(listed->users(0).deactivated_unix_ms(), done->user().deactivated_unix_ms());
  auto again = deactivate(admin_, therapist_.id());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sessions_ended(), 0);
  // Services that book or message ask identity and are told.
  pb::LookupUsersRequest lookup;
  lookup.add_user_ids(therapist_.id());
  auto facts = run(service_->lookup_users(lookup, {}));
  ASSERT_TRUE(facts.ok() && facts->users_size() == 1);
  EXPECT_TRUE(facts->users(0).deactivated());

  auto back = reactivate(admin_, therapist_.id());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->user().deactivated_unix_ms(), 0);
  EXPECT_TRUE(login("leavers", "sam@leavers.example", kPassword).ok());
  // The old sessions stay ended.
  EXPECT_EQ(refresh(laptop->refresh_token()).error().code, Code::kUnauthenticated);
}

TEST_F(UserAdminTest, OnlyAnAdminOfTheSamePracticeChangesUsers) {
  for (auto e : {deactivate(therapist_, admin_.id()).error(), set_role(therapist_, therapist_.id(), "admin").error(),
                 update(therapist_, admin_.id(), "Renamed", "").error(), start_reset(therapist_, admin_.id()).error()})
    EXPECT_EQ(e.code, Code::kPermissionDenied) << e.message;
  auto other_admin = make_practice("elsewhere").admin();
  for (auto e : {deactivate(other_admin, therapist_.id()).error(), set_role(other_admin, therapist_.id(), "client").error(),
                 update(other_admin, therapist_.id(), "Renamed", "").error(),
                 start_reset(other_admin, therapist_.id()).error(), deactivate(admin_, "no-such-user").error()}) {
    EXPECT_EQ(e.code, Code::kNotFound) << e.message;
    EXPECT_EQ(e.field, "user_id");
  }
  EXPECT_TRUE(login("leavers", "sam@leavers.example", kPassword).ok());
}

TEST_F(UserAdminTest, ThePracticesLastActiveAdminCannotBeDeactivatedOrDemoted) {
  auto self_deactivate = deactivate(admin_, admin_.id());
  ASSERT_FALSE(self_deactivate.ok());
  EXPECT_EQ(self_deactivate.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(self_deactivate.error().field, "user_id");
  EXPECT_EQ(set_role(admin_, admin_.id(), "therapist").error().code, Code::kFailedPrecondition);

  // A second admin who is deactivated does not count.
  auto second = make_user(admin_, "kim@leavers.example", "admin");
  ASSERT_TRUE(deactivate(admin_, second.id()).ok());
  EXPECT_EQ(set_role(admin_, admin_.id(), "front_desk").error().code, Code::kFailedPrecondition);
  ASSERT_TRUE(reactivate(admin_, second.id()).ok());
  auto demoted = set_role(admin_, admin_.id(), "front_desk");
  ASSERT_TRUE(demoted.ok()) << demoted.error().message;
  EXPECT_EQ(demoted->user().role(), "front_desk");
  EXPECT_EQ(deactivate(second, second.id()).error().code, Code::kFailedPrecondition);
}

TEST_F(UserAdminTest, ARoleChangeEndsTheSessionsSoTheNextSignInCarriesTheNewRole) {
  auto before = login("leavers", "sam@leavers.example", kPassword);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(verify(before->access_token())->role, "therapist");
  auto changed = set_role(admin_, therapist_.id(), "front_desk");
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_EQ(changed->sessions_ended(), 1);
  EXPECT_EQ(refresh(before->refresh_token()).error().code, Code::kUnauthenticated);
  auto after = login("leavers", "sam@leavers.example", kPassword);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(verify(after->access_token())->role, "front_desk");
  EXPECT_EQ(set_role(admin_, therapist_.id(), "owner").error().field, "role");

  // People on a care team keep the role the link names.
  auto client = make_user(admin_, "cleo@leavers.example", "client");
  auto doc = make_user(admin_, "doc@leavers.example", "therapist");
  pb::AddCareTeamMemberRequest link;
  link.set_client_id(client.id());
  link.set_therapist_id(doc.id());
  ASSERT_TRUE(run(service_->add_care_team_member(link, as(admin_))).ok());
  for (auto e : {set_role(admin_, client.id(), "therapist").error(), set_role(admin_, doc.id(), "client").error()}) {
    EXPECT_EQ(e.code, Code::kFailedPrecondition) << e.message;
    EXPECT_EQ(e.field, "role");
  }
}

TEST_F(UserAdminTest, NameAndEmailUpdatesAreValidatedAndEmailsStayUniqueInThePractice) {
  auto renamed = update(admin_, therapist_.id(), "Dr. Sam Reyes", "Sam.Reyes@Leavers.example");
  ASSERT_TRUE(renamed.ok()) << renamed.error().message;
  EXPECT_EQ(renamed->user().display_name(), "Dr. Sam Reyes");
  EXPECT_EQ(renamed->user().email(), "sam.reyes@leavers.example");
  EXPECT_EQ(renamed->sessions_ended(), 0);
  EXPECT_TRUE(login("leavers", "sam.reyes@leavers.example", kPassword).ok());
  EXPECT_FALSE(login("leavers", "sam@leavers.example", kPassword).ok());

  auto taken = update(admin_, therapist_.id(), "", "admin@leavers.example");
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, Code::kAlreadyExists);
  EXPECT_EQ(taken.error().field, "email");
  // A name that reads as someone else's (right-to-left override), a control character.
  const std::array<std::string, 3> names = {"Dr. Ann\u202Eeoj", "Ann\u0085Lee", "  "};
  for (const auto& name : names) {
    auto bad = update(admin_, therapist_.id(), name, "");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
    EXPECT_EQ(bad.error().field, "display_name");
  }
  EXPECT_EQ(update(admin_, therapist_.id(), "", "").error().code, Code::kInvalidArgument);
  EXPECT_EQ(update(admin_, therapist_.id(), "", "no-at-sign").error().field, "email");
  pb::CreateUserRequest create;
  create.set_email("eve@leavers.example");
  create.set_password(kPassword);
  create.set_display_name("Eve\u2067Admin");
  create.set_role("client");
  EXPECT_EQ(run(service_->create_user(create, as(admin_))).error().field, "display_name");
}

TEST_F(UserAdminTest, APasswordResetTokenIsOneTimeShortLivedStoredHashedAndEndsTheSessions) {
  auto session = login("leavers", "sam@leavers.example", kPassword);
  ASSERT_TRUE(session.ok());
  auto started = start_reset(admin_, therapist_.id());
  ASSERT_TRUE(started.ok()) << started.error().message;
  const std::string token = started->reset_token();
  EXPECT_GE(token.size(), 40u);
  EXPECT_EQ(started->sessions_ended(), 1);
  EXPECT_NEAR(static_cast<double>(started->expires_unix_ms()), static_cast<double>(now_unix_ms() + 30 * 60'000),
              5000);
  EXPECT_EQ(refresh(session->refresh_token()).error().code, Code::kUnauthenticated);
  // The old password stops working at once.
  EXPECT_EQ(login("leavers", "sam@leavers.example", kPassword).error().code, Code::kUnauthenticated);

  // Only the token's sha256 is in the database.
  auto stored = run(store_->database().read([](store::Connection& c) -> Result<std::vector<std::string>> {
    return store::query_all(c, "SELECT token_hash FROM password_resets",
                            [](store::Statement& st) { return st.column_blob(0); });
  }));
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ(stored->at(0).size(), 32u);
  EXPECT_EQ(stored->at(0).find(token), std::string::npos);

  // A weak password is refused naming the field, and the token stays usable.
  auto weak = redeem(token, "password1234");
  ASSERT_FALSE(weak.ok());
  EXPECT_EQ(weak.error().code, Code::kInvalidArgument);
  EXPECT_EQ(weak.error().field, "new_password");
  auto redeemed = redeem(token, "a quiet harbour at dawn");
  ASSERT_TRUE(redeemed.ok()) << redeemed.error().message;
  EXPECT_EQ(redeemed->practice_slug(), "leavers");
  EXPECT_EQ(redeemed->user().id(), therapist_.id());
  EXPECT_TRUE(login("leavers", "sam@leavers.example", "a quiet harbour at dawn").ok());
  EXPECT_FALSE(login("leavers", "sam@leavers.example", kPassword).ok());

  // Used once; a made-up token; a replaced token.
  auto again = redeem(token, "another quiet harbour");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Code::kUnauthenticated);
  EXPECT_EQ(again.error().field, "reset_token");
  EXPECT_EQ(redeem("made-up-token", "another quiet harbour").error().field, "reset_token");
  auto first = start_reset(admin_, therapist_.id());
  auto second = start_reset(admin_, therapist_.id());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(redeem(first->reset_token(), "another quiet harbour").error().code, Code::kUnauthenticated);
  EXPECT_TRUE(redeem(second->reset_token(), "another quiet harbour").ok());

  // A deactivated user's token, and an expired one, are refused.
  auto pending = start_reset(admin_, therapist_.id());
  ASSERT_TRUE(pending.ok());
  ASSERT_TRUE(deactivate(admin_, therapist_.id()).ok());
  EXPECT_EQ(redeem(pending->reset_token(), "yet another quiet harbour").error().code, Code::kUnauthenticated);
  EXPECT_EQ(start_reset(admin_, therapist_.id()).error().code, Code::kFailedPrecondition);
  ASSERT_TRUE(reactivate(admin_, therapist_.id()).ok());
  password_reset_ttl_ = 1ms;
  rebuild();
  auto expiring = start_reset(admin_, therapist_.id());
  ASSERT_TRUE(expiring.ok());
  const auto until = std::chrono::steady_clock::now() + 20ms;
  while (std::chrono::steady_clock::now() < until) io_.run_one_for(5ms);
  EXPECT_EQ(redeem(expiring->reset_token(), "yet another quiet harbour").error().code, Code::kUnauthenticated);
}

TEST_F(UserAdminTest, AnAdminSetsThePracticesBookingPolicyThatServicesReadWithEachUser) {
  pb::SetPracticePolicyRequest req;
  req.set_therapists_book_any_client(true);
  EXPECT_EQ(run(service_->set_practice_policy(req, as(therapist_))).error().code, Code::kPermissionDenied);
  auto lookup = [&] {
    pb::LookupUsersRequest users;
    users.add_user_ids(therapist_.id());
    auto r = run(service_->lookup_users(users, {}));
    EXPECT_TRUE(r.ok() && r->practices_size() == 1);
    return r.ok() && r->practices_size() == 1 && r->practices(0).therapists_book_any_client();
  };
  EXPECT_FALSE(lookup());
  auto set = run(service_->set_practice_policy(req, as(admin_)));
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_TRUE(set->practice().therapists_book_any_client());
  EXPECT_TRUE(lookup());
  EXPECT_TRUE(run(service_->get_me({}, as(therapist_)))->practice().therapists_book_any_client());
  // Another practice keeps its own.
  auto other = make_practice("elsewhere").admin();
  EXPECT_FALSE(run(service_->get_me({}, as(other)))->practice().therapists_book_any_client());
}

// GetMe keeps its answers in memory (MeCache): each one below is asked first, so the
// change that follows must be seen by the very next GetMe.
TEST_F(UserAdminTest, GetMeAnswersEveryChangeThatWasSavedBeforeIt) {
  auto me = [&] {
    auto r = run(service_->get_me({}, as(therapist_)));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : pb::GetMeResponse{};
  };
  EXPECT_EQ(me().user().display_name(), "User therapist");
  ASSERT_TRUE(update(admin_, therapist_.id(), "Sam Lee", "sam.lee@leavers.example").ok());
  EXPECT_EQ(me().user().display_name(), "Sam Lee");
  EXPECT_EQ(me().user().email(), "sam.lee@leavers.example");
  ASSERT_TRUE(set_role(admin_, therapist_.id(), "front_desk").ok());
  EXPECT_EQ(me().user().role(), "front_desk");
  pb::SetPracticePolicyRequest policy;
  policy.set_require_two_factor_for_staff(true);
  ASSERT_TRUE(run(service_->set_practice_policy(policy, as(admin_))).ok());
  EXPECT_TRUE(me().practice().require_two_factor_for_staff());
  ASSERT_TRUE(deactivate(admin_, therapist_.id()).ok());
  EXPECT_NE(me().user().deactivated_unix_ms(), 0);
  // The cached user answers only in their own practice.
  auto elsewhere = as(therapist_);
  elsewhere.caller.set_practice_id(make_practice("elsewhere").practice().id());
  EXPECT_EQ(run(service_->get_me({}, elsewhere)).error().code, Code::kNotFound);
}

TEST_F(UserAdminTest, AUserChangesTheirOwnPasswordWithTheCurrentOneAndTheirOtherSessionsEnd) {
  auto here = login("leavers", "sam@leavers.example", kPassword);
  auto elsewhere = login("leavers", "sam@leavers.example", kPassword);
  ASSERT_TRUE(here.ok() && elsewhere.ok());
  const auto ctx = as(therapist_, session_of(*here), "198.51.100.7");
  auto change = [&](const std::string& current, const std::string& next) {
    pb::ChangePasswordRequest req;
    req.set_current_password(current);
    req.set_new_password(next);
    return run(service_->change_password(req, ctx));
  };
  auto weak = change(kPassword, "password1234");
  ASSERT_FALSE(weak.ok());
  EXPECT_EQ(weak.error().field, "new_password");
  auto wrong = change("not my password at all", "lanterns over the quiet bay");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Code::kPermissionDenied);
  EXPECT_EQ(wrong.error().field, "current_password");

  Result<pb::ChangePasswordResponse> changed = make_error(Code::kInternal, "not run");
  auto published = revocations_during([&] { changed = change(kPassword, "lanterns over the quiet bay"); }, 1);
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_EQ(changed->sessions_ended(), 1);
  EXPECT_EQ(published, std::vector<std::string>{session_of(*elsewhere)});
  EXPECT_EQ(refresh(elsewhere->refresh_token()).error().code, Code::kUnauthenticated);
  EXPECT_TRUE(refresh(here->refresh_token()).ok());
  EXPECT_FALSE(login("leavers", "sam@leavers.example", kPassword).ok());
  EXPECT_TRUE(login("leavers", "sam@leavers.example", "lanterns over the quiet bay").ok());

  // Wrong current passwords count as failed sign-ins: the account backs off (3 here).
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(change("still not my password", "another quiet harbour").ok());
  auto locked = change("lanterns over the quiet bay", "another quiet harbour");
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.error().code, Code::kResourceExhausted);
}

TEST_F(UserAdminTest, NewPasswordsAreJudgedByLibpwqualityEverywhereOneIsSet) {
  pb::CreateUserRequest req;
  req.set_email("riley.morgan@leavers.example");
  req.set_display_name("Riley Morgan");
  req.set_role("client");
  // A dictionary word with a run of digits, twelve spaces, a word, the person's own names.
  const std::array<std::string, 5> weak_ones = {"password1234", std::string(12, ' '), "International1",
                                                 "rileymorgan-77", "riley.morgan99"};
  for (const auto& weak : weak_ones) {
    req.set_password(weak);
    auto refused = run(service_->create_user(req, as(admin_)));
    ASSERT_FALSE(refused.ok()) << "accepted: [" << weak << "]";
    EXPECT_EQ(refused.error().code, Code::kInvalidArgument);
    EXPECT_EQ(refused.error().field, "password");
    EXPECT_EQ(refused.error().message.rfind("password: is too easy to guess (", 0), 0u) << refused.error().message;
    EXPECT_EQ(refused.error().message.find(weak), std::string::npos);
  }
  req.set_password("a quiet harbour at dawn");
  EXPECT_TRUE(run(service_->create_user(req, as(admin_))).ok());

  auto practice = practice_request("weakadmin");
  practice.set_admin_password("password1234");
  auto refused = run(service_->create_practice(practice, {}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "admin_password");
}

}  // namespace
}  // namespace alliance::identity
