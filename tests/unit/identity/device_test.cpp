// The device directory and the practice archive key, over a real SQLite file and a
// real redis-server: what a user registering, listing and revoking devices, an admin
// managing the archive key, and the messaging service looking recipients up would notice.
#include <set>

#include "device_fixture.hpp"

namespace alliance::identity {
namespace {

TEST_F(DeviceTest, RegisterIsIdempotentPerSessionAndRefusesOtherKeys) {
  auto p = make_practice("devices");
  make_user(p.admin(), "alex@devices.example", "client");
  auto alex = sign_in("devices", "alex@devices.example");
  DeviceKeys keys;

  auto first = register_device(alex, keys);
  ASSERT_TRUE(first.ok()) << first.error().message;
  const auto& d = first->device();
  EXPECT_FALSE(d.id().empty());
  EXPECT_EQ(d.user_id(), alex.tokens.user().id());
  EXPECT_EQ(d.name(), "Alex's phone");
  EXPECT_EQ(d.signing_public_key(), keys.signing.public_key_raw());
  EXPECT_EQ(d.agreement_public_key(), keys.agreement);
  EXPECT_EQ(d.agreement_key_signature(), keys.signature());
  EXPECT_NEAR(static_cast<double>(d.created_unix_ms()), static_cast<double>(now_unix_ms()), 5000);
  EXPECT_EQ(d.revoked_unix_ms(), 0);
  EXPECT_TRUE(d.current());

  // The app retries after a lost answer: the same device, not a second one.
  auto again = register_device(alex, keys, "Another name");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->device().id(), d.id());
  EXPECT_EQ(again->device().name(), "Alex's phone");
  EXPECT_EQ(again->device().created_unix_ms(), d.created_unix_ms());

  // Other keys on the same session are refused; a new session may register them.
  DeviceKeys other;
  auto conflict = register_device(alex, other);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, Code::kAlreadyExists);
  auto second_session = sign_in("devices", "alex@devices.example");
  auto second = register_device(second_session, other, "Alex's laptop");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_NE(second->device().id(), d.id());
  auto listed = list(alex);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->devices_size(), 2);

  // A caller without a session (or not signed in) has nothing to bind a device to.
  auto no_session = alex;
  no_session.ctx.caller.set_session_id("");
  EXPECT_EQ(register_device(no_session, DeviceKeys{}).error().code, Code::kUnauthenticated);
  no_session.ctx = net::CallContext{};
  EXPECT_EQ(register_device(no_session, DeviceKeys{}).error().code, Code::kUnauthenticated);
}

