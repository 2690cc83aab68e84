// IdentityService built directly (no RPC) over a real SQLite file in a temp dir and a
// real redis-server: the rules a practice's users would notice.
#include "identity_service_fixture.hpp"

namespace alliance::identity {
namespace {

TEST_F(IdentityServiceTest, CreatePracticeNeedsTheOperatorToken) {
  pb::CreatePracticeRequest req;
  req.set_operator_token("not-the-operator-token");
  req.set_name("Northside");
  req.set_slug("northside");
  req.set_admin_email("admin@northside.example");
  req.set_admin_password(kPassword);
  req.set_admin_display_name("Admin");
  auto r = run(service_->create_practice(req, {}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kPermissionDenied);
  EXPECT_EQ(r.error().message, "operator token is not valid");
  EXPECT_EQ(r.error().field, "operator_token");

  req.set_operator_token(kOperatorToken);
  req.set_admin_email("not-an-email");
  r = run(service_->create_practice(req, {}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "admin_email");

  req.set_admin_email("Admin@Northside.example");
  r = run(service_->create_practice(req, {}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->practice().slug(), "northside");
  EXPECT_EQ(r->admin().role(), "admin");
  EXPECT_EQ(r->admin().email(), "admin@northside.example");
  EXPECT_TRUE(login("northside", "admin@northside.example", kPassword).ok());

  r = run(service_->create_practice(req, {}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kAlreadyExists);
  EXPECT_EQ(r.error().field, "slug");
}

TEST_F(IdentityServiceTest, OnlyAnAdminCreatesUsersAndEmailsAreUniquePerPractice) {
  auto p = make_practice("acme");
  auto therapist = make_user(p.admin(), "Tess@Acme.example", "therapist");
  EXPECT_EQ(therapist.email(), "tess@acme.example");

  pb::CreateUserRequest req;
  req.set_email("new@acme.example");
  req.set_password(kPassword);
  req.set_display_name("New");
  req.set_role("client");
  auto r = run(service_->create_user(req, as(therapist)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kPermissionDenied);

  r = run(service_->create_user(req, net::CallContext{}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kUnauthenticated);

  req.set_email("TESS@acme.example");
  r = run(service_->create_user(req, as(p.admin())));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kAlreadyExists);
  EXPECT_EQ(r.error().field, "email");

  req.set_email("new@acme.example");
  req.set_role("owner");
  r = run(service_->create_user(req, as(p.admin())));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "role");

  // The same email may exist in another practice.
  auto other = make_practice("other");
  make_user(other.admin(), "tess@acme.example", "client");
}

TEST_F(IdentityServiceTest, ListUsersIsForStaffOfTheSamePractice) {
  auto p = make_practice("listing");
  auto desk = make_user(p.admin(), "desk@listing.example", "front_desk");
  auto client = make_user(p.admin(), "client@listing.example", "client");
  make_practice("elsewhere");

  pb::ListUsersRequest req;
  auto all = run(service_->list_users(req, as(desk)));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->users_size(), 3);
  req.set_role("client");
  auto clients = run(service_->list_users(req, as(p.admin())));
  ASSERT_TRUE(clients.ok());
  ASSERT_EQ(clients->users_size(), 1);
  EXPECT_EQ(clients->users(0).id(), client.id());
  EXPECT_FALSE(run(service_->list_users(req, as(client))).ok());

  auto me = run(service_->get_me({}, as(client)));
  ASSERT_TRUE(me.ok());
  EXPECT_EQ(me->user().id(), client.id());
  EXPECT_EQ(me->practice().slug(), "listing");
}

TEST_F(IdentityServiceTest, LoginIssuesAnAccessTokenTheGatewayCanVerify) {
  auto p = make_practice("tokens");
  auto t = login("tokens", "ADMIN@tokens.example", kPassword);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->token_type(), "Bearer");
  EXPECT_EQ(t->expires_in(), 300);
  EXPECT_EQ(t->user().id(), p.admin().id());
  EXPECT_EQ(crypto::base64url_decode(t->refresh_token()).value_or("").size(), 32u);

  auto claims = verify(t->access_token());
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->subject, p.admin().id());
  EXPECT_EQ(claims->practice_id, p.practice().id());
  EXPECT_EQ(claims->role, "admin");
  EXPECT_FALSE(claims->session_id.empty());
  EXPECT_NEAR(static_cast<double>(claims->expires_at), now_unix_ms() / 1000.0 + 300, 5);

  // The keys are for services only.
  auto refused = run(service_->get_verification_keys({}, as(p.admin())));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kPermissionDenied);
}

TEST_F(IdentityServiceTest, WrongPasswordAndUnknownUserAnswerTheSame) {
  make_practice("same");
  auto wrong = login("same", "admin@same.example", "wrong password here", "198.51.100.1");
  auto unknown = login("same", "nobody@same.example", kPassword, "198.51.100.2");
  auto no_practice = login("nosuch", "admin@same.example", kPassword, "198.51.100.3");
  for (auto* r : {&wrong, &unknown, &no_practice}) {
    ASSERT_FALSE(r->ok());
    EXPECT_EQ(r->error().code, Code::kUnauthenticated);
    EXPECT_EQ(r->error().message, "invalid email or password");
    EXPECT_EQ(r->error().field, "");
    EXPECT_EQ(r->error().retry_after.count(), 0);
  }
}

TEST_F(IdentityServiceTest, BackoffLocksExistingAndUnknownAccountsAlike) {
  make_practice("locks");
  for (const std::string email : {"admin@locks.example", "ghost@locks.example"}) {
    for (int i = 0; i < 3; ++i) {
      auto r = login("locks", email, "wrong password here", "192.0.2." + std::to_string(i));
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, Code::kUnauthenticated) << email << " attempt " << i;
    }
    // Locked now, from any address, and the right password does not help.
    auto locked = login("locks", email, kPassword, "192.0.2.99");
    ASSERT_FALSE(locked.ok()) << email;
    EXPECT_EQ(locked.error().code, Code::kResourceExhausted);
    EXPECT_EQ(locked.error().message, "too many failed sign-in attempts; try again later");
    EXPECT_GT(locked.error().retry_after.count(), 0);
    EXPECT_LE(locked.error().retry_after.count(), 1000);
  }
  EXPECT_NE(redis_server_->cli(
                {"EXISTS", "identity:loginfail:acct:" + login_account_key("locks", "ghost@locks.example")}),
            "0\n");

