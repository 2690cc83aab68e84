// MessagingService over real SQLite and Redis, continued: the sealed format a
// message is in (1: seal_message, 2: seal_message_v2), declared by the sender,
// stored with the message and returned on every path; what each format may
// weigh; and a database from before formats were recorded.
#include "alliance/crypto/message_seal.hpp"
#include "messaging_fixture.hpp"

namespace alliance::messaging {
namespace {

// A fixture of its own: test suites cannot span files.
class MessagingFormatTest : public MessagingServiceTest {
 protected:
  // A sealed-looking send declaring `format` (0 = unset), 400 random bytes of
  // ciphertext unless given: above both formats' minimum.
  pb::SendMessageRequest sealed_as(int format, const std::string& conversation_id, const std::string& message_id,
                                   std::string ciphertext = "") const {
    auto req = sealed(conversation_id, message_id, "dev-client-phone", recipients(),
                      ciphertext.empty() ? random_bytes(400) : std::move(ciphertext));
    req.set_format(format);
    return req;
  }
  // The formats of everything in the conversation as the therapist syncs it.
  std::vector<int> formats(const std::string& conversation_id) {
    std::vector<int> out;
    for (const auto& m : messages(conversation_id)) out.push_back(m.format());
    return out;
  }
};

TEST_F(MessagingFormatTest, FormatOneUnlessTwoIsDeclaredAndEveryAnswerSaysWhich) {
  const auto conv = open();
  record_pushes({kClient, kTherapist});
  const auto unset = sealed_as(0, conv, "unset");
  const auto one = sealed_as(1, conv, "one");
  const auto two = sealed_as(2, conv, "two");
  for (const auto* req : {&unset, &one, &two}) {
    auto r = send(client(), *req);
    ASSERT_TRUE(r.ok()) << req->message_id() << ": " << r.error().message;
    EXPECT_EQ(r->message().format(), req->message_id() == "two" ? 2 : 1) << req->message_id();
  }

  // Sync, by either participant.
  EXPECT_EQ(formats(conv), (std::vector<int>{1, 1, 2}));
  auto phone = sync(client(), conv, "dev-client-phone");
  ASSERT_TRUE(phone.ok()) << phone.error().message;
  ASSERT_EQ(phone->messages_size(), 3);
  EXPECT_EQ(phone->messages(2).format(), 2);

  // Pushes, to both participants.
  ASSERT_TRUE(pump_until([&] { return pushed(kClient, "message.new") >= 3 && pushed(kTherapist, "message.new") >= 3; },
                         5s));
  for (const std::string user : {kClient, kTherapist}) {
    std::vector<int> got;
    for (const auto& m : pushed_messages(user)) got.push_back(m.format());
    EXPECT_EQ(got, (std::vector<int>{1, 1, 2})) << user;
  }

  // A retry, answered by the append...
  auto again = send(client(), two);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->message().seq(), 3);
  EXPECT_EQ(again->message().format(), 2);
  // ...and, once the device list changed, by the look-up before the stale refusal.
  directory_.add_device(kTherapist, "dev-therapist-tablet", "sess-therapist-tablet");
  auto late = send(client(), two);
  ASSERT_TRUE(late.ok()) << late.error().message;
  EXPECT_EQ(late->message().seq(), 3);
  EXPECT_EQ(late->message().format(), 2);
  auto late_unset = send(client(), unset);
  ASSERT_TRUE(late_unset.ok()) << late_unset.error().message;
  EXPECT_EQ(late_unset->message().format(), 1);
  EXPECT_EQ(messages(conv).size(), 3u);
}

TEST_F(MessagingFormatTest, FormatsOtherThanOneAndTwoAreRefusedNamingFormat) {
  const auto conv = open();
  for (int bad : {3, -1, 255}) {
    auto r = send(client(), sealed_as(bad, conv, "bad-" + std::to_string(bad + 1)));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument) << bad;
    EXPECT_EQ(r.error().field, "format") << r.error().message;
    EXPECT_EQ(r.error().message.rfind("format:", 0), 0u) << r.error().message;
  }
  EXPECT_TRUE(messages(conv).empty());
}

