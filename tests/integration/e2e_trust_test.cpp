// End-to-end trust that does not rest on the server, against the real system: users'
// identity keys and approved devices, safety numbers, the signed archive key, format
// 2 messages, and what a hostile operator of the server can and cannot do. The
// operator's moves are made where an operator would make them: in the services'
// SQLite files (a device marked approved, a message copied to a later seq, one
// deleted and the rest renumbered) or through the admin API (another archive key).
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <thread>

#include "alliance/client/client.hpp"
#include "alliance/core/ids.hpp"
#include "alliance/crypto/identity_keys.hpp"
#include "alliance/store/connection.hpp"
#include "alliance/store/query.hpp"
#include "messaging_support.hpp"
#include "system.hpp"

namespace alliance::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using client::Messenger;
using client::ReceivedMessage;

// A service's database as the operator edits it: no foreign-key checks in the way.
std::unique_ptr<store::Connection> operator_db(const std::filesystem::path& path) {
  auto db = store::Connection::open(path, {});
  db->exec("PRAGMA foreign_keys=OFF");
  return db;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class E2eTrust : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { sys_ = new System(); }
  static void TearDownTestSuite() {
    delete sys_;
    sys_ = nullptr;
  }

  void SetUp() override {
    slug_ = "t" + new_id().substr(0, 12);
    sys_->create_practice(slug_);
    admin_ = sys_->login(slug_, "admin@" + slug_ + ".example");
    practice_id_ = admin_->tokens().practice_id;
    therapist_id_ = sys_->create_user(slug_, email("kim"), "therapist");
    client_id_ = sys_->create_user(slug_, email("jo"), "client");
    auto link = admin_->post_json("/v1/care-team", json::value{{"client_id", client_id_}, {"therapist_id", therapist_id_}});
    ASSERT_TRUE(link) << link.error().message;
  }

  std::string email(const std::string& who) const { return who + "@" + slug_ + ".example"; }

  // Logs `who` in on a new session, registers its device and sets up the user's
  // identity there: ready (first device, or approved already) or awaiting approval.
  std::unique_ptr<Member> device(const std::string& who, std::string* approval_code = nullptr) {
    auto m = std::make_unique<Member>();
    m->api = sys_->login(slug_, email(who));
    m->user_id = m->api->tokens().user_id;
    auto d = client::register_device(*m->api, who + "'s device");
    EXPECT_TRUE(d) << d.error().message;
    if (!d) return nullptr;
    auto setup = client::set_up_identity(*m->api, *d, now_ms());
    EXPECT_TRUE(setup) << setup.error().message;
    if (!setup) return nullptr;
    if (setup->identity) {
      identities_.insert_or_assign(d->id, *setup->identity);
      m->messenger = std::make_unique<Messenger>(*m->api, std::move(*d), std::move(*setup->identity));
    } else {
      if (approval_code) *approval_code = setup->approval_code;
      m->messenger = std::make_unique<Messenger>(*m->api, std::move(*d));
    }
    return m;
  }

  // The pending device `m` again, once approved: its identity opened from the box.
  void take_identity(Member& m) {
    auto setup = client::set_up_identity(*m.api, m.messenger->device(), now_ms());
    ASSERT_TRUE(setup) << setup.error().message;
    ASSERT_TRUE(setup->identity) << "still awaiting approval";
    identities_.insert_or_assign(m.device_id(), *setup->identity);
    m.messenger = std::make_unique<Messenger>(*m.api, m.messenger->device(), std::move(*setup->identity));
  }

  std::string open(Member& m) {
    auto c = m.messenger->open_conversation(client_id_, therapist_id_);
    EXPECT_TRUE(c) << c.error().message;
    return c ? c->id : "";
  }

  static std::vector<ReceivedMessage> sync(Member& m, const std::string& conv) {
    auto r = m.messenger->sync(conv);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : std::vector<ReceivedMessage>{};
  }

  static const ReceivedMessage* with_text(const std::vector<ReceivedMessage>& got, const std::string& text) {
    for (const auto& m : got)
      if (m.plaintext == text) return &m;
    return nullptr;
  }

  // The practice's archive key, signed by `practice_key` (an admin's call).
  void set_archive_key(const crypto::IdentityKeyPair& practice_key, const std::string& agreement_public) {
    const std::int64_t issued = now_ms();
    auto signature = crypto::sign_archive_key(practice_key.private_seed,
                                              crypto::ArchiveKeyStatement{practice_id_, agreement_public, issued});
    ASSERT_TRUE(signature) << signature.error().message;
    json::value body = {{"agreement_public_key", client::base64_encode(agreement_public)},
                        {"practice_public_key", client::base64_encode(practice_key.public_key)},
                        {"archive_key_signature", client::base64_encode(*signature)},
                        {"issued_unix_ms", std::to_string(issued)}};
    auto r = admin_->put_json("/v1/practice/archive-key", body);
    ASSERT_TRUE(r) << r.error().message;
  }

  // As the operator: message `from` of the conversation now sits at seq `to` (the
  // last one), its wrapped keys (kept in its row) with it.
  static void renumber(const std::string& conv, std::int64_t from, std::int64_t to) {
    auto db = operator_db(sys_->dir() / "messaging.db");
    store::execute(*db, "UPDATE messages SET seq = ?3 WHERE conversation_id = ?1 AND seq = ?2", conv, from, to);
    store::execute(*db, "UPDATE conversations SET last_seq = ?2 WHERE id = ?1", conv, to);
  }

  static System* sys_;
  std::map<std::string, client::UserIdentity> identities_;  // by device id, as the device keeps it
  std::string slug_, practice_id_, therapist_id_, client_id_;
  std::unique_ptr<client::AllianceClient> admin_;
};
System* E2eTrust::sys_ = nullptr;