  // The first lock lasts one second; after it the right password works again.
  EXPECT_TRUE(testing::wait_until([&] { return login("locks", "admin@locks.example", kPassword).ok(); }, 3s));
}

TEST_F(IdentityServiceTest, BackoffPerSourceAddressAcrossAccounts) {
  make_practice("spray");
  // 4 x login_backoff_after failures from one address, each on a different account.
  for (int i = 0; i < 12; ++i) {
    auto r =
        login("spray", "user" + std::to_string(i) + "@spray.example", "wrong password here", "192.0.2.200");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Code::kUnauthenticated) << i;
  }
  auto from_attacker = login("spray", "admin@spray.example", kPassword, "192.0.2.200");
  ASSERT_FALSE(from_attacker.ok());
  EXPECT_EQ(from_attacker.error().code, Code::kResourceExhausted);
  EXPECT_TRUE(login("spray", "admin@spray.example", kPassword, "192.0.2.201").ok());
}

TEST_F(IdentityServiceTest, LoginAndBackoffWorkWithoutRedis) {
  service_.reset();
  redis_->stop();
  store_.reset();
  auto nowhere = redis::parse_options(HostPort{"127.0.0.1", testing::free_port()});
  nowhere.connect_timeout = 200ms;
  build(nowhere, /*redis_up=*/false);
  ASSERT_FALSE(redis_->connected());
  make_practice("offline");
  ASSERT_TRUE(login("offline", "admin@offline.example", kPassword).ok());
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(login("offline", "admin@offline.example", "wrong password here").ok());
  auto locked = login("offline", "admin@offline.example", kPassword);
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.error().code, Code::kResourceExhausted);
}

TEST_F(IdentityServiceTest, RefreshRotatesAndReuseKillsTheSession) {
  make_practice("rotate");
  auto first = login("rotate", "admin@rotate.example", kPassword);
  ASSERT_TRUE(first.ok());
  auto second = refresh(first->refresh_token());
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_NE(second->refresh_token(), first->refresh_token());
  auto claims = verify(second->access_token());
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(claims->session_id, verify(first->access_token())->session_id);

  // Replaying the rotated token: reuse detected, the whole session is revoked.
  auto replay = refresh(first->refresh_token());
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code, Code::kUnauthenticated);
  EXPECT_EQ(replay.error().message, "refresh token was reused; the session has been revoked");
  auto after = refresh(second->refresh_token());
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, Code::kUnauthenticated);
  EXPECT_EQ(after.error().message, "refresh token is not valid");
  EXPECT_EQ(after.error().field, "refresh_token");

  auto revoked = run(service_->list_revoked_sessions({}, {}));
  ASSERT_TRUE(revoked.ok());
  ASSERT_EQ(revoked->session_ids_size(), 1);
  EXPECT_EQ(revoked->session_ids(0), claims->session_id);

  auto garbage = refresh("not-a-token");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().message, "refresh token is not valid");
}