TEST_F(DeviceTest, BadSizesSignaturesAndNamesNameTheField) {
  auto p = make_practice("badkeys");
  auto admin = sign_in("badkeys", "admin@badkeys.example");
  DeviceKeys keys;
  auto attempt = [&](auto edit) {
    pb::RegisterDeviceRequest req;
    req.set_name("Front desk tablet");
    req.set_signing_public_key(keys.signing.public_key_raw());
    req.set_agreement_public_key(keys.agreement);
    req.set_agreement_key_signature(keys.signature());
    edit(req);
    return run(service_->register_device(req, admin.ctx));
  };
  auto expect_field = [](const Result<pb::DeviceResponse>& r, const std::string& field) {
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument) << field;
    EXPECT_EQ(r.error().field, field);
    EXPECT_EQ(r.error().message.rfind(field + ": ", 0), 0u) << r.error().message;
  };

  expect_field(attempt([](auto& r) { r.set_signing_public_key(std::string(31, 'k')); }), "signing_public_key");
  expect_field(attempt([](auto& r) { r.set_signing_public_key(""); }), "signing_public_key");
  expect_field(attempt([](auto& r) { r.set_agreement_public_key(std::string(33, 'a')); }),
               "agreement_public_key");
  expect_field(attempt([](auto& r) { r.set_agreement_key_signature(std::string(63, 's')); }),
               "agreement_key_signature");
  // Right sizes, wrong signatures: by another key, over another agreement key, without the context.
  DeviceKeys stranger;
  expect_field(attempt([&](auto& r) { r.set_agreement_key_signature(stranger.signature()); }),
               "agreement_key_signature");
  expect_field(attempt([&](auto& r) { r.set_agreement_public_key(stranger.agreement); }),
               "agreement_key_signature");
  expect_field(attempt([&](auto& r) { r.set_agreement_key_signature(keys.signing.sign(keys.agreement)); }),
               "agreement_key_signature");

  expect_field(attempt([](auto& r) { r.set_name(""); }), "name");
  expect_field(attempt([](auto& r) { r.set_name(std::string(101, 'n')); }), "name");
  expect_field(attempt([](auto& r) { r.set_name("Alex's\nphone"); }), "name");
  expect_field(attempt([](auto& r) { r.set_name("Alex's\x7fphone"); }), "name");
  expect_field(attempt([](auto& r) { r.set_name("Alex's \xc2\x85phone"); }), "name");  // U+0085 (NEL)

  // Nothing was stored by the refused attempts; 100 two-byte characters are a good name.
  auto listed = list(admin);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->devices_size(), 0);
  std::string accented;
  for (int i = 0; i < 100; ++i) accented += "\xc3\xa9";  // U+00E9
  auto ok = attempt([&](auto& r) { r.set_name(accented); });
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->device().name(), accented);
}

TEST_F(DeviceTest, ListShowsTheCurrentDeviceAndActiveBeforeRevoked) {
  auto p = make_practice("listdev");
  make_user(p.admin(), "alex@listdev.example", "client");
  auto phone = sign_in("listdev", "alex@listdev.example");
  auto laptop = sign_in("listdev", "alex@listdev.example");
  auto tablet = sign_in("listdev", "alex@listdev.example");
  const auto phone_id = device_of(phone, DeviceKeys{});
  const auto laptop_id = device_of(laptop, DeviceKeys{});
  const auto tablet_id = device_of(tablet, DeviceKeys{});
  device_of(sign_in("listdev", "admin@listdev.example"), DeviceKeys{});  // someone else's

  auto seen = list(laptop);
  ASSERT_TRUE(seen.ok()) << seen.error().message;
  ASSERT_EQ(seen->devices_size(), 3);
  EXPECT_EQ(ids(seen->devices()), (std::vector<std::string>{phone_id, laptop_id, tablet_id}));
  for (const auto& d : seen->devices()) {
    EXPECT_EQ(d.current(), d.id() == laptop_id) << d.id();
    EXPECT_EQ(d.revoked_unix_ms(), 0);
  }

  // The phone is revoked from the laptop: it moves after the active ones, with its time.
  ASSERT_TRUE(revoke(laptop.ctx, phone_id).ok());
  seen = list(tablet);
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(ids(seen->devices()), (std::vector<std::string>{laptop_id, tablet_id, phone_id}));
  EXPECT_EQ(seen->devices(0).revoked_unix_ms(), 0);
  EXPECT_EQ(seen->devices(1).revoked_unix_ms(), 0);
  EXPECT_TRUE(seen->devices(1).current());
  EXPECT_NEAR(static_cast<double>(seen->devices(2).revoked_unix_ms()), static_cast<double>(now_unix_ms()),
              5000);
  EXPECT_FALSE(seen->devices(2).current());
}

