// The messaging JSON the gateway sends, read into plain structs: both field
// spellings, int64 as strings, base64 bytes, and hostile input as errors.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "alliance/client/alliance_client.hpp"
#include "alliance/client/wire.hpp"

namespace alliance::client {
namespace {

namespace json = boost::json;

TEST(Base64, RoundTripsEveryLengthAndMatchesKnownValues) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xfb\xff", 2)), "+/8=");
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes) << i;
    bytes.push_back(static_cast<char>(i * 37 + 200));
  }
}

TEST(Base64, AcceptsUrlAlphabetAndMissingPadding) {
  EXPECT_EQ(base64_decode("-_8"), std::string("\xfb\xff", 2));
  EXPECT_EQ(base64_decode("+/8="), std::string("\xfb\xff", 2));
  EXPECT_EQ(base64_decode("Zg"), "f");
}

TEST(Base64, RejectsGarbage) {
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_FALSE(base64_decode("Z"));
  EXPECT_FALSE(base64_decode("Zg=="
                             "Zg=="));
  EXPECT_FALSE(base64_decode("Zg==="));
  EXPECT_FALSE(base64_decode("Zm9=v"));
  EXPECT_FALSE(base64_decode("Zm8=="));
  EXPECT_FALSE(base64_decode(std::string("Zm\0v", 4)));
}

json::value parse(std::string_view text) { return json::parse(text); }

TEST(WireMessage, ReadsTheGatewaysSnakeCaseWithInt64Strings) {
  auto m = wire_message_from_json(parse(R"({
    "@type": "type.googleapis.com/alliance.messaging.v1.Message",
    "conversation_id": "c1", "seq": "42", "message_id": "m1", "sender_user_id": "u1",
    "sender_device_id": "d1", "ciphertext": "Zm9vYmFy",
    "keys": [{"device_id": "d2", "wrapped_key": "Zm8="}, {"device_id": "archive", "wrapped_key": ""}],
    "sent_unix_ms": "1700000000000", "kind": "user", "system_text": "", "expired": false})"));
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->conversation_id, "c1");
  EXPECT_EQ(m->seq, 42);
  EXPECT_EQ(m->message_id, "m1");
  EXPECT_EQ(m->sender_user_id, "u1");
  EXPECT_EQ(m->sender_device_id, "d1");
  EXPECT_EQ(m->ciphertext, "foobar");
  ASSERT_EQ(m->keys.size(), 2u);
  EXPECT_EQ(m->keys[0].device_id, "d2");
  EXPECT_EQ(m->keys[0].wrapped_key, "fo");
  EXPECT_EQ(m->keys[1].device_id, "archive");
  EXPECT_EQ(m->sent_unix_ms, 1700000000000);
  EXPECT_EQ(m->kind, "user");
  EXPECT_FALSE(m->expired);
}

TEST(WireMessage, ReadsLowerCamelCaseAndNumbersToo) {
  auto m = wire_message_from_json(parse(R"({"conversationId": "c1", "seq": 3, "messageId": "m",
    "senderDeviceId": "d", "kind": "system", "systemText": "after hours", "expired": true,
    "keys": [{"deviceId": "d2", "wrappedKey": "-_8"}]})"));
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->conversation_id, "c1");
  EXPECT_EQ(m->seq, 3);
  EXPECT_EQ(m->sender_device_id, "d");
  EXPECT_EQ(m->kind, "system");
  EXPECT_EQ(m->system_text, "after hours");
  EXPECT_TRUE(m->expired);
  ASSERT_EQ(m->keys.size(), 1u);
  EXPECT_EQ(m->keys[0].wrapped_key, std::string("\xfb\xff", 2));
}

TEST(WireMessage, HostileInputIsAnErrorNamingTheField) {
  struct Case {
    const char* json;
    const char* field;
  };
  const Case cases[] = {
      {R"([])", "message"},
      {R"({"conversation_id": "c", "seq": "x"})", "seq"},
      {R"({"conversation_id": "c", "seq": "1e3"})", "seq"},
      {R"({"conversation_id": "c", "seq": "99999999999999999999"})", "seq"},
      {R"({"conversation_id": "c", "seq": 1.5})", "seq"},
      {R"({"conversation_id": "c", "seq": 0})", "seq"},
      {R"({"conversation_id": "c"})", "seq"},
      {R"({"seq": 1})", "conversation_id"},
      {R"({"conversation_id": 7, "seq": 1})", "conversation_id"},
      {R"({"conversation_id": "c", "seq": 1, "ciphertext": "***"})", "ciphertext"},
      {R"({"conversation_id": "c", "seq": 1, "keys": {}})", "keys"},
      {R"({"conversation_id": "c", "seq": 1, "keys": [1]})", "keys"},
      {R"({"conversation_id": "c", "seq": 1, "keys": [{"device_id": "d", "wrapped_key": "%"}]})", "wrapped_key"},
      {R"({"conversation_id": "c", "seq": 1, "expired": "yes"})", "expired"},
  };
  for (const auto& c : cases) {
    auto m = wire_message_from_json(parse(c.json));
    ASSERT_FALSE(m) << c.json;
    EXPECT_EQ(m.error().code, Code::kInvalidArgument) << c.json;
    EXPECT_EQ(m.error().field, c.field) << c.json;
  }
}