TEST_F(IdentityServiceTest, LogoutRevokesAndPublishesTheRevocation) {
  make_practice("bye");
  auto t = login("bye", "admin@bye.example", kPassword);
  ASSERT_TRUE(t.ok());
  auto claims = verify(t->access_token());
  ASSERT_TRUE(claims.ok());

  std::vector<std::string> received;
  redis::Subscriber sub(io_.get_executor(),
                        testing::redis_login(*redis_server_, "admin"),
                        [&](std::string_view channel, std::string_view payload) {
                          if (channel == kRevocationChannel) received.emplace_back(payload);
                        });
  sub.start();
  sub.subscribe(std::string(kRevocationChannel));
  ASSERT_TRUE(run(sub.wait_subscribed(std::string(kRevocationChannel), 3s)));

  pb::User me = t->user();
  auto out = run(service_->logout({}, as(me, claims->session_id)));
  ASSERT_TRUE(out.ok()) << out.error().message;

  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (received.empty() && std::chrono::steady_clock::now() < deadline) io_.run_one_for(50ms);
  sub.stop();
  ASSERT_EQ(received.size(), 1u);
  alliance::push::v1::SessionRevoked msg;
  ASSERT_TRUE(msg.ParseFromString(received[0]));
  EXPECT_EQ(msg.session_id(), claims->session_id);
  EXPECT_NEAR(static_cast<double>(msg.expires_unix_ms()), static_cast<double>(now_unix_ms() + 300'000), 5000);

  auto r = refresh(t->refresh_token());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "refresh token is not valid");
  auto revoked = run(service_->list_revoked_sessions({}, {}));
  ASSERT_TRUE(revoked.ok());
  ASSERT_EQ(revoked->session_ids_size(), 1);
  EXPECT_EQ(revoked->session_ids(0), claims->session_id);
  EXPECT_EQ(run(service_->list_revoked_sessions({}, as(me))).error().code, Code::kPermissionDenied);
}

TEST_F(IdentityServiceTest, CareTeamRules) {
  auto p = make_practice("care");
  auto client = make_user(p.admin(), "client@care.example", "client");
  auto other_client = make_user(p.admin(), "client2@care.example", "client");
  auto therapist = make_user(p.admin(), "tess@care.example", "therapist");
  auto other_therapist = make_user(p.admin(), "theo@care.example", "therapist");
  auto desk = make_user(p.admin(), "desk@care.example", "front_desk");
  auto q = make_practice("care-elsewhere");
  auto foreign_therapist = make_user(q.admin(), "tess@elsewhere.example", "therapist");
  auto foreign_client = make_user(q.admin(), "client@elsewhere.example", "client");

  auto link = [&](const pb::User& who, const pb::User& c, const pb::User& t) {
    pb::AddCareTeamMemberRequest req;
    req.set_client_id(c.id());
    req.set_therapist_id(t.id());
    return run(service_->add_care_team_member(req, as(who)));
  };
  auto ok = link(p.admin(), client, therapist);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(link(p.admin(), client, therapist).error().code, Code::kAlreadyExists);
  EXPECT_EQ(link(desk, client, other_therapist).error().code, Code::kPermissionDenied);
  auto cross = link(p.admin(), client, foreign_therapist);
  EXPECT_EQ(cross.error().code, Code::kNotFound);
  EXPECT_EQ(cross.error().field, "therapist_id");
  EXPECT_EQ(link(p.admin(), foreign_client, therapist).error().code, Code::kNotFound);
  EXPECT_EQ(link(p.admin(), therapist, other_therapist).error().code, Code::kNotFound);  // not a client
  EXPECT_EQ(link(p.admin(), client, other_client).error().code, Code::kNotFound);        // not a therapist

  auto list = [&](const pb::User& who, const std::string& client_id) {
    pb::ListCareTeamRequest req;
    req.set_client_id(client_id);
    return run(service_->list_care_team(req, as(who)));
  };
  auto own = list(client, "");
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(own->links_size(), 1);
  EXPECT_EQ(own->links(0).therapist_id(), therapist.id());
  EXPECT_EQ(list(other_client, client.id()).error().code, Code::kNotFound);
  EXPECT_TRUE(list(therapist, client.id()).ok());
  EXPECT_EQ(list(other_therapist, client.id()).error().code, Code::kNotFound);
  EXPECT_TRUE(list(desk, client.id()).ok());
  EXPECT_TRUE(list(p.admin(), client.id()).ok());
  EXPECT_EQ(list(q.admin(), client.id()).error().code, Code::kNotFound);
  EXPECT_EQ(list(p.admin(), foreign_client.id()).error().code, Code::kNotFound);
}

}  // namespace
}  // namespace alliance::identity