TEST_F(MessagingFormatTest, ReusingAnIdWithAnotherFormatIsAConflict) {
  const auto conv = open();
  const auto two = sealed_as(2, conv, "sealed-two");
  const auto one = sealed_as(0, conv, "sealed-one");
  ASSERT_TRUE(send(client(), two).ok());
  ASSERT_TRUE(send(client(), one).ok());
  auto refused_as_conflict = [&](pb::SendMessageRequest req, int format, const std::string& when) {
    req.set_format(format);
    auto r = send(client(), req);
    ASSERT_FALSE(r.ok()) << when;
    EXPECT_EQ(r.error().code, Code::kAlreadyExists) << when << ": " << r.error().message;
    EXPECT_EQ(r.error().field, "message_id") << when;
  };
  // Everything else the same, as a different ciphertext would be.
  refused_as_conflict(two, 1, "format 2 sent again as 1");
  refused_as_conflict(two, 0, "format 2 sent again unset");
  refused_as_conflict(one, 2, "format 1 sent again as 2");
  // Unset and 1 are one format: that is a retry.
  auto retry = one;
  retry.set_format(1);
  auto replayed = send(client(), retry);
  ASSERT_TRUE(replayed.ok()) << replayed.error().message;
  EXPECT_EQ(replayed->message().seq(), 2);

  // The same when the send would be refused as stale anyway.
  directory_.revoke_device("dev-client-laptop");
  refused_as_conflict(two, 1, "after the device list changed");
  auto got = messages(conv);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].format(), 2);
  EXPECT_EQ(got[0].ciphertext(), two.ciphertext());
  EXPECT_EQ(got[1].format(), 1);
}

TEST_F(MessagingFormatTest, EachFormatHasItsOwnCiphertextBounds) {
  // Format 2 pads content to 256 bytes at least and up to 64 KiB: its smallest
  // message is larger than format 1's, and its 64 KiB bucket must still fit.
  const auto conv = open();
  ASSERT_EQ(crypto::kMinMessageCiphertextSize, 92u);
  ASSERT_EQ(crypto::kMinMessageCiphertextSizeV2, 348u);
  int n = 0;
  auto outcome = [&](int format, std::size_t size) -> std::string {
    auto r = send(client(), sealed_as(format, conv, "size-" + std::to_string(++n), random_bytes(size)));
    if (r.ok()) return "ok";
    EXPECT_EQ(r.error().code, Code::kInvalidArgument) << r.error().message;
    return r.error().field;
  };
  EXPECT_EQ(outcome(1, 91), "ciphertext");
  EXPECT_EQ(outcome(1, 92), "ok");
  EXPECT_EQ(outcome(1, 65537), "ciphertext");
  EXPECT_EQ(outcome(2, 347), "ciphertext");
  EXPECT_EQ(outcome(2, 348), "ok");
  EXPECT_EQ(outcome(2, 12 + 64 + 65536 + 16), "ok");
  EXPECT_EQ(outcome(2, 12 + 64 + 65536 + 16 + 1), "ciphertext");
  EXPECT_EQ(formats(conv), (std::vector<int>{1, 2, 2}));
}

TEST_F(MessagingFormatTest, MessagesStoredBeforeFormatsWereRecordedReadAsFormatOneAndStillReplay) {
  // A database left by the build before migration 2: no format column. Made here
  // by sending and then taking migration 2 (and the later ones) back out of the file;
  // migration 4's keys blob goes with them (its own test, MessagingStoreKeys, moves
  // old key rows), so the message comes back keyless, as an erased one does.
  const auto conv = open();
  const auto old = sealed_as(0, conv, "from-before");
  ASSERT_TRUE(send(client(), old).ok());
  auto undone = run(store_->database().write([](store::Connection& c) -> Result<bool> {
    c.exec(
        "DROP TABLE idempotent_writes; ALTER TABLE messages DROP COLUMN format; "
        "ALTER TABLE messages DROP COLUMN wrapped_keys_blob; "
        "CREATE TABLE wrapped_keys(conversation_id TEXT NOT NULL, seq INTEGER NOT NULL, device_id TEXT NOT NULL, "
        "wrapped BLOB NOT NULL, PRIMARY KEY(conversation_id, seq, device_id)) WITHOUT ROWID; "
        "DELETE FROM schema_migrations WHERE version >= 2;");
    return true;
  }));
  ASSERT_TRUE(undone.ok()) << undone.error().message;
  ASSERT_NO_FATAL_FAILURE(reopen_store());

  EXPECT_EQ(formats(conv), (std::vector<int>{1}));
  auto retry = send(client(), old);  // its hash was made before formats counted
  ASSERT_TRUE(retry.ok()) << retry.error().message;
  EXPECT_EQ(retry->message().seq(), 1);
  EXPECT_EQ(retry->message().format(), 1);
  ASSERT_TRUE(send(client(), sealed_as(2, conv, "after")).ok());
  EXPECT_EQ(formats(conv), (std::vector<int>{1, 2}));
}

}  // namespace
}  // namespace alliance::messaging
