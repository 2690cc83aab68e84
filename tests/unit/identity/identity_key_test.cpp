// Identity keys, cross-signed devices and the signed archive key, over a real SQLite
// file and a real redis-server: what a user setting up their first device, approving
// a second one or starting over, a peer looking up their key, the messaging service
// choosing recipients, and an admin publishing a signed archive key would notice.
#include <algorithm>
#include <set>

#include "device_fixture.hpp"

namespace alliance::identity {
namespace {

class IdentityKeyTest : public DeviceTest {
 protected:
  static void expect_error(const auto& r, Code code, const std::string& field) {
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_EQ(r.error().code, code) << r.error().message;
    EXPECT_EQ(r.error().field, field) << r.error().message;
    EXPECT_EQ(r.error().message.rfind(field + ": ", 0), 0u) << r.error().message;
  }

  // The device `device_id` in a ListDevices answer (fails the test if absent).
  static pb::Device find(const pb::ListDevicesResponse& list, const std::string& device_id) {
    for (const auto& d : list.devices())
      if (d.id() == device_id) return d;
    ADD_FAILURE() << "device " << device_id << " not listed";
    return {};
  }
};

TEST_F(IdentityKeyTest, TheFirstDeviceSetsTheKeyAndIsApproved) {
  auto p = make_practice("idkey");
  make_user(p.admin(), "alex@idkey.example", "client");
  auto alex = sign_in("idkey", "alex@idkey.example");
  const auto phone = registered(alex, DeviceKeys{});
  EXPECT_FALSE(phone.approved());
  EXPECT_TRUE(phone.certificate_signature().empty());
  const auto identity = crypto::generate_identity_key();

  auto set = set_identity_key(alex, identity, phone);
  ASSERT_TRUE(set.ok()) << set.error().message;
  ASSERT_TRUE(set->has_identity_key());
  EXPECT_EQ(set->identity_key().user_id(), alex.tokens.user().id());
  EXPECT_EQ(set->identity_key().public_key(), identity.public_key);
  EXPECT_NEAR(static_cast<double>(set->identity_key().set_unix_ms()), static_cast<double>(now_unix_ms()), 5000);
  EXPECT_EQ(set->device().id(), phone.id());
  EXPECT_TRUE(set->device().approved());
  EXPECT_TRUE(set->device().current());
  EXPECT_EQ(set->device().certificate_signature(), certificate(identity, phone));
  EXPECT_EQ(set->device().certificate_issued_unix_ms(), kIssued);

  // Stored: the device list, the directory messaging reads and the key lookup agree.
  auto listed = list(alex);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->devices_size(), 1);
  EXPECT_TRUE(listed->devices(0).approved());
  EXPECT_EQ(listed->devices(0).certificate_signature(), certificate(identity, phone));
  auto directory = active(p.practice().id(), {alex.tokens.user().id()});
  ASSERT_TRUE(directory.ok());
  EXPECT_EQ(ids(directory->devices()), std::vector<std::string>{phone.id()});
  EXPECT_TRUE(directory->devices(0).approved());
  auto mine = identity_key_of(alex.ctx, "me");
  ASSERT_TRUE(mine.ok()) << mine.error().message;
  EXPECT_EQ(mine->identity_key().public_key(), identity.public_key);
  EXPECT_FALSE(mine->has_device());
}

TEST_F(IdentityKeyTest, BadKeysAndCertificatesNameTheFieldAndStoreNothing) {
  auto p = make_practice("badcert");
  make_user(p.admin(), "alex@badcert.example", "client");
  auto alex = sign_in("badcert", "alex@badcert.example");
  const auto phone = registered(alex, DeviceKeys{});
  const auto laptop = signed_in_device("badcert", "alex@badcert.example").device;
  const auto identity = crypto::generate_identity_key();
  const auto stranger = crypto::generate_identity_key();
  auto attempt = [&](auto edit) {
    auto req = identity_key_request(identity, phone);
    edit(req);
    return run(service_->set_identity_key(req, alex.ctx));
  };

  expect_error(attempt([](auto& r) { r.set_public_key(std::string(31, 'k')); }), Code::kInvalidArgument,
               "public_key");
  expect_error(attempt([](auto& r) { r.set_public_key(""); }), Code::kInvalidArgument, "public_key");
  expect_error(attempt([](auto& r) { r.set_certificate_signature(std::string(63, 's')); }),
               Code::kInvalidArgument, "certificate_signature");
  // Signed by another key; the laptop's certificate presented by the phone's session;
  // the right certificate with another issued time.
  expect_error(attempt([&](auto& r) { r.set_certificate_signature(certificate(stranger, phone)); }),
               Code::kInvalidArgument, "certificate_signature");
  expect_error(attempt([&](auto& r) { r.set_certificate_signature(certificate(identity, laptop)); }),
               Code::kInvalidArgument, "certificate_signature");
  expect_error(attempt([](auto& r) { r.set_certificate_issued_unix_ms(kIssued + 1); }), Code::kInvalidArgument,
               "certificate_signature");
  // A session without a device has nothing to certify.
  auto bare = sign_in("badcert", "alex@badcert.example");
  auto no_device = run(service_->set_identity_key(identity_key_request(identity, phone), bare.ctx));
  ASSERT_FALSE(no_device.ok());
  EXPECT_EQ(no_device.error().code, Code::kFailedPrecondition);

  auto none = identity_key_of(alex.ctx, "me");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_identity_key());
  auto listed = list(alex);
  ASSERT_TRUE(listed.ok());
  for (const auto& d : listed->devices()) EXPECT_FALSE(d.approved()) << d.id();
}