TEST_F(DeviceTest, RevokingOwnDeviceEndsItsSessionAndIsPublished) {
  make_practice("revoke");
  auto phone = sign_in("revoke", "admin@revoke.example");
  auto laptop = sign_in("revoke", "admin@revoke.example");
  const auto phone_id = device_of(phone, DeviceKeys{});

  std::vector<std::string> received;
  redis::Subscriber sub(io_.get_executor(), testing::redis_login(*redis_server_, "admin"),
                        [&](std::string_view channel, std::string_view payload) {
                          if (channel == kRevocationChannel) received.emplace_back(payload);
                        });
  sub.start();
  sub.subscribe(std::string(kRevocationChannel));
  ASSERT_TRUE(run(sub.wait_subscribed(std::string(kRevocationChannel), 3s)));

  auto revoked = revoke(laptop.ctx, phone_id);
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  EXPECT_EQ(revoked->device().id(), phone_id);
  EXPECT_GT(revoked->device().revoked_unix_ms(), 0);
  EXPECT_FALSE(revoked->device().current());

  // Gateways hear of it (and close the phone's sockets); its refresh token is dead.
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while (received.empty() && std::chrono::steady_clock::now() < deadline) io_.run_one_for(50ms);
  sub.stop();
  ASSERT_EQ(received.size(), 1u);
  alliance::push::v1::SessionRevoked msg;
  ASSERT_TRUE(msg.ParseFromString(received[0]));
  EXPECT_EQ(msg.session_id(), phone.session_id);
  auto r = refresh(phone.tokens.refresh_token());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kUnauthenticated);
  EXPECT_EQ(r.error().field, "refresh_token");
  auto revoked_sessions = run(service_->list_revoked_sessions({}, {}));
  ASSERT_TRUE(revoked_sessions.ok());
  ASSERT_EQ(revoked_sessions->session_ids_size(), 1);
  EXPECT_EQ(revoked_sessions->session_ids(0), phone.session_id);
  // The laptop's session is untouched.
  EXPECT_TRUE(refresh(laptop.tokens.refresh_token()).ok());

  // Twice: the already-revoked device, with its first revocation time.
  auto twice = revoke(laptop.ctx, phone_id);
  ASSERT_TRUE(twice.ok()) << twice.error().message;
  EXPECT_EQ(twice->device().revoked_unix_ms(), revoked->device().revoked_unix_ms());

  // A device may revoke itself (signing out of that device).
  const auto laptop_id = device_of(laptop, DeviceKeys{});
  auto self = revoke(laptop.ctx, laptop_id);
  ASSERT_TRUE(self.ok()) << self.error().message;
  EXPECT_TRUE(self->device().current());
  EXPECT_GT(self->device().revoked_unix_ms(), 0);
}

TEST_F(DeviceTest, RegistrationsAndArchiveKeyChangesAreAnnouncedForCaches) {
  // Messaging caches the device directory; it must hear of every new device and
  // archive key at once, or a message could miss a recipient.
  auto p = make_practice("announce");
  auto admin = sign_in("announce", "admin@announce.example");
  std::vector<std::string> received;
  redis::Subscriber sub(io_.get_executor(), testing::redis_login(*redis_server_, "admin"),
                        [&](std::string_view channel, std::string_view payload) {
                          if (channel == kDeviceChannel) received.emplace_back(payload);
                        });
  sub.start();
  sub.subscribe(std::string(kDeviceChannel));
  ASSERT_TRUE(run(sub.wait_subscribed(std::string(kDeviceChannel), 3s)));
  auto wait_for = [&](std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (received.size() < n && std::chrono::steady_clock::now() < deadline) io_.run_one_for(50ms);
  };

  DeviceKeys keys;
  ASSERT_TRUE(register_device(admin, keys).ok());
  wait_for(1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0], p.admin().id());
  ASSERT_TRUE(register_device(admin, keys).ok());  // the same device again: nothing new to announce
  ASSERT_TRUE(set_archive_key(admin.ctx, random_bytes(32)).ok());
  wait_for(2);
  sub.stop();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[1], "practice:" + p.practice().id());
}

