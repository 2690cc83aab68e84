// What a device trusts when the server is hostile, with real keys and no server: a
// user's identity key pinned on first use, devices only through a certificate of that
// pinned key (the server adding a device of its own is "attack 1" of issue 9), a
// changed key blocking until the user accepts it, safety numbers from both sides, the
// practice key behind the archive key ("attack 2"), and the pins kept across restarts.
#include "alliance/client/trust.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <functional>
#include <map>

#include "alliance/crypto/identity_keys.hpp"
#include "alliance/crypto/message_seal.hpp"

namespace alliance::client {
namespace {

namespace json = boost::json;

constexpr std::int64_t kIssued = 1700000000000;

struct User {
  std::string id;
  crypto::IdentityKeyPair identity = crypto::generate_identity_key();

  PeerIdentity claim() const { return PeerIdentity{id, identity.public_key, kIssued}; }
};

// A device with fresh keys as the server lists it, certified by `certifier`'s identity
// key for `certified_id` (defaults: this user, this device id). An empty certifier
// seed leaves it uncertified.
CertifiedDevice device_of(const User& user, std::string id, const crypto::DeviceKeys& keys,
                          std::string_view certifier_seed, std::string certified_id = {}) {
  CertifiedDevice d;
  d.id = std::move(id);
  d.user_id = user.id;
  d.name = "phone";
  d.signing_public = keys.signing_public;
  d.agreement_public = keys.agreement_public;
  d.agreement_signature = keys.agreement_signature;
  d.certificate_issued_unix_ms = kIssued;
  if (!certifier_seed.empty()) {
    crypto::DeviceCertificate certificate{user.id, certified_id.empty() ? d.id : certified_id, d.signing_public,
                                          d.agreement_public, kIssued};
    auto signature = crypto::sign_device_certificate(certifier_seed, certificate);
    EXPECT_TRUE(signature.ok());
    if (signature.ok()) d.certificate_signature = *signature;
  }
  return d;
}

CertifiedDevice certified(const User& user, std::string id) {
  return device_of(user, std::move(id), crypto::generate_device_keys(), user.identity.private_seed);
}

std::vector<std::string> ids(const std::vector<CertifiedDevice>& devices) {
  std::vector<std::string> out;
  for (const auto& d : devices) out.push_back(d.id);
  return out;
}

// The reason each rejected device was left out, by device id.
std::map<std::string, std::string> reasons(const DeviceVerdict& verdict) {
  std::map<std::string, std::string> out;
  for (const auto& r : verdict.rejected) out[r.id] = r.reason;
  return out;
}

// What a refusal says: its code and field (kOk and "<ok>" when there was none).
template <class R>
Code code_of(const R& r) {
  return r.ok() ? Code::kOk : r.error().code;
}
template <class R>
std::string field_of(const R& r) {
  return r.ok() ? std::string("<ok>") : r.error().field;
}

IdentityStatus status_of(const Result<IdentityStatus>& r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : IdentityStatus::kLegacy;
}

// ---- Identity keys ----------------------------------------------------------------

TEST(TrustIdentity, FirstUseOfAUserPinsItsKeyAndAnotherKeyDoesNotReplaceIt) {
  TrustStore store;
  User alice{"alice"};
  EXPECT_EQ(store.identity_status("alice"), IdentityStatus::kLegacy);
  EXPECT_EQ(status_of(store.check_identity(alice.claim())), IdentityStatus::kNew);
  EXPECT_EQ(status_of(store.check_identity(alice.claim())), IdentityStatus::kPinned);
  ASSERT_NE(store.identity("alice"), nullptr);
  EXPECT_EQ(store.identity("alice")->public_key, alice.identity.public_key);

  auto other = crypto::generate_identity_key();
  EXPECT_EQ(status_of(store.check_identity({"alice", other.public_key, 0})), IdentityStatus::kChanged);
  EXPECT_EQ(store.identity("alice")->public_key, alice.identity.public_key);
  EXPECT_EQ(store.identity("alice")->changed_key, other.public_key);
  // Back to the pinned key: nothing was ever certified by the other one.
  EXPECT_EQ(status_of(store.check_identity(alice.claim())), IdentityStatus::kPinned);
  // A claim of "no key" says nothing: the pin stands.
  EXPECT_EQ(status_of(store.check_identity({"alice", "", 0})), IdentityStatus::kPinned);
  EXPECT_EQ(status_of(store.check_identity({"bob", "", 0})), IdentityStatus::kLegacy);
  EXPECT_EQ(store.identity("bob"), nullptr);
}

TEST(TrustIdentity, MalformedClaimsNameTheFieldAndPinNothing) {
  TrustStore store;
  EXPECT_EQ(field_of(store.check_identity({"alice", std::string(31, 'k'), 0})), "identity.public_key");
  EXPECT_EQ(field_of(store.check_identity({"", std::string(32, 'k'), 0})), "identity.user_id");
  EXPECT_EQ(store.identity("alice"), nullptr);
}

TEST(TrustIdentity, VerifiedThenChangedIsAnErrorThatAcceptanceAloneDoesNotClear) {
  TrustStore store;
  User alice{"alice"};
  ASSERT_EQ(status_of(store.check_identity(alice.claim())), IdentityStatus::kNew);
  ASSERT_TRUE(store.mark_verified("alice", alice.identity.public_key).ok());
  EXPECT_EQ(status_of(store.check_identity(alice.claim())), IdentityStatus::kVerified);

  auto replacement = crypto::generate_identity_key();
  EXPECT_EQ(status_of(store.check_identity({"alice", replacement.public_key, 0})), IdentityStatus::kVerifiedChanged);
  auto refused = store.accept_identity("alice", replacement.public_key);
  EXPECT_EQ(code_of(refused), Code::kFailedPrecondition);
  EXPECT_EQ(field_of(refused), "user_id");
  EXPECT_EQ(store.identity("alice")->public_key, alice.identity.public_key);
  EXPECT_EQ(store.identity_status("alice"), IdentityStatus::kVerifiedChanged);

  ASSERT_TRUE(store.unverify("alice").ok());
  EXPECT_EQ(store.identity_status("alice"), IdentityStatus::kChanged);
  ASSERT_TRUE(store.accept_identity("alice", replacement.public_key).ok());
  EXPECT_EQ(store.identity("alice")->public_key, replacement.public_key);
  EXPECT_FALSE(store.identity("alice")->verified);
  EXPECT_EQ(status_of(store.check_identity({"alice", replacement.public_key, 0})), IdentityStatus::kPinned);
}

TEST(TrustIdentity, OnlyThePinnedKeyCanBeMarkedVerified) {
  TrustStore store;
  User alice{"alice"};
  EXPECT_EQ(code_of(store.mark_verified("alice", alice.identity.public_key)), Code::kNotFound);
  ASSERT_EQ(status_of(store.check_identity(alice.claim())), IdentityStatus::kNew);

  auto offered = crypto::generate_identity_key();
  ASSERT_EQ(status_of(store.check_identity({"alice", offered.public_key, 0})), IdentityStatus::kChanged);
  EXPECT_EQ(code_of(store.mark_verified("alice", offered.public_key)), Code::kFailedPrecondition);
  EXPECT_FALSE(store.identity("alice")->verified);
  // Settling the change by accepting the pinned key keeps what was verified.
  ASSERT_TRUE(store.mark_verified("alice", alice.identity.public_key).ok());
  ASSERT_TRUE(store.accept_identity("alice", alice.identity.public_key).ok());
  EXPECT_EQ(store.identity_status("alice"), IdentityStatus::kVerified);
}

// ---- Safety numbers -------------------------------------------------------------

TEST(TrustSafetyNumber, IsTheSameFromBothSidesAndChangesAfterAnAcceptedKeyChange) {
  User alice{"alice"};
  User bob{"bob"};
  TrustStore alices;  // on alice's device
  TrustStore bobs;    // on bob's device
  EXPECT_EQ(code_of(alices.safety_number("alice", alice.identity.public_key, "bob")), Code::kNotFound);

  ASSERT_TRUE(alices.check_identity(bob.claim()).ok());
  ASSERT_TRUE(bobs.check_identity(alice.claim()).ok());
  auto at_alice = alices.safety_number("alice", alice.identity.public_key, "bob");
  auto at_bob = bobs.safety_number("bob", bob.identity.public_key, "alice");
  ASSERT_TRUE(at_alice.ok() && at_bob.ok());
  EXPECT_EQ(*at_alice, *at_bob);
  EXPECT_EQ(at_alice->size(), 71u);  // 60 digits in 12 groups
  auto qr_alice = alices.safety_number_qr_text("alice", alice.identity.public_key, "bob");
  auto qr_bob = bobs.safety_number_qr_text("bob", bob.identity.public_key, "alice");
  ASSERT_TRUE(qr_alice.ok() && qr_bob.ok());
  EXPECT_EQ(*qr_alice, *qr_bob);
  EXPECT_EQ(*qr_alice, crypto::safety_number_qr_text(*at_alice));

  // Bob's key is replaced: alice's number stays on the pinned key until she accepts.
  User new_bob{"bob"};
  ASSERT_EQ(status_of(alices.check_identity(new_bob.claim())), IdentityStatus::kChanged);
  EXPECT_EQ(*alices.safety_number("alice", alice.identity.public_key, "bob"), *at_alice);
  ASSERT_TRUE(alices.accept_identity("bob", new_bob.identity.public_key).ok());
  auto after = alices.safety_number("alice", alice.identity.public_key, "bob");
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*after, *at_alice);
  EXPECT_EQ(*after, *bobs.safety_number("bob", new_bob.identity.public_key, "alice"));
}

// ---- Devices --------------------------------------------------------------------

TEST(TrustDevices, ADeviceCertifiedByThePinnedIdentityKeyIsAcceptedAndPinned) {
  TrustStore store;
  User alice{"alice"};
  CertifiedDevice phone = certified(alice, "d-phone");
  DeviceVerdict verdict = store.verify_devices({alice.claim()}, {phone});
  EXPECT_EQ(ids(verdict.accepted), std::vector<std::string>{"d-phone"});
  EXPECT_TRUE(verdict.rejected.empty());
  EXPECT_TRUE(verdict.legacy.empty());
  ASSERT_NE(verdict.user("alice"), nullptr);
  EXPECT_EQ(verdict.user("alice")->status, IdentityStatus::kNew);
  ASSERT_NE(store.device("d-phone"), nullptr);
  EXPECT_EQ(store.device("d-phone")->agreement_public, phone.agreement_public);

  // Next time the server may leave the key out: the pin still certifies the device.
  DeviceVerdict again = store.verify_devices({}, {phone});
  EXPECT_EQ(ids(again.accepted), std::vector<std::string>{"d-phone"});
  EXPECT_EQ(again.user("alice")->status, IdentityStatus::kPinned);
}

// Attack 1: the server lists a device of its own for alice, under a new id.
TEST(TrustDevices, ADeviceTheServerAddsWithoutAValidCertificateIsRefused) {
  TrustStore store;
  User alice{"alice"};
  User mallory{"mallory"};  // the operator, with an identity key of its own
  CertifiedDevice phone = certified(alice, "d-phone");
  ASSERT_EQ(store.verify_devices({alice.claim()}, {phone}).accepted.size(), 1u);

  auto server_keys = crypto::generate_device_keys();
  std::vector<CertifiedDevice> injected = {
      device_of(alice, "x-unsigned", server_keys, ""),
      device_of(alice, "x-other-identity", crypto::generate_device_keys(), mallory.identity.private_seed),
      // alice's real certificate of her phone, replayed under another id
      device_of(alice, "x-other-id", crypto::generate_device_keys(), alice.identity.private_seed, "d-phone"),
  };
  // a certificate alice made for other keys (her phone's), carried by the server's keys
  CertifiedDevice other_keys = device_of(alice, "x-other-keys", server_keys, "");
  other_keys.certificate_signature = *crypto::sign_device_certificate(
      alice.identity.private_seed, {"alice", "x-other-keys", phone.signing_public, phone.agreement_public, kIssued});
  injected.push_back(other_keys);
  std::vector<CertifiedDevice> listed = {phone};
  listed.insert(listed.end(), injected.begin(), injected.end());

  DeviceVerdict verdict = store.verify_devices({alice.claim()}, listed);
  EXPECT_EQ(ids(verdict.accepted), std::vector<std::string>{"d-phone"});
  auto why = reasons(verdict);
  ASSERT_EQ(why.size(), injected.size());
  for (const auto& d : injected) EXPECT_EQ(why[d.id], "not certified by alice's identity key") << d.id;
  for (const auto& d : injected) EXPECT_EQ(store.device(d.id), nullptr) << d.id;

  // Naming mallory's key as alice's is a change, not a way in.
  DeviceVerdict claimed = store.verify_devices({{"alice", mallory.identity.public_key, 0}}, listed);
  EXPECT_TRUE(claimed.accepted.empty());
  EXPECT_EQ(reasons(claimed)["x-other-identity"], "identity key changed");
}

TEST(TrustDevices, AChangedIdentityKeyBlocksTheUsersDevicesUntilAccepted) {
  TrustStore store;
  User alice{"alice"};
  CertifiedDevice phone = certified(alice, "d-phone");
  ASSERT_EQ(store.verify_devices({alice.claim()}, {phone}).accepted.size(), 1u);

  User new_alice{"alice"};  // alice reinstalled: a new identity key and a new device
  CertifiedDevice laptop = certified(new_alice, "d-laptop");
  CertifiedDevice phone_recertified =
      device_of(new_alice, "d-phone",
                crypto::DeviceKeys{"", phone.signing_public, "", phone.agreement_public, phone.agreement_signature},
                new_alice.identity.private_seed);
  DeviceVerdict blocked = store.verify_devices({new_alice.claim()}, {phone_recertified, laptop});
  EXPECT_EQ(blocked.user("alice")->status, IdentityStatus::kChanged);
  EXPECT_TRUE(blocked.accepted.empty());
  auto why = reasons(blocked);
  EXPECT_EQ(why["d-phone"], "identity key changed");
  EXPECT_EQ(why["d-laptop"], "identity key changed");
  // Still blocked when the server then leaves the key out.
  EXPECT_TRUE(store.verify_devices({}, {phone_recertified, laptop}).accepted.empty());

  ASSERT_TRUE(store.accept_identity("alice", new_alice.identity.public_key).ok());
  DeviceVerdict accepted = store.verify_devices({new_alice.claim()}, {phone_recertified, laptop});
  EXPECT_EQ(ids(accepted.accepted), (std::vector<std::string>{"d-phone", "d-laptop"}));
  // A device still certified only by the old key is not alice's any more.
  EXPECT_EQ(reasons(store.verify_devices({new_alice.claim()}, {phone}))["d-phone"],
            "not certified by alice's identity key");
}

TEST(TrustDevices, KeysOtherThanTheFirstSeenUnderADeviceIdAreRefused) {
  TrustStore store;
  User alice{"alice"};
  User bob{"bob"};
  CertifiedDevice first = certified(alice, "d1");
  ASSERT_EQ(store.verify_devices({alice.claim(), bob.claim()}, {first}).accepted.size(), 1u);
  // Even certified by alice's own key, or handed to bob with bob's certificate: the id
  // keeps the keys and the owner it was first seen with.
  CertifiedDevice swapped = certified(alice, "d1");
  CertifiedDevice moved = device_of(
      bob, "d1", crypto::DeviceKeys{"", first.signing_public, "", first.agreement_public, first.agreement_signature},
      bob.identity.private_seed);
  EXPECT_EQ(reasons(store.verify_devices({}, {swapped}))["d1"], "device id pinned with other keys");
  EXPECT_EQ(reasons(store.verify_devices({}, {moved}))["d1"], "device id pinned with other keys");
  EXPECT_EQ(store.device("d1")->signing_public, first.signing_public);
  EXPECT_EQ(store.device("d1")->user_id, "alice");
}

TEST(TrustDevices, BadSelfSignaturesReservedIdsAndDuplicatesAreRefused) {
  TrustStore store;
  User alice{"alice"};
  CertifiedDevice bad_signature = certified(alice, "d-bad");
  bad_signature.agreement_signature[0] = static_cast<char>(bad_signature.agreement_signature[0] ^ 1);
  CertifiedDevice archive = certified(alice, "archive");
  CertifiedDevice twice = certified(alice, "d-twice");
  CertifiedDevice nobody = certified(alice, "d-nobody");
  nobody.user_id.clear();
  DeviceVerdict verdict = store.verify_devices({alice.claim()}, {bad_signature, archive, twice, twice, nobody});
  EXPECT_EQ(ids(verdict.accepted), std::vector<std::string>{"d-twice"});
  auto why = reasons(verdict);
  EXPECT_EQ(why["d-bad"], "bad self-signature");
  EXPECT_EQ(why["archive"], "reserved id archive");
  EXPECT_EQ(why["d-twice"], "duplicate device id");
  EXPECT_EQ(why["d-nobody"], "missing user id");
  EXPECT_EQ(store.device("archive"), nullptr);
}

TEST(TrustDevices, UsersWithoutAnIdentityKeyAreReportedLegacyButNotOnceAKeyIsPinned) {
  TrustStore store;
  User alice{"alice"};
  User bob{"bob"};  // never set up an identity key
  CertifiedDevice bobs = device_of(bob, "d-bob", crypto::generate_device_keys(), "");
  DeviceVerdict verdict = store.verify_devices({alice.claim()}, {certified(alice, "d-alice"), bobs});
  EXPECT_EQ(ids(verdict.accepted), std::vector<std::string>{"d-alice"});
  EXPECT_EQ(ids(verdict.legacy), std::vector<std::string>{"d-bob"});
  EXPECT_TRUE(verdict.user("bob")->legacy());
  EXPECT_FALSE(verdict.user("alice")->legacy());
  EXPECT_NE(store.device("d-bob"), nullptr);  // pinned by id, as before identity keys

  // A user whose key is pinned cannot be made legacy again by leaving the key out.
  CertifiedDevice uncertified = device_of(alice, "d-alice-2", crypto::generate_device_keys(), "");
  DeviceVerdict downgraded = store.verify_devices({{"alice", "", 0}}, {uncertified});
  EXPECT_FALSE(downgraded.user("alice")->legacy());
  EXPECT_TRUE(downgraded.legacy.empty());
  EXPECT_EQ(reasons(downgraded)["d-alice-2"], "not certified by alice's identity key");
}

TEST(TrustDevices, MalformedOrConflictingClaimsRefuseTheUsersDevicesAndPinNothing) {
  TrustStore store;
  User alice{"alice"};
  User bob{"bob"};
  User mallory{"mallory"};
  CertifiedDevice alices = certified(alice, "d-alice");
  CertifiedDevice bobs = certified(bob, "d-bob");
  DeviceVerdict verdict = store.verify_devices(
      {{"alice", std::string(7, 'k'), 0}, bob.claim(), {"bob", mallory.identity.public_key, 0}}, {alices, bobs});
  EXPECT_TRUE(verdict.accepted.empty());
  EXPECT_TRUE(verdict.legacy.empty());
  auto why = reasons(verdict);
  EXPECT_EQ(why["d-alice"], "malformed identity key");
  EXPECT_EQ(why["d-bob"], "conflicting identity keys");
  EXPECT_FALSE(verdict.user("alice")->legacy());
  EXPECT_EQ(store.identity("alice"), nullptr);
  EXPECT_EQ(store.identity("bob"), nullptr);
}

// ---- The archive key ------------------------------------------------------------

struct Practice {
  std::string id = "practice-1";
  crypto::IdentityKeyPair key = crypto::generate_practice_key();