TEST(Recipients, ReadsDevicesAndTheArchiveKey) {
  auto r = recipients_from_json(parse(R"({
    "devices": [{"id": "d1", "user_id": "u1", "name": "phone", "signing_public_key": "Zm9v",
                 "agreement_public_key": "YmFy", "agreement_key_signature": "Zm8=",
                 "created_unix_ms": "5", "revoked_unix_ms": "0", "current": false}],
    "archive_key": {"practice_id": "p", "agreement_public_key": "YXJj", "set_unix_ms": "9"}})"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->devices.size(), 1u);
  EXPECT_EQ(r->devices[0].id, "d1");
  EXPECT_EQ(r->devices[0].user_id, "u1");
  EXPECT_EQ(r->devices[0].signing_public, "foo");
  EXPECT_EQ(r->devices[0].agreement_public, "bar");
  EXPECT_EQ(r->devices[0].agreement_signature, "fo");
  EXPECT_EQ(r->archive_public, "arc");
}

TEST(Recipients, ReadsCertificatesIdentityKeysAndTheArchiveKeysSignature) {
  auto r = recipients_from_json(parse(R"({
    "devices": [{"id": "d1", "user_id": "u1", "certificate_signature": "c2ln",
                 "certificate_issued_unix_ms": "42", "approved": true}],
    "identity_keys": [{"user_id": "u1", "public_key": "aWRr", "set_unix_ms": "7"}],
    "archive_key": {"practice_id": "p", "agreement_public_key": "YXJj", "practice_public_key": "cGs=",
                    "archive_key_signature": "YXM=", "issued_unix_ms": "3"}})"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->devices.at(0).certificate_signature, "sig");
  EXPECT_EQ(r->devices.at(0).certificate_issued_unix_ms, 42);
  EXPECT_TRUE(r->devices.at(0).approved);
  ASSERT_EQ(r->identity_keys.size(), 1u);
  EXPECT_EQ(r->identity_keys[0].user_id, "u1");
  EXPECT_EQ(r->identity_keys[0].public_key, "idk");
  EXPECT_EQ(r->identity_keys[0].set_unix_ms, 7);
  EXPECT_EQ(r->archive.practice_id, "p");
  EXPECT_EQ(r->archive.agreement_public, "arc");
  EXPECT_EQ(r->archive.practice_public_key, "pk");
  EXPECT_EQ(r->archive.signature, "as");
  EXPECT_EQ(r->archive.issued_unix_ms, 3);
  EXPECT_EQ(recipients_from_json(parse(R"({"identity_keys": [{"public_key": "aWRr"}]})")).error().field,
            "identity_key.user_id");
  EXPECT_EQ(recipients_from_json(parse(R"({"identity_keys": {}})")).error().field, "identity_keys");
}

TEST(WireMessage, FormatIsOneOrTwo) {
  auto v1 = wire_message_from_json(parse(R"({"conversation_id": "c", "seq": "1"})"));
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->format, 1);
  auto v2 = wire_message_from_json(parse(R"({"conversation_id": "c", "seq": "1", "format": 2})"));
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->format, 2);
  auto bad = wire_message_from_json(parse(R"({"conversation_id": "c", "seq": "1", "format": 3})"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "format");
}