TEST_F(IdentityKeyTest, TheSameKeyIsIdempotentAnotherIsRefusedAndResetReplacesIt) {
  auto p = make_practice("rekey");
  make_user(p.admin(), "alex@rekey.example", "client");
  auto phone = signed_in_device("rekey", "alex@rekey.example");
  auto laptop = signed_in_device("rekey", "alex@rekey.example");
  auto tablet = signed_in_device("rekey", "alex@rekey.example");
  const std::string user_id = phone.session.tokens.user().id();
  const auto identity = crypto::generate_identity_key();
  auto first = set_identity_key(phone, identity);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(approve(phone, identity, laptop.device, "sealed for the laptop").ok());

  // The app retries, with a fresh certificate: the same key, set when it was first set.
  auto again = set_identity_key(phone, identity, false, kIssued + 5);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->identity_key().set_unix_ms(), first->identity_key().set_unix_ms());
  EXPECT_EQ(again->device().certificate_issued_unix_ms(), kIssued + 5);
  EXPECT_TRUE(again->device().approved());

  // Another key is refused without reset, and changes nothing.
  const auto other = crypto::generate_identity_key();
  expect_error(set_identity_key(phone, other), Code::kAlreadyExists, "public_key");
  EXPECT_EQ(identity_key_of(phone.session.ctx, "me")->identity_key().public_key(), identity.public_key);

  // With reset, from the tablet (say the user lost the phone's key): the tablet alone is
  // approved; the phone and the laptop lose their certificates and the laptop its box.
  auto replaced = set_identity_key(tablet, other, /*reset=*/true);
  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  EXPECT_EQ(replaced->identity_key().public_key(), other.public_key);
  EXPECT_TRUE(replaced->device().approved());
  EXPECT_EQ(replaced->device().id(), tablet.device.id());
  auto seen_by_laptop = list(laptop.session);
  ASSERT_TRUE(seen_by_laptop.ok());
  for (const auto& id : {phone.device.id(), laptop.device.id()}) {
    auto d = find(*seen_by_laptop, id);
    EXPECT_FALSE(d.approved()) << id;
    EXPECT_TRUE(d.certificate_signature().empty()) << id;
    EXPECT_EQ(d.certificate_issued_unix_ms(), 0) << id;
    EXPECT_TRUE(d.identity_key_box().empty()) << id;
  }
  EXPECT_TRUE(find(*seen_by_laptop, tablet.device.id()).approved());
  auto directory = active(p.practice().id(), {user_id});
  ASSERT_TRUE(directory.ok());
  EXPECT_EQ(ids(directory->devices()), std::vector<std::string>{tablet.device.id()});
  ASSERT_EQ(directory->identity_keys_size(), 1);
  EXPECT_EQ(directory->identity_keys(0).public_key(), other.public_key);
  EXPECT_EQ(identity_key_of(phone.session.ctx, "me")->identity_key().public_key(), other.public_key);

  // A device of the old key cannot approve anyone now; under the new key it can be approved again.
  auto stale = approve(phone, identity, laptop.device);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Code::kFailedPrecondition);
  auto reapproved = approve(tablet, other, phone.device);
  ASSERT_TRUE(reapproved.ok()) << reapproved.error().message;
  EXPECT_TRUE(reapproved->device().approved());
}