  SignedArchiveKey archive(std::string agreement_public = crypto::generate_device_keys().agreement_public) const {
    SignedArchiveKey a{id, std::move(agreement_public), key.public_key, {}, kIssued};
    a.signature = *crypto::sign_archive_key(key.private_seed, {a.practice_id, a.agreement_public, a.issued_unix_ms});
    return a;
  }
};

TEST(TrustArchive, TheNoticeIsExactly) {
  EXPECT_EQ(archive_notice("Harbor Therapy"),
            "messages in this conversation are also readable by Harbor Therapy's record archive");
}

TEST(TrustArchive, FirstUsePinsThePracticeKeyAndTheSameKeyIsAcceptedAgain) {
  TrustStore store;
  Practice practice;
  SignedArchiveKey archive = practice.archive();
  ArchiveVerdict first = store.check_archive_key(archive, "Harbor Therapy");
  EXPECT_EQ(first.status, ArchiveStatus::kNew);
  EXPECT_TRUE(first.accepted());
  EXPECT_EQ(first.agreement_public, archive.agreement_public);
  EXPECT_EQ(first.notice, "messages in this conversation are also readable by Harbor Therapy's record archive");
  EXPECT_EQ(store.practice_fingerprint(practice.id), crypto::key_fingerprint(practice.key.public_key));

  // The practice may rotate its archive key; its practice key still signs it.
  ArchiveVerdict rotated = store.check_archive_key(practice.archive(), "");
  EXPECT_EQ(rotated.status, ArchiveStatus::kPinned);
  EXPECT_TRUE(rotated.accepted());
  EXPECT_EQ(rotated.notice, archive_notice(practice.id));
}

// Attack 2: an admin (or the operator) replaces the archive key with one of its own.
TEST(TrustArchive, AnArchiveKeySignedByAnotherPracticeKeyWaitsForTheUsersAcceptance) {
  TrustStore store;
  Practice practice;
  ASSERT_TRUE(store.check_archive_key(practice.archive()).accepted());

  Practice operator_key;  // same practice id, another practice key
  SignedArchiveKey replaced = operator_key.archive();
  ArchiveVerdict verdict = store.check_archive_key(replaced);
  EXPECT_EQ(verdict.status, ArchiveStatus::kChanged);
  EXPECT_FALSE(verdict.accepted());
  EXPECT_TRUE(verdict.agreement_public.empty());
  EXPECT_TRUE(verdict.notice.empty());
  EXPECT_EQ(verdict.reason, "practice key changed");
  EXPECT_EQ(verdict.practice_fingerprint, crypto::key_fingerprint(operator_key.key.public_key));
  EXPECT_EQ(store.check_archive_key(replaced).status, ArchiveStatus::kChanged);  // still, next time

  ASSERT_TRUE(store.accept_practice_key(practice.id, verdict.practice_public_key).ok());
  ArchiveVerdict after = store.check_archive_key(replaced);
  EXPECT_EQ(after.status, ArchiveStatus::kPinned);
  EXPECT_EQ(after.agreement_public, replaced.agreement_public);
  EXPECT_EQ(store.check_archive_key(practice.archive()).status, ArchiveStatus::kChanged);
}

TEST(TrustArchive, UnsignedOrBadlySignedArchiveKeysAreRefusedAndPinNothing) {
  TrustStore store;
  Practice practice;
  SignedArchiveKey unsigned_key = practice.archive();
  unsigned_key.signature.clear();
  SignedArchiveKey no_practice_key = practice.archive();
  no_practice_key.practice_public_key.clear();
  SignedArchiveKey tampered = practice.archive();
  tampered.agreement_public = crypto::generate_device_keys().agreement_public;
  SignedArchiveKey other_practice = practice.archive();
  other_practice.practice_id = "practice-2";
  for (const auto& [key, reason] :
       std::vector<std::pair<SignedArchiveKey, std::string>>{{unsigned_key, "unsigned archive key"},
                                                             {no_practice_key, "unsigned archive key"},
                                                             {tampered, "bad archive key signature"},
                                                             {other_practice, "bad archive key signature"}}) {
    ArchiveVerdict verdict = store.check_archive_key(key);
    EXPECT_EQ(verdict.status, ArchiveStatus::kRefused) << reason;
    EXPECT_FALSE(verdict.accepted()) << reason;
    EXPECT_TRUE(verdict.agreement_public.empty()) << reason;
    EXPECT_EQ(verdict.reason, reason);
  }
  EXPECT_FALSE(store.practice_fingerprint("practice-1"));
  EXPECT_FALSE(store.practice_fingerprint("practice-2"));
  EXPECT_EQ(store.check_archive_key(practice.archive()).status, ArchiveStatus::kNew);
}

TEST(TrustArchive, APracticeKeyPinnedAtIntakeMustMatchOnFirstUse) {
  Practice practice;
  Practice impostor;
  // The fingerprint as printed on the intake form, typed in upper case without spaces.
  std::string printed = crypto::key_fingerprint(practice.key.public_key);
  std::string typed;
  for (char c : printed)
    if (c != ' ') typed.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));

  TrustStore by_fingerprint;
  ASSERT_TRUE(by_fingerprint.pin_practice_fingerprint(practice.id, typed).ok());
  ArchiveVerdict refused = by_fingerprint.check_archive_key(impostor.archive());
  EXPECT_FALSE(refused.accepted());
  EXPECT_EQ(refused.reason, "practice key does not match the fingerprint pinned at intake");
  EXPECT_EQ(by_fingerprint.check_archive_key(practice.archive()).status, ArchiveStatus::kPinned);
  EXPECT_EQ(by_fingerprint.check_archive_key(impostor.archive()).reason, "practice key changed");

  TrustStore by_key;
  ASSERT_TRUE(by_key.pin_practice_key(practice.id, practice.key.public_key).ok());
  EXPECT_FALSE(by_key.check_archive_key(impostor.archive()).accepted());
  EXPECT_TRUE(by_key.check_archive_key(practice.archive()).accepted());

  // Pinning never replaces another pin; a bad fingerprint names the field.
  EXPECT_EQ(code_of(by_key.pin_practice_key(practice.id, impostor.key.public_key)), Code::kFailedPrecondition);
  EXPECT_TRUE(by_key.pin_practice_fingerprint(practice.id, printed).ok());
  EXPECT_EQ(field_of(by_key.pin_practice_fingerprint("practice-2", "3f2a 9c01 zz")), "fingerprint");
}

