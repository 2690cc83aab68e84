// Opening sealed messages as the server would hand them out (JSON, base64), and the
// push handler's decisions, without a server: a message sealed by one device opens
// on another with the right text, and every way it can be wrong is reported on the
// message instead of failing the whole sync.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "alliance/client/messenger.hpp"
#include "alliance/core/ids.hpp"
#include "test_devices.hpp"

namespace alliance::client {
namespace {

namespace json = boost::json;


// What the server stores from a SendMessageRequest and hands back, as JSON.
json::object server_message(const SealedRequest& req, std::int64_t seq, const std::string& sender_user) {
  json::object m = req.body().as_object();
  m["seq"] = std::to_string(seq);
  m["sender_user_id"] = sender_user;
  m["sent_unix_ms"] = "1700000000000";
  m["kind"] = "user";
  m["system_text"] = "";
  m["expired"] = false;
  return m;
}

SealedRequest seal_for(const Device& sender, const std::vector<const Device*>& to, const std::string& text,
                       const std::string& message_id = "m1") {
  std::vector<crypto::Recipient> recipients;
  for (const Device* d : to) recipients.push_back({d->id, d->keys.agreement_public});
  SealedRequest req;
  req.conversation_id = "conv1";
  req.message_id = message_id;
  req.sender_device_id = sender.id;
  auto sealed = crypto::seal_message({req.conversation_id, req.message_id, req.sender_device_id}, text,
                                     sender.keys.signing_private, recipients);
  EXPECT_TRUE(sealed) << sealed.error().message;
  req.ciphertext = sealed->ciphertext;
  req.content_key = sealed->content_key;
  req.keys = sealed->keys;
  return req;
}

WireMessage wire(const json::object& m) {
  auto w = wire_message_from_json(json::parse(json::serialize(m)));
  EXPECT_TRUE(w) << w.error().message;
  return w ? *w : WireMessage{};
}

TEST(OpenWireMessage, EveryRecipientDeviceReadsTheSameText) {
  Device alice = make_device("da", "ua"), bob = make_device("db", "ub"), bob2 = make_device("db2", "ub");
  auto req = seal_for(alice, {&alice, &bob, &bob2}, "see you thursday");
  auto m = wire(server_message(req, 1, "ua"));
  auto sender = public_part(alice);
  for (const Device* reader : {&alice, &bob, &bob2}) {
    auto r = open_wire_message(m, *reader, &sender);
    EXPECT_TRUE(r.readable()) << reader->id << ": " << r.error;
    EXPECT_EQ(r.plaintext, "see you thursday");
    EXPECT_EQ(r.kind, "user");
    EXPECT_EQ(r.seq, 1);
    EXPECT_EQ(r.sender_device_id, "da");
  }
  // The serialized request carries no plaintext.
  EXPECT_EQ(json::serialize(req.body()).find("thursday"), std::string::npos);
  EXPECT_EQ(json::serialize(req.body()).find(req.content_key), std::string::npos);
}

TEST(OpenWireMessage, ProblemsAreReportedOnTheMessage) {
  Device alice = make_device("da", "ua"), bob = make_device("db", "ub"), eve = make_device("de", "ue");
  auto req = seal_for(alice, {&alice, &bob}, "private");
  auto good = server_message(req, 1, "ua");
  auto sender = public_part(alice);

  auto not_for_me = open_wire_message(wire(good), eve, &sender);
  EXPECT_FALSE(not_for_me.readable());
  EXPECT_EQ(not_for_me.error, "no key for this device");
  EXPECT_TRUE(not_for_me.plaintext.empty());

  auto unknown = open_wire_message(wire(good), bob, nullptr);
  EXPECT_EQ(unknown.error, "unknown sender device");

  auto impostor = public_part(eve);
  impostor.id = "da";
  impostor.user_id = "ua";
  auto forged = open_wire_message(wire(good), bob, &impostor);
  EXPECT_FALSE(forged.error.empty());
  EXPECT_TRUE(forged.plaintext.empty());

  auto other_user = good;
  other_user["sender_user_id"] = "ue";
  EXPECT_EQ(open_wire_message(wire(other_user), bob, &sender).error, "the sender device belongs to another user");

  auto tampered = wire(good);
  tampered.ciphertext[20] = static_cast<char>(tampered.ciphertext[20] ^ 1);
  EXPECT_FALSE(open_wire_message(tampered, bob, &sender).error.empty());

  // Another message id (the aad) does not open either: a replay under a new id.
  auto replayed = good;
  replayed["message_id"] = "m2";
  EXPECT_FALSE(open_wire_message(wire(replayed), bob, &sender).error.empty());
}

TEST(OpenWireMessage, SystemNoticesAndExpiredMessagesPassThroughFlagged) {
  Device bob = make_device("db", "ub");
  auto notice = wire(json::object{{"conversation_id", "conv1"}, {"seq", "4"}, {"message_id", "sys-1"},
                                  {"kind", "system"}, {"system_text", "Dr. Kim replies within 24 hours."}});
  auto r = open_wire_message(notice, bob, nullptr);
  EXPECT_TRUE(r.is_system());
  EXPECT_FALSE(r.readable());
  EXPECT_TRUE(r.error.empty());
  EXPECT_EQ(r.system_text, "Dr. Kim replies within 24 hours.");
  EXPECT_TRUE(r.plaintext.empty());

  // A server that puts the therapist's ids on a notice ("Dr Kim: text me at ...") gets
  // nowhere: a system notice is never attributed to a person or device.
  auto forged = wire(json::object{{"conversation_id", "conv1"}, {"seq", "6"}, {"message_id", "sys-2"},
                                  {"sender_user_id", "u-therapist"}, {"sender_device_id", "d-therapist"},
                                  {"kind", "system"}, {"system_text", "Dr Kim: text me at 555-0100"}});
  auto f = open_wire_message(forged, bob, nullptr);
  EXPECT_TRUE(f.is_system());
  EXPECT_EQ(f.sender_user_id, "");
  EXPECT_EQ(f.sender_device_id, "");

  auto expired = wire(json::object{{"conversation_id", "conv1"}, {"seq", "5"}, {"message_id", "m"},
                                   {"sender_user_id", "ua"}, {"sender_device_id", "da"}, {"kind", "user"},
                                   {"expired", true}});
  auto e = open_wire_message(expired, bob, nullptr);
  EXPECT_TRUE(e.expired);
  EXPECT_TRUE(e.error.empty());
  EXPECT_FALSE(e.readable());
}

TEST(VerifyRecipients, KeepsSignedDevicesAndRejectsForgedOrSwappedKeys) {
  Device alice = make_device("da", "ua"), bob = make_device("db", "ub"), mallory = make_device("dm", "um");
  KnownDevices known;
  Recipients list;
  list.devices = {public_part(alice), public_part(bob)};
  list.archive_public = std::string(32, 'a');
  auto first = verify_recipients(list, known);
  ASSERT_EQ(first.devices.size(), 2u);
  EXPECT_TRUE(first.rejected.empty());
  EXPECT_EQ(known.size(), 2u);
  auto wrap = first.crypto_recipients();
  ASSERT_EQ(wrap.size(), 3u);
  EXPECT_EQ(wrap[2].device_id, "archive");

  // An agreement key the device's signing key never signed (a server's own key).
  auto forged = public_part(bob);
  forged.id = "db-new";
  forged.agreement_public = mallory.keys.agreement_public;
  // Bob's id again, but with keys that sign correctly yet are not the pinned ones.
  auto swapped = public_part(mallory);
  swapped.id = "db";
  swapped.user_id = "ub";
  // Alice's keys moved to another owner.
  auto moved = public_part(alice);
  moved.user_id = "um";
  // The reserved id of the archive key.
  auto archive = public_part(mallory);
  archive.id = "archive";
  Recipients bad;
  bad.devices = {forged, swapped, moved, archive, public_part(alice)};
  auto second = verify_recipients(bad, known);
  ASSERT_EQ(second.devices.size(), 1u);
  EXPECT_EQ(second.devices[0].id, "da");
  EXPECT_EQ(second.rejected, (std::vector<std::string>{"db-new", "db", "da", "archive"}));
  EXPECT_EQ(known.at("db").agreement_public, bob.keys.agreement_public) << "the pinned key stays";
}

TEST(NewMessageId, IsTwentySixUrlSafeCharactersAndFresh) {
  auto a = new_message_id(), b = new_message_id();
  EXPECT_EQ(a.size(), 26u);
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(12), b.substr(12)) << "the random part differs within one millisecond too";
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << a;
}

// The server's index of message ids takes new ids at its end only if a later id sorts
// after an earlier one as plain bytes.
TEST(NewMessageId, BeginsWithTheTimeSoLaterIdsSortLater) {
  const auto before = now_unix_ms();
  auto a = new_message_id();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto b = new_message_id();
  const auto after = now_unix_ms();
  EXPECT_LT(a, b);
  const auto stamped = std::stoll(a.substr(0, 12), nullptr, 16);
  EXPECT_GE(stamped, before);
  EXPECT_LE(stamped, after);
  for (char c : a.substr(0, 12)) EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f')) << a;
}

// A Messenger whose gateway refuses connections: whatever needs the server fails
// fast, so the test sees exactly which pushes are handled locally.
class PushHandling : public ::testing::Test {
 protected:
  PushHandling() : client_(Endpoint{"127.0.0.1", 1, {}}), me_(make_device("dme", "ume")), messenger_(client_, me_) {
    client_.set_timeout(std::chrono::seconds(2));
  }