TEST_F(E2eTrust, FirstDevicesTalkInFormatTwoAndBothSeeTheSameSafetyNumber) {
  auto kim = device("kim");
  auto jo = device("jo");
  ASSERT_TRUE(kim && jo);
  const auto conv = open(*kim);
  auto sent = kim->messenger->send(conv, "How was the week?");
  ASSERT_TRUE(sent) << sent.error().message << " [" << sent.error().field << "]";
  auto got = sync(*jo, conv);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].readable()) << got[0].error;
  EXPECT_EQ(got[0].format, 2);
  EXPECT_EQ(got[0].plaintext, "How was the week?");
  ASSERT_TRUE(jo->messenger->send(conv, "Better, thanks."));
  auto back = sync(*kim, conv);
  ASSERT_NE(with_text(back, "Better, thanks."), nullptr);
  EXPECT_TRUE(kim->messenger->integrity(conv).ok());
  EXPECT_TRUE(jo->messenger->integrity(conv).ok());

  auto a = kim->messenger->safety_number(conv);
  auto b = jo->messenger->safety_number(conv);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->size(), 60u + 11u);  // 12 groups of 5 digits
}

TEST_F(E2eTrust, ASecondDeviceIsTrustedOnlyAfterApprovalWithTheCodeItShows) {
  auto kim = device("kim");
  auto phone = device("jo");
  ASSERT_TRUE(kim && phone);
  std::string code;
  auto tablet = device("jo", &code);
  ASSERT_TRUE(tablet);
  ASSERT_EQ(code.size(), 6u) << "the tablet should be awaiting approval";
  const auto conv = open(*kim);

  // Pending: not a recipient, so Kim's message goes to the phone only.
  ASSERT_TRUE(kim->messenger->send(conv, "before approval"));
  EXPECT_NE(with_text(sync(*phone, conv), "before approval"), nullptr);

  // A wrong code (a device the server slipped in shows another one) approves nothing.
  auto pending = client::pending_devices(*phone->api);
  ASSERT_TRUE(pending) << pending.error().message;
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().id, tablet->device_id());
  const auto& identity = identities_.at(phone->device_id());
  std::string wrong = code;
  wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
  auto refused = client::approve_device(*phone->api, identity, tablet->device_id(), wrong, now_ms());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "code");
  auto still = client::set_up_identity(*tablet->api, tablet->messenger->device(), now_ms());
  ASSERT_TRUE(still);
  EXPECT_FALSE(still->identity);

  ASSERT_TRUE(client::approve_device(*phone->api, identity, tablet->device_id(), code, now_ms()));
  take_identity(*tablet);
  ASSERT_TRUE(kim->messenger->send(conv, "after approval"));  // the new list is checked, then sealed again
  EXPECT_NE(with_text(sync(*tablet, conv), "after approval"), nullptr);
  EXPECT_NE(with_text(sync(*phone, conv), "after approval"), nullptr);
}