TEST_F(IdentityKeyTest, ASecondDeviceIsNoRecipientUntilAnApprovedDeviceApprovesIt) {
  auto p = make_practice("pending");
  make_user(p.admin(), "alex@pending.example", "client");
  auto phone = signed_in_device("pending", "alex@pending.example");
  const std::string user_id = phone.session.tokens.user().id();
  const auto identity = crypto::generate_identity_key();
  ASSERT_TRUE(set_identity_key(phone, identity).ok());
  auto laptop = signed_in_device("pending", "alex@pending.example");
  EXPECT_FALSE(laptop.device.approved());

  // Pending: not a recipient, not even among the inactive devices; its own session still
  // learns which device it is.
  auto pending = active(p.practice().id(), {user_id}, laptop.session.session_id);
  ASSERT_TRUE(pending.ok()) << pending.error().message;
  EXPECT_EQ(ids(pending->devices()), std::vector<std::string>{phone.device.id()});
  EXPECT_EQ(pending->session_device_id(), laptop.device.id());
  // A device that stopped while still pending was never the user's: not listed as inactive either.
  ASSERT_TRUE(run(service_->logout({}, signed_in_device("pending", "alex@pending.example").session.ctx)).ok());
  auto history = active(p.practice().id(), {user_id}, "", /*include_inactive=*/true);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(ids(history->devices()), std::vector<std::string>{phone.device.id()});
  // The user still sees it, as pending, to approve it.
  auto listed = list(phone.session);
  ASSERT_TRUE(listed.ok());
  EXPECT_FALSE(find(*listed, laptop.device.id()).approved());

  const std::string box(512, 'b');
  auto approved = approve(phone, identity, laptop.device, box);
  ASSERT_TRUE(approved.ok()) << approved.error().message;
  EXPECT_EQ(approved->device().id(), laptop.device.id());
  EXPECT_TRUE(approved->device().approved());
  EXPECT_EQ(approved->device().certificate_signature(), certificate(identity, laptop.device));
  EXPECT_EQ(approved->device().certificate_issued_unix_ms(), kIssued);
  EXPECT_TRUE(approved->device().identity_key_box().empty());

  auto now_active = active(p.practice().id(), {user_id}, laptop.session.session_id);
  ASSERT_TRUE(now_active.ok());
  EXPECT_EQ(ids(now_active->devices()), (std::vector<std::string>{phone.device.id(), laptop.device.id()}));
  for (const auto& d : now_active->devices()) {
    EXPECT_TRUE(d.approved()) << d.id();
    EXPECT_EQ(d.certificate_signature(), certificate(identity, d)) << d.id();
    EXPECT_TRUE(d.identity_key_box().empty()) << d.id();
  }

  // The box reaches the laptop's own session, and no one else's listing.
  auto own = list(laptop.session);
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(find(*own, laptop.device.id()).identity_key_box(), box);
  EXPECT_TRUE(find(*own, laptop.device.id()).current());
  auto from_phone = list(phone.session);
  ASSERT_TRUE(from_phone.ok());
  EXPECT_TRUE(find(*from_phone, laptop.device.id()).identity_key_box().empty());
  EXPECT_TRUE(find(*from_phone, laptop.device.id()).approved());
}