TEST_F(DeviceTest, OthersDevicesAreNotFoundUnlessTheCallerAdministersTheirPractice) {
  auto p = make_practice("owner");
  make_user(p.admin(), "alex@owner.example", "client");
  make_user(p.admin(), "blair@owner.example", "client");
  make_user(p.admin(), "tess@owner.example", "therapist");
  make_user(p.admin(), "desk@owner.example", "front_desk");
  make_practice("owner-elsewhere");
  auto alex = sign_in("owner", "alex@owner.example");
  const auto alex_device = device_of(alex, DeviceKeys{});

  auto expect_hidden = [&](const Result<pb::DeviceResponse>& r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Code::kNotFound);
    EXPECT_EQ(r.error().field, "device_id");
    EXPECT_EQ(r.error().message, "device_id: no such device");
  };
  expect_hidden(revoke(sign_in("owner", "blair@owner.example").ctx, alex_device));
  expect_hidden(revoke(sign_in("owner", "tess@owner.example").ctx, alex_device));
  expect_hidden(revoke(sign_in("owner", "desk@owner.example").ctx, alex_device));
  expect_hidden(revoke(sign_in("owner-elsewhere", "admin@owner-elsewhere.example").ctx, alex_device));
  expect_hidden(revoke(alex.ctx, "no-such-device"));  // the same answer as someone else's
  auto empty = revoke(alex.ctx, "");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().field, "device_id");

  // None of that touched Alex's device or session.
  auto still = active(p.practice().id(), {alex.tokens.user().id()});
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(ids(still->devices()), std::vector<std::string>{alex_device});
  ASSERT_TRUE(refresh(alex.tokens.refresh_token()).ok());

  // The practice's admin may revoke it (a lost phone); Alex's session ends.
  auto by_admin = revoke(sign_in("owner", "admin@owner.example").ctx, alex_device);
  ASSERT_TRUE(by_admin.ok()) << by_admin.error().message;
  EXPECT_GT(by_admin->device().revoked_unix_ms(), 0);
  EXPECT_EQ(by_admin->device().user_id(), alex.tokens.user().id());
  auto gone = active(p.practice().id(), {alex.tokens.user().id()});
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->devices_size(), 0);
  auto alex_list = list(alex);
  ASSERT_TRUE(alex_list.ok());
  ASSERT_EQ(alex_list->devices_size(), 1);
  EXPECT_GT(alex_list->devices(0).revoked_unix_ms(), 0);
}

TEST_F(DeviceTest, LogoutAndRefreshReuseMakeTheDeviceInactive) {
  auto p = make_practice("logout");
  auto first = sign_in("logout", "admin@logout.example");
  const auto first_device = device_of(first, DeviceKeys{});
  auto second = sign_in("logout", "admin@logout.example");
  const auto second_device = device_of(second, DeviceKeys{});
  const auto user_id = first.tokens.user().id();

  auto before = active(p.practice().id(), {user_id}, first.session_id);
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(ids(before->devices()), (std::vector<std::string>{first_device, second_device}));
  EXPECT_EQ(before->session_device_id(), first_device);

  ASSERT_TRUE(run(service_->logout({}, first.ctx)).ok());
  auto after = active(p.practice().id(), {user_id}, first.session_id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(ids(after->devices()), std::vector<std::string>{second_device});
  EXPECT_EQ(after->session_device_id(), "");
  auto listed = list(second);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->devices_size(), 2);
  EXPECT_EQ(listed->devices(1).id(), first_device);
  EXPECT_GT(listed->devices(1).revoked_unix_ms(), 0);

  // A replayed refresh token revokes the second session, and so its device.
  ASSERT_TRUE(refresh(second.tokens.refresh_token()).ok());
  ASSERT_FALSE(refresh(second.tokens.refresh_token()).ok());
  auto none = active(p.practice().id(), {user_id}, second.session_id);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->devices_size(), 0);
  EXPECT_EQ(none->session_device_id(), "");
}