TEST(Recipients, NoArchiveKeyAndNoDevicesIsEmpty) {
  auto r = recipients_from_json(parse(R"({"devices": []})"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->devices.empty());
  EXPECT_TRUE(r->archive_public.empty());
  EXPECT_FALSE(recipients_from_json(parse(R"({"devices": [{"user_id": "u"}]})")));
  EXPECT_FALSE(recipients_from_json(parse(R"({"devices": "d1"})")));
  EXPECT_FALSE(recipients_from_json(parse(R"({"archive_key": []})")));
}

TEST(PeerDevices, RoundTripThroughJsonTextAndRefuseABadElement) {
  PeerDevice a;
  a.id = "d1";
  a.user_id = "u1";
  a.name = "Kim's \"phone\"";
  a.signing_public = std::string("\x00\x01\xff sign", 8);
  a.agreement_public = "agree";
  a.agreement_signature = std::string(64, '\x7f');
  a.revoked_unix_ms = 1'700'000'000'123;
  PeerDevice b = a;
  b.id = "d2";
  b.revoked_unix_ms = 0;
  b.current = true;
  auto back = peer_devices_from_json(parse(json::serialize(peer_devices_to_json({a, b}))));
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const PeerDevice& want = i == 0 ? a : b;
    const PeerDevice& got = (*back)[i];
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.user_id, want.user_id);
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.signing_public, want.signing_public);
    EXPECT_EQ(got.agreement_public, want.agreement_public);
    EXPECT_EQ(got.agreement_signature, want.agreement_signature);
    EXPECT_EQ(got.revoked_unix_ms, want.revoked_unix_ms);
    EXPECT_EQ(got.current, want.current);
  }
  auto empty = peer_devices_from_json(parse("[]"));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());

  EXPECT_FALSE(peer_devices_from_json(parse(R"({"id": "d1"})")));
  auto no_id = peer_devices_from_json(parse(R"([{"id": "d1"}, {"user_id": "u"}])"));
  ASSERT_FALSE(no_id);
  EXPECT_EQ(no_id.error().field, "device.id");
  auto bad_key = peer_devices_from_json(parse(R"([{"id": "d1", "signing_public_key": "%%"}])"));
  ASSERT_FALSE(bad_key);
  EXPECT_EQ(bad_key.error().field, "signing_public_key");
}

TEST(PushFrame, ReadsTypeAndBody) {
  auto f = push_frame_from_text(R"({"id": "p1", "type": "receipt.read", "sent_unix_ms": "12",
    "body": {"@type": "type.googleapis.com/alliance.messaging.v1.Receipt", "conversation_id": "c",
             "user_id": "u", "device_id": "", "kind": "read", "seq": "4", "at_unix_ms": "11"}})");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->id, "p1");
  EXPECT_EQ(f->type, "receipt.read");
  EXPECT_EQ(f->sent_unix_ms, 12);
  auto r = receipt_from_json(f->body);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->conversation_id, "c");
  EXPECT_EQ(r->kind, "read");
  EXPECT_EQ(r->seq, 4);
  EXPECT_EQ(r->at_unix_ms, 11);
}

TEST(PushFrame, TypingBody) {
  auto t = typing_from_json(parse(R"({"conversation_id": "c", "user_id": "u", "typing": true})"));
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->typing);
  EXPECT_EQ(t->user_id, "u");
  EXPECT_FALSE(typing_from_json(parse(R"({"conversation_id": "c", "typing": 1})")));
}

TEST(PushFrame, GarbageIsAnErrorAtEveryTruncation) {
  std::string good = R"({"id":"p","type":"message.new","body":{"conversation_id":"c","seq":"1"}})";
  ASSERT_TRUE(push_frame_from_text(good));
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(push_frame_from_text(good.substr(0, n))) << n;
  }
  EXPECT_FALSE(push_frame_from_text(R"({"id":"p"})"));
  EXPECT_FALSE(push_frame_from_text(R"("message.new")"));
}

TEST(Conversation, ReadsIdsAndCursors) {
  auto c = conversation_from_json(parse(R"({"id": "c", "practice_id": "p", "client_id": "u1",
    "therapist_id": "u2", "created_unix_ms": "1", "last_seq": "9", "read_seq": "3", "peer_read_seq": "2",
    "erased_unix_ms": "0"})"));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->id, "c");
  EXPECT_EQ(c->therapist_id, "u2");
  EXPECT_EQ(c->last_seq, 9);
  EXPECT_EQ(c->read_seq, 3);
  EXPECT_EQ(c->peer_read_seq, 2);
}

TEST(ErrorDetail, TheStaleKeysDetailReachesTheCaller) {
  std::string body = R"({"error":{"code":"failed_precondition","message":"keys: stale","field":"keys",
    "detail":{"recipients":{"devices":[{"id":"d9","user_id":"u"}]}}}})";
  auto d = error_detail(body);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->at("recipients").at("devices").at(0).at("id").as_string(), "d9");
  HttpResponse response;
  response.status = 409;
  response.body = body;
  auto e = error_from_response(response);
  EXPECT_EQ(e.code, Code::kFailedPrecondition);
  EXPECT_EQ(e.field, "keys");
  EXPECT_EQ(json::parse(e.detail), *d);
  EXPECT_FALSE(error_detail(R"({"error":{"code":"not_found"}})"));
  EXPECT_FALSE(error_detail("not json"));
  response.body = R"({"error":{"code":"not_found"}})";
  EXPECT_TRUE(error_from_response(response).detail.empty());
}

}  // namespace
}  // namespace alliance::client