TEST_F(IdentityKeyTest, ApprovalIsRefusedUnlessAnApprovedDeviceOfTheSameUserCertifiesAPendingOne) {
  auto p = make_practice("approve");
  make_user(p.admin(), "alex@approve.example", "client");
  make_user(p.admin(), "blair@approve.example", "client");
  auto phone = signed_in_device("approve", "alex@approve.example");
  auto laptop = signed_in_device("approve", "alex@approve.example");
  auto tablet = signed_in_device("approve", "alex@approve.example");
  auto blair = signed_in_device("approve", "blair@approve.example");
  auto admin = signed_in_device("approve", "admin@approve.example");
  const auto identity = crypto::generate_identity_key();
  const auto blair_identity = crypto::generate_identity_key();

  // Before Alex has an identity key there is nothing to approve under.
  auto no_key = approve(phone, identity, laptop.device);
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.error().code, Code::kFailedPrecondition);

  ASSERT_TRUE(set_identity_key(phone, identity).ok());
  ASSERT_TRUE(set_identity_key(blair, blair_identity).ok());

  // Another user's approved device (even signing with Alex's key), and an admin of the
  // practice: Alex's laptop is no device of theirs.
  expect_error(approve(blair, identity, laptop.device), Code::kNotFound, "device_id");
  expect_error(approve(blair, blair_identity, laptop.device), Code::kNotFound, "device_id");
  expect_error(approve(admin, identity, laptop.device), Code::kNotFound, "device_id");
  pb::Device unknown = laptop.device;
  unknown.set_id("no-such-device");
  expect_error(approve(phone, identity, unknown), Code::kNotFound, "device_id");
  // A pending device may not approve another.
  auto by_pending = approve(tablet, identity, laptop.device);
  ASSERT_FALSE(by_pending.ok());
  EXPECT_EQ(by_pending.error().code, Code::kFailedPrecondition);
  // A certificate by another key, of another device, or at another time.
  auto bad = [&](auto edit) {
    auto req = approval(identity, laptop.device);
    edit(req);
    return run(service_->approve_device(req, phone.session.ctx));
  };
  expect_error(bad([&](auto& r) { r.set_certificate_signature(certificate(blair_identity, laptop.device)); }),
               Code::kInvalidArgument, "certificate_signature");
  expect_error(bad([&](auto& r) { r.set_certificate_signature(certificate(identity, tablet.device)); }),
               Code::kInvalidArgument, "certificate_signature");
  expect_error(bad([](auto& r) { r.set_certificate_issued_unix_ms(kIssued - 1); }), Code::kInvalidArgument,
               "certificate_signature");
  expect_error(bad([](auto& r) { r.set_certificate_signature(""); }), Code::kInvalidArgument,
               "certificate_signature");
  expect_error(bad([](auto& r) { r.set_identity_key_box(std::string(513, 'b')); }), Code::kInvalidArgument,
               "identity_key_box");
  expect_error(bad([](auto& r) { r.set_device_id(""); }), Code::kInvalidArgument, "device_id");

  // None of that approved the laptop.
  auto still = active(p.practice().id(), {phone.session.tokens.user().id()});
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(ids(still->devices()), std::vector<std::string>{phone.device.id()});

  // Approved once; twice (or the approver itself) is refused.
  ASSERT_TRUE(approve(phone, identity, laptop.device).ok());
  expect_error(approve(phone, identity, laptop.device), Code::kFailedPrecondition, "device_id");
  expect_error(approve(laptop, identity, phone.device), Code::kFailedPrecondition, "device_id");
  // A device no longer active cannot be approved, and its session can approve nothing.
  ASSERT_TRUE(revoke(phone.session.ctx, tablet.device.id()).ok());
  expect_error(approve(phone, identity, tablet.device), Code::kFailedPrecondition, "device_id");
  auto by_revoked = approve(tablet, identity, laptop.device);
  ASSERT_FALSE(by_revoked.ok());
  EXPECT_EQ(by_revoked.error().code, Code::kFailedPrecondition);
}