  json::value frame(const SealedRequest& req, std::int64_t seq) {
    json::object body = server_message(req, seq, "ume");
    body["@type"] = "type.googleapis.com/alliance.messaging.v1.Message";
    return json::object{{"id", "p" + std::to_string(seq)}, {"type", "message.new"}, {"sent_unix_ms", "1"},
                        {"body", body}};
  }

  AllianceClient client_;
  Device me_;
  Messenger messenger_;
};

TEST_F(PushHandling, NextIsOpenedDuplicateIgnoredGapNeedsTheServer) {
  auto first = seal_for(me_, {&me_}, "one", "m1");
  auto second = seal_for(me_, {&me_}, "two", "m2");
  auto fourth = seal_for(me_, {&me_}, "four", "m4");

  auto e1 = messenger_.on_push(frame(first, 1));
  ASSERT_TRUE(e1) << e1.error().message;
  ASSERT_EQ(e1->messages.size(), 1u);
  EXPECT_EQ(e1->messages[0].plaintext, "one");
  EXPECT_EQ(messenger_.last_seq("conv1"), 1);

  auto again = messenger_.on_push(frame(first, 1));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->messages.empty());

  auto e2 = messenger_.on_push_text(json::serialize(frame(second, 2)));
  ASSERT_TRUE(e2);
  ASSERT_EQ(e2->messages.size(), 1u);
  EXPECT_EQ(e2->messages[0].plaintext, "two");