TEST_F(E2eTrust, ADeviceTheServerAddsForAUserIsNeverWrappedFor) {
  auto kim = device("kim");
  auto jo = device("jo");
  ASSERT_TRUE(kim && jo);
  const auto conv = open(*kim);
  ASSERT_TRUE(kim->messenger->send(conv, "hello"));
  // The operator registers a device of its own under Jo's account and marks it
  // approved in identity's database, certificate and all.
  std::string rogue;
  auto rogue_member = device("jo", &rogue);
  ASSERT_TRUE(rogue_member);
  {
    auto db = operator_db(sys_->dir() / "identity.db");
    store::execute(*db,
                   "UPDATE devices SET certificate_signature = randomblob(64), certificate_issued_unix_ms = 1 "
                   "WHERE id = ?1",
                   rogue_member->device_id());
  }
  auto sent = kim->messenger->send(conv, "the rogue device must not read this");
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(sent.error().field, "recipients");
  EXPECT_NE(sent.error().message.find(rogue_member->device_id()), std::string::npos) << sent.error().message;
  auto got = sync(*jo, conv);
  EXPECT_EQ(with_text(got, "the rogue device must not read this"), nullptr);
}

TEST_F(E2eTrust, ADeviceTheServerHidesFromTheSenderIsReportedByItsUsersOtherDevice) {
  auto kim = device("kim");
  auto phone = device("jo");
  ASSERT_TRUE(kim && phone);
  std::string code;
  auto tablet = device("jo", &code);
  ASSERT_TRUE(tablet);
  // Approved a while ago (the certificate's time is the approving device's clock).
  const auto& identity = identities_.at(phone->device_id());
  ASSERT_TRUE(client::approve_device(*phone->api, identity, tablet->device_id(), code, now_ms() - 3'600'000));
  take_identity(*tablet);
  const auto conv = open(*kim);
  ASSERT_TRUE(kim->messenger->send(conv, "to both of Jo's devices"));
  auto first = sync(*phone, conv);
  ASSERT_NE(with_text(first, "to both of Jo's devices"), nullptr);
  EXPECT_TRUE(phone->messenger->integrity(conv).ok()) << phone->messenger->integrity(conv).issues().front().text;

  // The operator hides the tablet from everyone (its certificate dropped in identity.db):
  // Kim's app is told the tablet is gone and seals the next message without it.
  {
    auto db = operator_db(sys_->dir() / "identity.db");
    store::execute(*db, "UPDATE devices SET certificate_signature = NULL WHERE id = ?1", tablet->device_id());
  }
  sys_->redis().cli({"PUBLISH", "identity:devices", phone->user_id});  // messaging's device cache is dropped
  auto hidden_list = kim->recipients_once(conv, [&](const client::VerifiedRecipients& r) {
    return std::none_of(r.devices.begin(), r.devices.end(), [&](const auto& d) { return d.id == tablet->device_id(); });
  });
  ASSERT_TRUE(hidden_list) << hidden_list.error().message;
  ASSERT_TRUE(kim->messenger->send(conv, "the tablet never gets this"));
  auto after = sync(*phone, conv);
  const ReceivedMessage* hidden = with_text(after, "the tablet never gets this");
  ASSERT_NE(hidden, nullptr);
  ASSERT_FALSE(hidden->integrity.empty()) << "the phone must say the tablet was left out";
  EXPECT_NE(hidden->integrity.front().find(tablet->device_id()), std::string::npos) << hidden->integrity.front();
  EXPECT_FALSE(phone->messenger->integrity(conv).ok());
  EXPECT_EQ(phone->messenger->integrity(conv).issues().back().kind, client::IntegrityKind::kMissingRecipient);
}

TEST_F(E2eTrust, AnArchiveKeyUnderAnotherPracticeKeyIsNotUsedUntilAccepted) {
  auto kim = device("kim");
  ASSERT_TRUE(kim);
  const auto practice_key = crypto::generate_practice_key();
  const auto archive = crypto::generate_device_keys();
  set_archive_key(practice_key, archive.agreement_public);
  const auto conv = open(*kim);
  ASSERT_TRUE(kim->messenger->send(conv, "on the record"));
  auto list = kim->messenger->recipients(conv, true);
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->archive_public, archive.agreement_public);
  EXPECT_EQ(list->archive_notice,
            "messages in this conversation are also readable by Practice " + slug_ + "'s record archive");

  // An admin (or the operator) puts in an archive key of its own under another practice key.
  const auto other_key = crypto::generate_practice_key();
  const auto other_archive = crypto::generate_device_keys();
  set_archive_key(other_key, other_archive.agreement_public);
  // Kim's app looks at the conversation's recipients again (as it does from time to
  // time), until messaging's cache has heard of the change (announced over Redis).
  auto changed = kim->recipients_once(conv, [&](const client::VerifiedRecipients& r) {
    return r.archive_public != archive.agreement_public;
  });
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_TRUE(changed->archive_public.empty());
  ASSERT_FALSE(changed->rejected.empty());
  EXPECT_EQ(changed->rejected.back(), "archive");
  auto refused = kim->messenger->send(conv, "not for the new archive");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "recipients");
  EXPECT_NE(refused.error().message.find("archive"), std::string::npos) << refused.error().message;

  // The therapist accepts the practice's new key (told so by the practice): sending resumes.
  ASSERT_TRUE(kim->messenger->trust().accept_practice_key(practice_id_, other_key.public_key));
  ASSERT_TRUE(kim->messenger->send(conv, "for the new archive")) << "after acceptance";
}