TEST_F(DeviceTest, SessionExpiryMakesTheDeviceInactive) {
  refresh_token_ttl_ = 1s;
  rebuild();
  auto p = make_practice("expiry");
  auto without_device = sign_in("expiry", "admin@expiry.example");  // expires first
  auto s = sign_in("expiry", "admin@expiry.example");
  const auto device = device_of(s, DeviceKeys{});
  const auto user_id = s.tokens.user().id();
  auto now_active = active(p.practice().id(), {user_id});
  ASSERT_TRUE(now_active.ok());
  ASSERT_EQ(now_active->devices_size(), 1);

  EXPECT_TRUE(testing::wait_until(
      [&] {
        auto r = active(p.practice().id(), {user_id});
        return r.ok() && r->devices_size() == 0;
      },
      5s));
  auto listed = list(s);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->devices_size(), 1);
  EXPECT_EQ(listed->devices(0).id(), device);
  EXPECT_GT(listed->devices(0).revoked_unix_ms(), 0);
  // Registering on an expired session is refused.
  EXPECT_EQ(register_device(without_device, DeviceKeys{}).error().code, Code::kUnauthenticated);
}

TEST_F(DeviceTest, AtMostTwentyActiveDevicesPerUser) {
  make_practice("many");
  std::vector<std::string> devices;
  for (int i = 0; i < 20; ++i)
    devices.push_back(device_of(sign_in("many", "admin@many.example"), DeviceKeys{}));
  auto one_more = sign_in("many", "admin@many.example");
  auto refused = register_device(one_more, DeviceKeys{});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kResourceExhausted);
  // Revoking one makes room.
  ASSERT_TRUE(revoke(one_more.ctx, devices[0]).ok());
  auto accepted = register_device(one_more, DeviceKeys{});
  EXPECT_TRUE(accepted.ok()) << accepted.error().message;
}

TEST_F(DeviceTest, ArchiveKeyIsSetByAnAdminAndReadByThePractice) {
  auto p = make_practice("archive");
  auto client = make_user(p.admin(), "alex@archive.example", "client");
  auto therapist = make_user(p.admin(), "tess@archive.example", "therapist");
  auto q = make_practice("archive-elsewhere");

  auto none = run(service_->get_archive_key({}, as(client)));
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_FALSE(none->has_archive_key());

  const std::string key = random_bytes(32);
  auto denied = set_archive_key(as(therapist), key);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, Code::kPermissionDenied);
  EXPECT_EQ(set_archive_key(as(client), key).error().code, Code::kPermissionDenied);
  EXPECT_EQ(set_archive_key(net::CallContext{}, key).error().code, Code::kUnauthenticated);
  auto bad = set_archive_key(as(p.admin()), std::string(31, 'x'));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  EXPECT_EQ(bad.error().field, "agreement_public_key");

  auto set = set_archive_key(as(p.admin()), key);
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_TRUE(set->has_archive_key());
  EXPECT_EQ(set->archive_key().practice_id(), p.practice().id());
  EXPECT_EQ(set->archive_key().agreement_public_key(), key);
  EXPECT_NEAR(static_cast<double>(set->archive_key().set_unix_ms()), static_cast<double>(now_unix_ms()), 5000);

  for (const auto& reader : {client, therapist}) {
    auto got = run(service_->get_archive_key({}, as(reader)));
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(got->has_archive_key());
    EXPECT_EQ(got->archive_key().agreement_public_key(), key);
    EXPECT_EQ(got->archive_key().set_unix_ms(), set->archive_key().set_unix_ms());
  }
  auto elsewhere = run(service_->get_archive_key({}, as(q.admin())));
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_FALSE(elsewhere->has_archive_key());

  auto removed = set_archive_key(as(p.admin()), "");
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_FALSE(removed->has_archive_key());
  auto after = run(service_->get_archive_key({}, as(client)));
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->has_archive_key());
}