  // Seq 3 is missing: the handler must fetch it before showing 4, and there is no server.
  auto gap = messenger_.on_push(frame(fourth, 4));
  ASSERT_FALSE(gap);
  EXPECT_EQ(gap.error().code, Code::kUnavailable);
  EXPECT_EQ(messenger_.last_seq("conv1"), 2);
}

TEST_F(PushHandling, ReceiptsTypingAndOtherFramesArePassedOn) {
  auto read = messenger_.on_push_text(R"({"id":"x","type":"receipt.read","body":{"conversation_id":"conv1",
      "user_id":"u2","kind":"read","seq":"3"}})");
  ASSERT_TRUE(read);
  ASSERT_TRUE(read->receipt);
  EXPECT_EQ(read->receipt->seq, 3);
  EXPECT_TRUE(read->messages.empty());

  auto typing = messenger_.on_push_text(R"({"id":"y","type":"typing","body":{"conversation_id":"conv1",
      "user_id":"u2","typing":true}})");
  ASSERT_TRUE(typing);
  ASSERT_TRUE(typing->typing);
  EXPECT_TRUE(typing->typing->typing);

  auto other = messenger_.on_push_text(R"({"id":"z","type":"reminder.due","body":{"text":"hi"}})");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->type, "reminder.due");
  EXPECT_TRUE(other->messages.empty());

  EXPECT_FALSE(messenger_.on_push_text("{"));
  EXPECT_FALSE(messenger_.on_push_text(R"({"type":"message.new","body":{"seq":"1"}})"));
  EXPECT_FALSE(messenger_.on_push_text(R"({"type":"receipt.read","body":[]})"));
}