TEST_F(IdentityKeyTest, UsersWithoutAnIdentityKeyKeepEveryActiveDeviceAndKeysComeWithTheirUsers) {
  auto p = make_practice("mixed");
  make_user(p.admin(), "alex@mixed.example", "client");
  make_user(p.admin(), "tess@mixed.example", "therapist");
  auto q = make_practice("mixed-elsewhere");
  auto alex_phone = signed_in_device("mixed", "alex@mixed.example");
  auto alex_laptop = signed_in_device("mixed", "alex@mixed.example");
  auto tess_desk = signed_in_device("mixed", "tess@mixed.example");
  auto tess_laptop = signed_in_device("mixed", "tess@mixed.example");
  auto stranger = signed_in_device("mixed-elsewhere", "admin@mixed-elsewhere.example");
  const std::string alex_id = alex_phone.session.tokens.user().id();
  const std::string tess_id = tess_desk.session.tokens.user().id();
  const std::string stranger_id = stranger.session.tokens.user().id();
  const auto alex_identity = crypto::generate_identity_key();
  ASSERT_TRUE(set_identity_key(alex_phone, alex_identity).ok());
  ASSERT_TRUE(set_identity_key(stranger, crypto::generate_identity_key()).ok());

  // Tess has no identity key (an older app): both her devices count, unapproved as they
  // are, and one she logged out of is still listed as inactive.
  auto r = active(p.practice().id(), {tess_id, alex_id, stranger_id});
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<std::string> got = ids(r->devices());
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()),
            (std::set<std::string>{alex_phone.device.id(), tess_desk.device.id(), tess_laptop.device.id()}));
  EXPECT_FALSE(std::count(got.begin(), got.end(), alex_laptop.device.id()));
  ASSERT_TRUE(run(service_->logout({}, tess_laptop.session.ctx)).ok());
  r = active(p.practice().id(), {tess_id, alex_id, stranger_id}, "", /*include_inactive=*/true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->devices_size(), 3);
  EXPECT_EQ(r->devices(2).id(), tess_laptop.device.id());
  EXPECT_GT(r->devices(2).revoked_unix_ms(), 0);
  // Only Alex's key: Tess has none, and the stranger is of another practice.
  ASSERT_EQ(r->identity_keys_size(), 1);
  EXPECT_EQ(r->identity_keys(0).user_id(), alex_id);
  EXPECT_EQ(r->identity_keys(0).public_key(), alex_identity.public_key);
  auto theirs = active(q.practice().id(), {stranger_id, alex_id});
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->identity_keys_size(), 1);
  EXPECT_EQ(theirs->identity_keys(0).user_id(), stranger_id);
  EXPECT_EQ(ids(theirs->devices()), std::vector<std::string>{stranger.device.id()});
}

TEST_F(IdentityKeyTest, AUsersKeyIsVisibleToWhoeverMaySeeThemAndNotFoundForAnyoneElse) {
  auto p = make_practice("visible");
  auto alex = make_user(p.admin(), "alex@visible.example", "client");
  auto blair = make_user(p.admin(), "blair@visible.example", "client");
  auto tess = make_user(p.admin(), "tess@visible.example", "therapist");
  auto kim = make_user(p.admin(), "kim@visible.example", "therapist");
  auto desk = make_user(p.admin(), "desk@visible.example", "front_desk");
  auto q = make_practice("visible-elsewhere");
  auto outsider_client = make_user(q.admin(), "alex@visible-elsewhere.example", "client");
  pb::AddCareTeamMemberRequest link;
  link.set_client_id(alex.id());
  link.set_therapist_id(tess.id());
  ASSERT_TRUE(run(service_->add_care_team_member(link, as(p.admin()))).ok());

  auto tess_in = sign_in("visible", "tess@visible.example");
  const auto identity = crypto::generate_identity_key();
  ASSERT_TRUE(set_identity_key(tess_in, identity, registered(tess_in, DeviceKeys{})).ok());

  auto expect_key = [&](const pb::User& reader, const std::string& asked) {
    auto r = identity_key_of(as(reader), asked);
    ASSERT_TRUE(r.ok()) << reader.email() << ": " << r.error().message;
    ASSERT_TRUE(r->has_identity_key()) << reader.email();
    EXPECT_EQ(r->identity_key().public_key(), identity.public_key);
    EXPECT_EQ(r->identity_key().user_id(), tess.id());
  };
  expect_key(alex, tess.id());       // her therapist, on her care team
  expect_key(desk, tess.id());       // the front desk sees the practice's users
  expect_key(p.admin(), tess.id());
  expect_key(tess, "me");
  expect_key(tess, tess.id());
  auto hidden = [&](const pb::User& reader, const std::string& asked) {
    expect_error(identity_key_of(as(reader), asked), Code::kNotFound, "user_id");
  };
  hidden(blair, tess.id());            // not Blair's therapist
  hidden(kim, tess.id());              // another therapist
  hidden(kim, alex.id());              // not Kim's client
  hidden(blair, alex.id());            // another client
  hidden(q.admin(), tess.id());        // another practice, even its admin
  hidden(outsider_client, tess.id());
  hidden(alex, "no-such-user");
  hidden(alex, std::string(65, 'x'));

  // Tess sees her client's (absent) key: an answer without one, not a 404.
  auto alex_key = identity_key_of(as(tess), alex.id());
  ASSERT_TRUE(alex_key.ok()) << alex_key.error().message;
  EXPECT_FALSE(alex_key->has_identity_key());
  EXPECT_EQ(identity_key_of(net::CallContext{}, tess.id()).error().code, Code::kUnauthenticated);
}