TEST_F(DeviceTest, ListActiveDevicesKeepsToThePracticeAndActiveDevices) {
  auto p = make_practice("recipients");
  make_user(p.admin(), "alex@recipients.example", "client");
  make_user(p.admin(), "tess@recipients.example", "therapist");
  auto q = make_practice("recipients-elsewhere");

  auto alex_phone = sign_in("recipients", "alex@recipients.example");
  auto alex_old = sign_in("recipients", "alex@recipients.example");
  auto alex_laptop = sign_in("recipients", "alex@recipients.example");
  auto tess = sign_in("recipients", "tess@recipients.example");
  auto stranger = sign_in("recipients-elsewhere", "admin@recipients-elsewhere.example");
  const auto phone_id = device_of(alex_phone, DeviceKeys{});
  const auto old_id = device_of(alex_old, DeviceKeys{});
  const auto laptop_id = device_of(alex_laptop, DeviceKeys{});
  const auto tess_id = device_of(tess, DeviceKeys{});
  device_of(stranger, DeviceKeys{});
  ASSERT_TRUE(revoke(alex_old.ctx, old_id).ok());
  const std::string archive = random_bytes(32);
  ASSERT_TRUE(set_archive_key(as(p.admin()), archive).ok());

  const std::string alex_id = alex_phone.tokens.user().id();
  const std::string tess_user = tess.tokens.user().id();
  const std::string stranger_id = stranger.tokens.user().id();
  auto r = active(p.practice().id(), {tess_user, alex_id, stranger_id, "", alex_id, "no-such-user"},
                  alex_laptop.session_id);
  ASSERT_TRUE(r.ok()) << r.error().message;
  // By user id, then creation; the other practice's user and the revoked device are left out.
  std::vector<std::string> expected = alex_id < tess_user
                                          ? std::vector<std::string>{phone_id, laptop_id, tess_id}
                                          : std::vector<std::string>{tess_id, phone_id, laptop_id};
  EXPECT_EQ(ids(r->devices()), expected);
  for (const auto& d : r->devices()) {
    EXPECT_EQ(d.revoked_unix_ms(), 0);
    EXPECT_EQ(d.agreement_public_key().size(), 32u);
  }
  EXPECT_EQ(r->session_device_id(), laptop_id);
  ASSERT_TRUE(r->has_archive_key());
  EXPECT_EQ(r->archive_key().agreement_public_key(), archive);
  EXPECT_EQ(r->archive_key().practice_id(), p.practice().id());

  // A session of another practice, or one without a device, names no device.
  EXPECT_EQ(active(p.practice().id(), {alex_id}, stranger.session_id)->session_device_id(), "");
  auto fresh = sign_in("recipients", "alex@recipients.example");
  EXPECT_EQ(active(p.practice().id(), {alex_id}, fresh.session_id)->session_device_id(), "");
  // The other practice sees only its own user's device, and has no archive key.
  auto other = active(q.practice().id(), {alex_id, stranger_id});
  ASSERT_TRUE(other.ok());
  ASSERT_EQ(other->devices_size(), 1);
  EXPECT_EQ(other->devices(0).user_id(), stranger_id);
  EXPECT_FALSE(other->has_archive_key());

  // Limits and who may call.
  std::vector<std::string> too_many(101, alex_id);
  auto big = active(p.practice().id(), too_many);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().field, "user_ids");
  auto no_practice = active("", {alex_id});
  ASSERT_FALSE(no_practice.ok());
  EXPECT_EQ(no_practice.error().field, "practice_id");
  pb::ListActiveDevicesRequest req;
  req.set_practice_id(p.practice().id());
  req.add_user_ids(alex_id);
  auto as_user = run(service_->list_active_devices(req, alex_phone.ctx));
  ASSERT_FALSE(as_user.ok());
  EXPECT_EQ(as_user.error().code, Code::kPermissionDenied);
}