// ---- Persistence ----------------------------------------------------------------

// A store with one of each kind of pin, and the values to check after a restart.
struct Pinned {
  User alice{"alice"};
  User bob{"bob"};
  Practice practice;
  Practice intake{"practice-2"};
  CertifiedDevice phone = certified(alice, "d-phone");
  TrustStore store;

  Pinned() {
    EXPECT_EQ(store.verify_devices({alice.claim(), bob.claim()}, {phone}).accepted.size(), 1u);
    EXPECT_TRUE(store.mark_verified("alice", alice.identity.public_key).ok());
    EXPECT_TRUE(store.check_identity({"bob", crypto::generate_identity_key().public_key, 0}).ok());
    EXPECT_TRUE(store.check_archive_key(practice.archive()).accepted());
    EXPECT_TRUE(store.pin_practice_fingerprint(intake.id, crypto::key_fingerprint(intake.key.public_key)).ok());
  }
};

TEST(TrustPersistence, RoundTripKeepsEveryDecision) {
  Pinned before;
  std::string text = json::serialize(before.store.to_json());
  auto restored = TrustStore::from_json(json::parse(text));
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  EXPECT_EQ(json::serialize(restored->to_json()), text);

  EXPECT_EQ(restored->identity_status("alice"), IdentityStatus::kVerified);
  EXPECT_EQ(restored->identity_status("bob"), IdentityStatus::kChanged);
  CertifiedDevice swapped = certified(before.alice, "d-phone");
  EXPECT_EQ(reasons(restored->verify_devices({}, {swapped}))["d-phone"], "device id pinned with other keys");
  EXPECT_EQ(ids(restored->verify_devices({}, {before.phone}).accepted), std::vector<std::string>{"d-phone"});
  EXPECT_EQ(restored->check_archive_key(Practice{}.archive()).status, ArchiveStatus::kChanged);
  EXPECT_EQ(restored->check_archive_key(before.practice.archive()).status, ArchiveStatus::kPinned);
  EXPECT_FALSE(restored->check_archive_key(Practice{"practice-2"}.archive()).accepted());
  EXPECT_TRUE(restored->check_archive_key(before.intake.archive()).accepted());

  auto empty = TrustStore::from_json(TrustStore().to_json());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->identity("alice"), nullptr);
}