TEST_F(IdentityKeyTest, ASignedArchiveKeyIsCheckedAndPublishedWithTheFingerprintAndAnUnsignedOneStillWorks) {
  auto p = make_practice("signed");
  auto client = make_user(p.admin(), "alex@signed.example", "client");
  auto q = make_practice("signed-elsewhere");
  const auto practice_key = crypto::generate_practice_key();
  const std::string archive = random_bytes(32);
  auto request = [&](const crypto::IdentityKeyPair& signer, const std::string& practice_id,
                     std::int64_t issued = kIssued) {
    pb::SetArchiveKeyRequest req;
    req.set_agreement_public_key(archive);
    req.set_practice_public_key(signer.public_key);
    auto signature =
        crypto::sign_archive_key(signer.private_seed, crypto::ArchiveKeyStatement{practice_id, archive, issued});
    EXPECT_TRUE(signature.ok());
    req.set_archive_key_signature(signature.ok() ? *signature : "");
    req.set_issued_unix_ms(kIssued);
    return req;
  };
  auto set = [&](const pb::SetArchiveKeyRequest& req) { return run(service_->set_archive_key(req, as(p.admin()))); };

  // Signed for another practice, at another time, by another key than the one named, or cut short.
  expect_error(set(request(practice_key, q.practice().id())), Code::kInvalidArgument, "archive_key_signature");
  expect_error(set(request(practice_key, p.practice().id(), kIssued + 1)), Code::kInvalidArgument,
               "archive_key_signature");
  auto wrong_signer = request(crypto::generate_practice_key(), p.practice().id());
  wrong_signer.set_practice_public_key(practice_key.public_key);
  expect_error(set(wrong_signer), Code::kInvalidArgument, "archive_key_signature");
  auto short_signature = request(practice_key, p.practice().id());
  short_signature.set_archive_key_signature(short_signature.archive_key_signature().substr(0, 63));
  expect_error(set(short_signature), Code::kInvalidArgument, "archive_key_signature");
  auto short_key = request(practice_key, p.practice().id());
  short_key.set_practice_public_key(std::string(31, 'p'));
  expect_error(set(short_key), Code::kInvalidArgument, "practice_public_key");
  auto unsigned_but_signature = request(practice_key, p.practice().id());
  unsigned_but_signature.clear_practice_public_key();
  expect_error(set(unsigned_but_signature), Code::kInvalidArgument, "practice_public_key");
  EXPECT_FALSE(run(service_->get_archive_key({}, as(client)))->has_archive_key());

  auto signed_key = set(request(practice_key, p.practice().id()));
  ASSERT_TRUE(signed_key.ok()) << signed_key.error().message;
  const std::string fingerprint = crypto::key_fingerprint(practice_key.public_key);
  for (const auto& k : {signed_key->archive_key(), run(service_->get_archive_key({}, as(client)))->archive_key(),
                        active(p.practice().id(), {client.id()})->archive_key()}) {
    EXPECT_EQ(k.agreement_public_key(), archive);
    EXPECT_EQ(k.practice_public_key(), practice_key.public_key);
    EXPECT_EQ(k.archive_key_signature(), request(practice_key, p.practice().id()).archive_key_signature());
    EXPECT_EQ(k.issued_unix_ms(), kIssued);
    EXPECT_EQ(k.practice_key_fingerprint(), fingerprint);
  }

  // The practice may move to another practice key (clients ask their users to accept it).
  const auto next_key = crypto::generate_practice_key();
  auto moved = set(request(next_key, p.practice().id()));
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(moved->archive_key().practice_key_fingerprint(), crypto::key_fingerprint(next_key.public_key));

  // Unsigned (an older admin tool): accepted, and every signature field is empty again.
  auto plain = set_archive_key(as(p.admin()), archive);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  auto got = run(service_->get_archive_key({}, as(client)));
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_archive_key());
  EXPECT_EQ(got->archive_key().agreement_public_key(), archive);
  EXPECT_TRUE(got->archive_key().practice_public_key().empty());
  EXPECT_TRUE(got->archive_key().archive_key_signature().empty());
  EXPECT_EQ(got->archive_key().issued_unix_ms(), 0);
  EXPECT_EQ(got->archive_key().practice_key_fingerprint(), "");
}

}  // namespace
}  // namespace alliance::identity
