// Which peer may call which identity method: IdentityService behind a real RpcServer
// on 127.0.0.1:0 (real SQLite, real Redis), called over mutual TLS with the
// development certificates of each service. Only the gateway asserts end users;
// every other service calls as itself, and only the methods it needs.
#include <array>
#include <set>

#include "identity_rpc_fixture.hpp"

namespace alliance::identity {
namespace {

// Every identity method and the peers it answers; the rest of `kPeers` is refused.
const std::vector<std::pair<std::string, std::set<std::string>>> kExpectedTable = {
    {"CreatePractice", {"gateway"}},
    {"Login", {"gateway"}},
    {"Refresh", {"gateway"}},
    {"Logout", {"gateway"}},
    {"GetMe", {"gateway"}},
    {"CreateUser", {"gateway"}},
    {"ListUsers", {"gateway"}},
    {"SearchClients", {"gateway"}},
    {"SetTimeZone", {"gateway"}},
    {"AddCareTeamMember", {"gateway"}},
    {"ListCareTeam", {"gateway"}},
    {"RegisterDevice", {"gateway"}},
    {"ListDevices", {"gateway"}},
    {"RevokeDevice", {"gateway"}},
    {"SetIdentityKey", {"gateway"}},
    {"ApproveDevice", {"gateway"}},
    {"GetIdentityKey", {"gateway"}},
    {"SetArchiveKey", {"gateway"}},
    {"GetArchiveKey", {"gateway"}},
    {"CompleteTwoFactor", {"gateway"}},
    {"EnrolWithChallenge", {"gateway"}},
    {"StartTwoFactorEnrolment", {"gateway"}},
    {"ConfirmTwoFactor", {"gateway"}},
    {"DisableTwoFactor", {"gateway"}},
    {"GetTwoFactorStatus", {"gateway"}},
    {"ResetTwoFactor", {"gateway"}},
    {"GetVerificationKeys", {"gateway"}},
    {"ListRevokedSessions", {"gateway"}},
    {"LookupUsers", {"messaging", "scheduling", "reminders"}},
    {"CheckCareTeam", {"messaging", "scheduling"}},
    {"ListActiveDevices", {"messaging"}},
};
const std::array<std::string, 5> kPeers = {"gateway", "messaging", "scheduling", "reminders", "identity"};

using IdentityPeersTest = IdentityRpcTest;

TEST_F(IdentityPeersTest, EachMethodAnswersExactlyItsPeers) {
  for (const auto& [method, allowed] : kExpectedTable) {
    for (const auto& peer : kPeers) {
      auto r = call_empty(peer, method);
      const std::string what = method + " as " + peer;
      const bool refused =
          !r.ok() && r.error().code == Code::kPermissionDenied && r.error().message == kRefused;
      EXPECT_EQ(refused, !allowed.contains(peer)) << what << ": " << (r.ok() ? "ok" : r.error().message);
      // Every method in the table is registered under its name.
      if (!r.ok()) {
        EXPECT_EQ(r.error().message.find("unknown method"), std::string::npos) << what;
      }
    }
  }
}

TEST_F(IdentityPeersTest, RemindersLooksUpUsersAndNothingElse) {
  auto acme = make_practice("acme");
  auto client = make_user(acme.admin(), "cleo@acme.example", "client");
  pb::SetTimeZoneRequest zone;
  zone.set_user_id("me");
  zone.set_time_zone("Europe/Berlin");
  ASSERT_TRUE(run(service_->set_time_zone(zone, as(client))).ok());

  pb::LookupUsersRequest lookup;
  lookup.add_user_ids(client.id());
  auto found = call<pb::LookupUsersResponse>("reminders", "LookupUsers", lookup);
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->users_size(), 1);
  EXPECT_EQ(found->users(0).display_name(), "User client");
  EXPECT_EQ(found->users(0).time_zone(), "Europe/Berlin");
  ASSERT_EQ(found->practices_size(), 1);
  EXPECT_EQ(found->practices(0).name(), "Practice acme");
  EXPECT_EQ(found->practices(0).slug(), "acme");

  // Asserting an end user gets reminders nowhere.
  pb::CreateUserRequest create;
  create.set_email("sneaky@acme.example");
  create.set_password(kPassword);
  create.set_display_name("Sneaky");
  create.set_role("admin");
  expect_refused(call<pb::CreateUserResponse>("reminders", "CreateUser", create, caller_of(acme.admin())),
                 "CreateUser");
  expect_refused(call<pb::GetMeResponse>("reminders", "GetMe", pb::GetMeRequest{}, caller_of(client)), "GetMe");
  zone.set_time_zone("Asia/Tokyo");
  expect_refused(call<pb::SetTimeZoneResponse>("reminders", "SetTimeZone", zone, caller_of(client)),
                 "SetTimeZone");
  pb::ListActiveDevicesRequest devices;
  devices.set_practice_id(acme.practice().id());
  devices.add_user_ids(client.id());
  expect_refused(call<pb::ListActiveDevicesResponse>("reminders", "ListActiveDevices", devices),
                 "ListActiveDevices");