TEST_F(E2eTrust, AMessageSignedAfterItsDeviceWasRevokedIsRefused) {
  auto kim = device("kim");
  ASSERT_TRUE(kim);
  auto jo = device("jo");
  ASSERT_TRUE(jo);
  const auto conv = open(*kim);
  ASSERT_TRUE(jo->messenger->send(conv, "from my phone"));
  // Someone holding the phone's keys signs a message dated after the revocation that
  // follows; a server that plays along keeps delivering it.
  auto list = jo->messenger->recipients(conv, true);
  ASSERT_TRUE(list);
  client::SealedRequest req;
  req.conversation_id = conv;
  req.message_id = client::new_message_id();
  req.sender_device_id = jo->device_id();
  crypto::MessageHeaderV2 header;
  header.sender_user_id = jo->user_id;
  header.counter = 2;
  header.sent_unix_ms = now_ms() + 60'000;
  auto sealed = crypto::seal_message_v2({conv, req.message_id, req.sender_device_id}, header, "after revocation",
                                        jo->messenger->device().keys.signing_private, list->crypto_recipients());
  ASSERT_TRUE(sealed) << sealed.error().message;
  req.format = 2;
  req.ciphertext = sealed->ciphertext;
  req.keys = sealed->keys;
  ASSERT_TRUE(jo->messenger->send_sealed(req));
  auto revoke = jo->api->post_json("/v1/devices/" + jo->device_id() + "/revoke", json::object{});
  ASSERT_TRUE(revoke) << revoke.error().message;

  auto got = sync(*kim, conv);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].plaintext, "from my phone");
  EXPECT_FALSE(got[1].readable());
  EXPECT_TRUE(got[1].plaintext.empty());
  EXPECT_NE(got[1].error.find("revoked"), std::string::npos) << got[1].error;
}

TEST_F(E2eTrust, AReplayedOrDroppedMessageIsReportedNotHidden) {
  auto kim = device("kim");
  auto jo = device("jo");
  ASSERT_TRUE(kim && jo);
  const auto conv = open(*kim);
  for (const char* text : {"one", "two", "three"}) ASSERT_TRUE(kim->messenger->send(conv, text));
  ASSERT_EQ(sync(*jo, conv).size(), 3u);
  // The operator serves message 1 again at the end of the conversation (moved to seq 4).
  renumber(conv, 1, 4);
  auto replayed = sync(*jo, conv);
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_FALSE(replayed[0].readable()) << "a replay under another id must not be shown as new";
  EXPECT_FALSE(jo->messenger->integrity(conv).ok());
  jo->messenger->integrity(conv).acknowledge();

  // The operator drops message 6 and renumbers 7 to take its place.
  for (const char* text : {"five", "six", "seven"}) ASSERT_TRUE(kim->messenger->send(conv, text));
  {
    auto db = operator_db(sys_->dir() / "messaging.db");
    store::execute(*db, "DELETE FROM messages WHERE conversation_id = ?1 AND seq = 6", conv);
  }
  renumber(conv, 7, 6);
  auto after = sync(*jo, conv);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[1].plaintext, "seven");
  ASSERT_FALSE(after[1].integrity.empty()) << "the missing message must be reported";
  EXPECT_NE(after[1].integrity.front().find("missing"), std::string::npos) << after[1].integrity.front();
  EXPECT_FALSE(jo->messenger->integrity(conv).ok());
}