TEST_F(PushHandling, AMessageFromAnUnknownDeviceIsFlaggedNotDropped) {
  Device stranger = make_device("dx", "ux");
  auto req = seal_for(stranger, {&me_}, "hello", "m1");
  json::object body = server_message(req, 1, "ux");
  json::value f = json::object{{"id", "p"}, {"type", "message.new"}, {"body", body}};
  auto e = messenger_.on_push(f);
  ASSERT_TRUE(e) << e.error().message;
  ASSERT_EQ(e->messages.size(), 1u);
  EXPECT_EQ(e->messages[0].error, "unknown sender device");
  EXPECT_TRUE(e->messages[0].plaintext.empty());
  EXPECT_EQ(messenger_.last_seq("conv1"), 1);
}

TEST_F(PushHandling, AnImportedPinOpensItsMessagesAndRefusesOtherKeysUnderItsId) {
  Device kim = make_device("dkim", "ukim");
  // The app before a restart: it verified Kim's device and keeps its pins.
  EXPECT_TRUE(messenger_.pinned_devices().empty()) << "its own device is not exported";
  EXPECT_TRUE(messenger_.pin_devices({public_part(kim)}).empty());
  auto kept = json::serialize(peer_devices_to_json(messenger_.pinned_devices()));
  EXPECT_EQ(kept.find("private"), std::string::npos);

  // After the restart: a new Messenger, the pins read back from storage.
  Messenger restarted(client_, me_);
  auto read = peer_devices_from_json(json::parse(kept));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_TRUE(restarted.pin_devices(*read).empty());
  ASSERT_EQ(restarted.pinned_devices().size(), 1u);
  EXPECT_EQ(restarted.pinned_devices()[0].signing_public, kim.keys.signing_public);

  // Kim's message opens from the pin alone (the gateway here is unreachable).
  auto hello = seal_for(kim, {&me_}, "hello from kim", "m1");
  json::value f1 = json::object{{"id", "p1"}, {"type", "message.new"}, {"body", server_message(hello, 1, "ukim")}};
  auto e1 = restarted.on_push(f1);
  ASSERT_TRUE(e1) << e1.error().message;
  ASSERT_EQ(e1->messages.size(), 1u);
  EXPECT_TRUE(e1->messages[0].readable()) << e1->messages[0].error;
  EXPECT_EQ(e1->messages[0].plaintext, "hello from kim");

  // Later, other (validly self-signed) keys under Kim's device id are refused,
  // both as a pin and as the signer of a message; the pin keeps Kim's keys.
  Device impostor = make_device("dkim", "ukim");
  EXPECT_EQ(restarted.pin_devices({public_part(impostor)}), (std::vector<std::string>{"dkim"}));
  ASSERT_EQ(restarted.pinned_devices().size(), 1u);
  EXPECT_EQ(restarted.pinned_devices()[0].signing_public, kim.keys.signing_public);
  auto forged = seal_for(impostor, {&me_}, "it is me, kim", "m2");
  json::value f2 = json::object{{"id", "p2"}, {"type", "message.new"}, {"body", server_message(forged, 2, "ukim")}};
  auto e2 = restarted.on_push(f2);
  ASSERT_TRUE(e2) << e2.error().message;
  ASSERT_EQ(e2->messages.size(), 1u);
  EXPECT_FALSE(e2->messages[0].readable());
  EXPECT_FALSE(e2->messages[0].error.empty());
  EXPECT_TRUE(e2->messages[0].plaintext.empty());

  // Pins that do not verify, the reserved archive id, and other keys for this device's own id.
  auto unsigned_keys = public_part(make_device("dother", "uother"));
  unsigned_keys.agreement_public = impostor.keys.agreement_public;
  auto archive = public_part(make_device("archive", "uother"));
  auto self = public_part(make_device("dme", "ume"));
  EXPECT_EQ(restarted.pin_devices({unsigned_keys, archive, self}),
            (std::vector<std::string>{"dother", "archive", "dme"}));
  EXPECT_EQ(restarted.pinned_devices().size(), 1u);
}

}  // namespace
}  // namespace alliance::client