  // Nothing it asked for happened.
  EXPECT_FALSE(login("acme", "sneaky@acme.example", kPassword).ok());
  auto me = run(service_->get_me({}, as(client)));
  ASSERT_TRUE(me.ok()) << me.error().message;
  EXPECT_EQ(me->user().time_zone(), "Europe/Berlin");
}

TEST_F(IdentityPeersTest, MessagingListsDevicesButCannotSignInOrCreateUsers) {
  auto acme = make_practice("acme");
  auto client = make_user(acme.admin(), "cleo@acme.example", "client");

  pb::ListActiveDevicesRequest devices;
  devices.set_practice_id(acme.practice().id());
  devices.add_user_ids(client.id());
  auto listed = call<pb::ListActiveDevicesResponse>("messaging", "ListActiveDevices", devices);
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(listed->devices_size(), 0);

  pb::LoginRequest login_req;
  login_req.set_practice("acme");
  login_req.set_email("cleo@acme.example");
  login_req.set_password(kPassword);
  expect_refused(call<pb::TokenResponse>("messaging", "Login", login_req), "Login");

  pb::CreateUserRequest create;
  create.set_email("sneaky@acme.example");
  create.set_password(kPassword);
  create.set_display_name("Sneaky");
  create.set_role("therapist");
  expect_refused(call<pb::CreateUserResponse>("messaging", "CreateUser", create, caller_of(acme.admin())),
                 "CreateUser");
  EXPECT_FALSE(login("acme", "sneaky@acme.example", kPassword).ok());
}

TEST_F(IdentityPeersTest, GatewayServesUsersButNotTheServiceDirectory) {
  auto acme = make_practice("acme");
  auto client = make_user(acme.admin(), "cleo@acme.example", "client");

  pb::LoginRequest login_req;
  login_req.set_practice("acme");
  login_req.set_email("cleo@acme.example");
  login_req.set_password(kPassword);
  auto signed_in = call<pb::TokenResponse>("gateway", "Login", login_req);
  ASSERT_TRUE(signed_in.ok()) << signed_in.error().message;
  EXPECT_EQ(signed_in->user().id(), client.id());

  pb::SetTimeZoneRequest zone;
  zone.set_user_id("me");
  zone.set_time_zone("America/New_York");
  auto set = call<pb::SetTimeZoneResponse>("gateway", "SetTimeZone", zone, caller_of(client));
  ASSERT_TRUE(set.ok()) << set.error().message;
  auto me = call<pb::GetMeResponse>("gateway", "GetMe", pb::GetMeRequest{}, caller_of(client));
  ASSERT_TRUE(me.ok()) << me.error().message;
  EXPECT_EQ(me->user().time_zone(), "America/New_York");

  auto keys = call<pb::GetVerificationKeysResponse>("gateway", "GetVerificationKeys", pb::GetVerificationKeysRequest{});
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(keys->keys_size(), 1);

  // The device directory and the user directory are for the services that need them.
  pb::ListActiveDevicesRequest devices;
  devices.set_practice_id(acme.practice().id());
  devices.add_user_ids(client.id());
  expect_refused(call<pb::ListActiveDevicesResponse>("gateway", "ListActiveDevices", devices),
                 "ListActiveDevices");
  pb::LookupUsersRequest lookup;
  lookup.add_user_ids(client.id());
  expect_refused(call<pb::LookupUsersResponse>("gateway", "LookupUsers", lookup), "LookupUsers");
}

TEST_F(IdentityPeersTest, ServicesCallAsThemselvesNeverAsAUser) {
  auto acme = make_practice("acme");
  auto client = make_user(acme.admin(), "cleo@acme.example", "client");
  pb::LookupUsersRequest lookup;
  lookup.add_user_ids(client.id());
  for (const std::string peer : {"messaging", "scheduling"}) {
    auto as_user = call<pb::LookupUsersResponse>(peer, "LookupUsers", lookup, caller_of(client));
    ASSERT_FALSE(as_user.ok()) << peer;
    EXPECT_EQ(as_user.error().code, Code::kPermissionDenied) << peer;
    EXPECT_EQ(as_user.error().message, "this method is for services only") << peer;
    auto as_itself = call<pb::LookupUsersResponse>(peer, "LookupUsers", lookup);
    ASSERT_TRUE(as_itself.ok()) << peer << ": " << as_itself.error().message;
    EXPECT_EQ(as_itself->users_size(), 1) << peer;
  }
}

TEST_F(IdentityPeersTest, UntrustedCertificateReachesNothing) {
  pb::LookupUsersRequest lookup;
  lookup.add_user_ids(new_id());
  auto r = call<pb::LookupUsersResponse>("rogue", "LookupUsers", lookup);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kUnavailable) << r.error().message;
}

}  // namespace
}  // namespace alliance::identity