std::string field_of_store(std::string_view text) { return field_of(TrustStore::from_json(json::parse(text))); }

TEST(TrustPersistence, HostileJsonIsAnErrorNamingTheField) {
  std::string key = base64_encode(std::string(32, 'k'));
  auto with = [&](std::string_view list, std::string_view element) {
    return R"({"version":1,")" + std::string(list) + R"(":[)" + std::string(element) + "]}";
  };
  EXPECT_EQ(field_of_store("[]"), "trust_store");
  EXPECT_EQ(field_of_store("{}"), "version");
  EXPECT_EQ(field_of_store(R"({"version":2})"), "version");
  EXPECT_EQ(field_of_store(R"({"version":"1"})"), "version");
  EXPECT_EQ(field_of_store(R"({"version":1,"identities":{}})"), "identities");
  EXPECT_EQ(field_of_store(with("identities", "7")), "identities[0]");
  EXPECT_EQ(field_of_store(with("identities", R"({"public_key":")" + key + R"("})")), "identities[0].user_id");
  EXPECT_EQ(field_of_store(with("identities", R"({"user_id":"","public_key":")" + key + R"("})")),
            "identities[0].user_id");
  EXPECT_EQ(field_of_store(with("identities", R"({"user_id":"a","public_key":"!!"})")), "identities[0].public_key");
  EXPECT_EQ(field_of_store(with("identities", R"({"user_id":"a","public_key":"a2s="})")), "identities[0].public_key");
  EXPECT_EQ(field_of_store(with("identities", R"({"user_id":"a","public_key":")" + key + R"(","verified":"yes"})")),
            "identities[0].verified");
  EXPECT_EQ(field_of_store(with("identities", R"({"user_id":"a","public_key":")" + key + R"(","changed_key":1})")),
            "identities[0].changed_key");
  std::string alice = R"({"user_id":"a","public_key":")" + key + R"("})";
  EXPECT_EQ(field_of_store(with("identities", alice + "," + alice)), "identities[1].user_id");
  std::string device =
      R"({"id":"d","user_id":"a","signing_public_key":")" + key + R"(","agreement_public_key":")" + key + R"("})";
  EXPECT_EQ(field_of_store(with("devices", device)), "<ok>");
  EXPECT_EQ(field_of_store(with("devices", device + "," + device)), "devices[1].id");
  EXPECT_EQ(field_of_store(with("devices", R"({"id":"archive"})")), "devices[0].id");
  EXPECT_EQ(field_of_store(with("devices", R"({"id":"d","user_id":"a","signing_public_key":")" + key + R"("})")),
            "devices[0].agreement_public_key");
  EXPECT_EQ(field_of_store(with("practices", R"({"practice_id":"p"})")), "practices[0].fingerprint");
  EXPECT_EQ(field_of_store(with("practices", R"({"practice_id":"p","fingerprint":"12 34"})")),
            "practices[0].fingerprint");
  EXPECT_EQ(field_of_store(with("practices", R"({"practice_id":"p","public_key":")" + key + R"(","fingerprint":"x"})")),
            "practices[0]");
  EXPECT_EQ(field_of_store(with("practices", R"({"public_key":")" + key + R"("})")), "practices[0].practice_id");
}

// Every value of a real store replaced by each other JSON type: never a crash, and
// every refusal names a field.
TEST(TrustPersistence, EveryValueReplacedByAnotherTypeIsRefusedOrHarmless) {
  Pinned pinned;
  const json::value original = pinned.store.to_json();
  const std::vector<json::value> replacements = {nullptr, true, 7, -1, 1.5, "", "!!", json::array{}, json::object{}};
  int refused = 0;
  std::function<void(json::value&, json::value&)> each = [&](json::value& root, json::value& at) {
    if (at.is_object()) {
      for (auto& [k, v] : at.as_object()) each(root, v);
    } else if (at.is_array()) {
      for (auto& v : at.as_array()) each(root, v);
    }
    json::value saved = at;
    for (const auto& r : replacements) {
      at = r;
      auto result = TrustStore::from_json(root);
      if (!result.ok()) {
        ++refused;
        EXPECT_FALSE(result.error().field.empty()) << json::serialize(root);
      }
    }
    at = saved;
  };
  json::value copy = original;
  each(copy, copy);
  EXPECT_EQ(copy, original);
  EXPECT_GT(refused, 100);
}

}  // namespace
}  // namespace alliance::client