TEST_F(E2eTrust, AUserWithoutAnIdentityKeyIsReachedInFormatOneAndNeverDowngradedOnceSeenWithOne) {
  auto kim = device("kim");
  ASSERT_TRUE(kim);
  // Jo's app is from before identity keys: a device, no identity key.
  auto jo = std::make_unique<Member>();
  jo->api = sys_->login(slug_, email("jo"));
  jo->user_id = jo->api->tokens().user_id;
  auto jd = client::register_device(*jo->api, "jo's old phone");
  ASSERT_TRUE(jd) << jd.error().message;
  jo->messenger = std::make_unique<Messenger>(*jo->api, *jd);
  const auto conv = open(*kim);
  ASSERT_TRUE(kim->messenger->send(conv, "hello from the new app"));
  auto list = kim->messenger->recipients(conv);
  ASSERT_TRUE(list);
  EXPECT_EQ(list->unverified_users, std::vector<std::string>{jo->user_id}) << "shown as a warning";
  auto got = sync(*jo, conv);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].plaintext, "hello from the new app");
  EXPECT_EQ(got[0].format, 1) << "what an older app reads";

  // Jo's app sets up an identity key: Kim's next message is format 2.
  auto setup = client::set_up_identity(*jo->api, jo->messenger->device(), now_ms());
  ASSERT_TRUE(setup && setup->identity);
  jo->messenger = std::make_unique<Messenger>(*jo->api, jo->messenger->device(), std::move(*setup->identity));
  jo->messenger->set_last_seq(conv, 1);
  auto keyed = kim->recipients_once(conv,
                               [](const client::VerifiedRecipients& r) { return r.unverified_users.empty(); });
  ASSERT_TRUE(keyed && keyed->unverified_users.empty()) << "Kim's app learns Jo's key";
  ASSERT_TRUE(kim->messenger->send(conv, "now with keys"));
  got = sync(*jo, conv);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].plaintext, "now with keys");
  EXPECT_EQ(got[0].format, 2);

  // The operator makes Jo look like an older app again (key and certificates gone):
  // Kim's app, having seen Jo's key, refuses instead of falling back.
  {
    auto db = operator_db(sys_->dir() / "identity.db");
    store::execute(*db, "DELETE FROM identity_keys WHERE user_id = ?1", jo->user_id);
    store::execute(*db, "UPDATE devices SET certificate_signature = NULL WHERE user_id = ?1", jo->user_id);
  }
  sys_->redis().cli({"PUBLISH", "identity:devices", jo->user_id});
  // Until messaging's cache has dropped the old answer Kim still sees Jo's key (and only
  // certified devices): wait for the new one.
  auto list_now = kim->recipients_once(conv,
                                  [](const client::VerifiedRecipients& r) { return !r.rejected.empty(); });
  ASSERT_TRUE(list_now) << list_now.error().message;
  ASSERT_FALSE(list_now->rejected.empty()) << "Jo's uncertified device is never trusted again";
  EXPECT_TRUE(list_now->unverified_users.empty());
  auto refused = kim->messenger->send(conv, "not without Jo's key");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "recipients");
  EXPECT_NE(refused.error().message.find(jo->messenger->device().id), std::string::npos) << refused.error().message;
}

TEST_F(E2eTrust, FormatOneHistoryStillOpensOnDevicesThatTookIdentityKeys) {
  // Both start on apps without identity keys and exchange format 1 messages.
  auto kim = std::make_unique<Member>();
  kim->api = sys_->login(slug_, email("kim"));
  auto kd = client::register_device(*kim->api, "kim's laptop");
  ASSERT_TRUE(kd);
  kim->messenger = std::make_unique<Messenger>(*kim->api, *kd);
  auto jo = std::make_unique<Member>();
  jo->api = sys_->login(slug_, email("jo"));
  auto jd = client::register_device(*jo->api, "jo's phone");
  ASSERT_TRUE(jd);
  jo->messenger = std::make_unique<Messenger>(*jo->api, *jd);
  const auto conv = open(*kim);
  ASSERT_TRUE(kim->messenger->send(conv, "old format"));
  ASSERT_TRUE(jo->messenger->send(conv, "old reply"));

  // Then both devices take identity keys, and fresh Messengers read everything.
  for (auto* m : {kim.get(), jo.get()}) {
    auto setup = client::set_up_identity(*m->api, m->messenger->device(), now_ms());
    ASSERT_TRUE(setup && setup->identity) << (setup ? "awaiting approval" : setup.error().message);
    m->messenger = std::make_unique<Messenger>(*m->api, m->messenger->device(), std::move(*setup->identity));
  }
  ASSERT_TRUE(kim->messenger->send(conv, "new format"));
  auto got = sync(*jo, conv);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].plaintext, "old format");
  EXPECT_EQ(got[0].format, 1);
  EXPECT_EQ(got[1].plaintext, "old reply");
  EXPECT_EQ(got[2].plaintext, "new format");
  EXPECT_EQ(got[2].format, 2);
}

}  // namespace
}  // namespace alliance::testing