TEST_F(DeviceTest, IncludeInactiveAddsRevokedAndLoggedOutDevicesAfterTheActiveOnesMarkedAsSuch) {
  auto p = make_practice("history");
  make_user(p.admin(), "alex@history.example", "client");
  make_user(p.admin(), "tess@history.example", "therapist");
  auto q = make_practice("history-elsewhere");

  auto alex_phone = sign_in("history", "alex@history.example");
  auto tess_desk = sign_in("history", "tess@history.example");
  auto tess_old = sign_in("history", "tess@history.example");
  auto tess_laptop = sign_in("history", "tess@history.example");
  auto stranger = sign_in("history-elsewhere", "admin@history-elsewhere.example");
  const auto phone_id = device_of(alex_phone, DeviceKeys{});
  const auto desk_id = device_of(tess_desk, DeviceKeys{});
  const auto old_id = device_of(tess_old, DeviceKeys{});
  const auto laptop_id = device_of(tess_laptop, DeviceKeys{});
  device_of(stranger, DeviceKeys{});
  const std::string alex_id = alex_phone.tokens.user().id();
  const std::string tess_id = tess_desk.tokens.user().id();
  const std::string stranger_id = stranger.tokens.user().id();

  // Tess revokes her old device, then logs out of the laptop (which ends its device too).
  ASSERT_TRUE(revoke(tess_desk.ctx, old_id).ok());
  ASSERT_TRUE(run(service_->logout({}, tess_laptop.ctx)).ok());

  // Without the flag nothing changes: only active devices.
  auto plain = active(p.practice().id(), {alex_id, tess_id});
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  std::vector<std::string> plain_ids = ids(plain->devices());
  EXPECT_EQ(std::set<std::string>(plain_ids.begin(), plain_ids.end()), (std::set<std::string>{phone_id, desk_id}));

  // With it, both inactive devices follow every active one, with when they stopped;
  // the asking session's device is still only ever an active one.
  auto all = active(p.practice().id(), {alex_id, tess_id, stranger_id}, tess_laptop.session_id, true);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->devices_size(), 4);
  std::vector<std::string> first_two{all->devices(0).id(), all->devices(1).id()};
  EXPECT_EQ(std::set<std::string>(first_two.begin(), first_two.end()), (std::set<std::string>{phone_id, desk_id}));
  for (int i = 0; i < 2; ++i) EXPECT_EQ(all->devices(i).revoked_unix_ms(), 0) << all->devices(i).id();
  // Both of Tess's inactive devices, most recently stopped first.
  std::vector<std::string> last_two{all->devices(2).id(), all->devices(3).id()};
  EXPECT_EQ(std::set<std::string>(last_two.begin(), last_two.end()), (std::set<std::string>{laptop_id, old_id}));
  for (int i = 2; i < 4; ++i) {
    const auto& d = all->devices(i);
    EXPECT_EQ(d.user_id(), tess_id);
    EXPECT_NEAR(static_cast<double>(d.revoked_unix_ms()), static_cast<double>(now_unix_ms()), 5000) << d.id();
    EXPECT_EQ(d.signing_public_key().size(), 32u);
    EXPECT_EQ(d.agreement_key_signature().size(), 64u);
  }
  EXPECT_GE(all->devices(2).revoked_unix_ms(), all->devices(3).revoked_unix_ms());
  EXPECT_EQ(all->session_device_id(), "");
  EXPECT_EQ(active(p.practice().id(), {tess_id}, tess_desk.session_id, true)->session_device_id(), desk_id);

  // Another practice's inactive devices stay out of it, and the other way round.
  auto gone_stranger = sign_in("history-elsewhere", "admin@history-elsewhere.example");
  const auto gone_id = device_of(gone_stranger, DeviceKeys{});
  ASSERT_TRUE(run(service_->logout({}, gone_stranger.ctx)).ok());
  auto mine = active(p.practice().id(), {alex_id, tess_id, stranger_id}, "", true);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->devices_size(), 4);
  auto theirs = active(q.practice().id(), {alex_id, tess_id, stranger_id}, "", true);
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->devices_size(), 2);
  EXPECT_EQ(theirs->devices(0).revoked_unix_ms(), 0);
  EXPECT_EQ(theirs->devices(1).id(), gone_id);
  EXPECT_NE(theirs->devices(1).revoked_unix_ms(), 0);
}

}  // namespace
}  // namespace alliance::identity
