// What a reader can prove about a conversation's history from signed v2 headers: a
// server that replays, drops, renumbers or reorders messages, keeps delivering for a
// revoked device, or showed the sender another device list, is reported.
#include "alliance/client/conversation_integrity.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>
#include <ostream>

#include "alliance/client/wire.hpp"
#include "alliance/crypto/message_seal.hpp"

namespace alliance::client {

// Failure messages name the kind ("gap") instead of printing its bytes.
static void PrintTo(IntegrityKind kind, std::ostream* os) { *os << integrity_kind_name(kind); }

namespace {

namespace json = boost::json;
using Display = IntegrityVerdict::Display;

constexpr std::int64_t kT0 = 1'717'000'000'000;  // a sent time, ms
constexpr std::int64_t kMinute = 60'000;

std::vector<IntegrityKind> kinds_of(const std::vector<IntegrityIssue>& issues) {
  std::vector<IntegrityKind> out;
  for (const auto& i : issues) out.push_back(i.kind);
  return out;
}

// ---- Real sealed messages between a client and a therapist -----------------------------

// One device in the conversation, with its own view of it.
struct Party {
  std::string user_id, device_id;
  crypto::DeviceKeys keys = crypto::generate_device_keys();
  ConversationIntegrity integrity{"conv-1", ReaderStart::kFromFirstMessage};
};

// A message as the server stores it.
struct Posted {
  std::string message_id, sender_device_id, signing_public;
  crypto::MessageHeaderV2 header;
  crypto::SealedMessage sealed;
};

class SealedConversation : public ::testing::Test {
 protected:
  Party client_{"user-client", "dev-client"};
  Party therapist_{"user-therapist", "dev-therapist"};
  Party eve_{"user-eve", "dev-eve"};  // a device the server slips in
  std::vector<std::string> trusted_{"dev-client", "dev-therapist"};
  std::vector<std::string> expected_{"dev-client", "dev-therapist"};
  int next_id_ = 1;

  // Seals from `from`'s current view (next counter, last hash) for the two parties (and
  // `extra` devices); not yet accepted by the server.
  Posted seal(Party& from, std::int64_t sent, const std::vector<const Party*>& extra = {}) {
    Posted p{"msg-" + std::to_string(next_id_++), from.device_id, from.keys.signing_public, {}, {}};
    p.header = {from.user_id, from.integrity.next_counter(from.device_id), from.integrity.last_hash(), sent, {}};
    std::vector<crypto::Recipient> to{{client_.device_id, client_.keys.agreement_public},
                                      {therapist_.device_id, therapist_.keys.agreement_public}};
    for (const Party* e : extra) to.push_back({e->device_id, e->keys.agreement_public});
    auto sealed = crypto::seal_message_v2({"conv-1", p.message_id, from.device_id}, p.header, "hello " + p.message_id,
                                          from.keys.signing_private, to);
    EXPECT_TRUE(sealed.ok());
    if (sealed) p.sealed = std::move(*sealed);
    return p;
  }
  // The server accepted it at `seq`: the sender records it.
  void accept(Party& from, const Posted& p, std::int64_t seq) {
    ASSERT_TRUE(from.integrity.record_own(seq, p.message_id, from.device_id, p.header, p.sealed.message_hash).ok());
  }
  Posted send(Party& from, std::int64_t seq, std::int64_t sent) {
    Posted p = seal(from, sent);
    accept(from, p, seq);
    return p;
  }

  // `reader` opens the message the server delivers at `seq` and feeds it in.
  IntegrityVerdict deliver(Party& reader, const Posted& p, std::int64_t seq, std::int64_t revoked = 0) {
    std::string wrapped;
    for (const auto& k : p.sealed.keys)
      if (k.device_id == reader.device_id) wrapped = k.wrapped_key;
    auto opened = crypto::open_message_v2({"conv-1", p.message_id, p.sender_device_id}, p.sealed.ciphertext, wrapped,
                                          reader.device_id, reader.keys.agreement_private, p.signing_public);
    EXPECT_TRUE(opened.ok()) << "opening " << p.message_id;
    if (!opened) return {};
    DeliveredMessage m{seq, p.message_id, p.sender_device_id, opened->header, opened->message_hash, revoked, trusted_, expected_};
    auto verdict = reader.integrity.observe(m);
    EXPECT_TRUE(verdict.ok());
    return verdict.ok() ? *verdict : IntegrityVerdict{};
  }
};

TEST_F(SealedConversation, InOrderConversationWithInterleavedAndConcurrentSendsIsClean) {
  Posted m1 = send(client_, 1, kT0);
  EXPECT_TRUE(deliver(therapist_, m1, 1).issues.empty());
  Posted m2 = send(therapist_, 2, kT0 + 1000);  // answers m1
  Posted m3 = send(client_, 3, kT0 + 1500);     // sent before the client saw m2
  EXPECT_EQ(m3.header.prev_hash, m1.sealed.message_hash);
  EXPECT_EQ(m3.header.counter, 2u);
  for (auto [p, seq] : {std::pair{&m2, 2}, {&m3, 3}}) {
    IntegrityVerdict seen_by_client = deliver(client_, *p, seq);
    IntegrityVerdict seen_by_therapist = deliver(therapist_, *p, seq);
    EXPECT_TRUE(seen_by_client.issues.empty()) << seen_by_client.issues.front().text;
    EXPECT_TRUE(seen_by_therapist.issues.empty()) << seen_by_therapist.issues.front().text;
  }
  Posted m4 = send(therapist_, 4, kT0 + 2000);
  EXPECT_EQ(m4.header.prev_hash, m3.sealed.message_hash);
  IntegrityVerdict v4 = deliver(client_, m4, 4);
  EXPECT_EQ(v4.display, Display::kShow);
  EXPECT_TRUE(v4.issues.empty());
  // Each side's own messages come back in a sync: already shown, nothing wrong.
  EXPECT_EQ(deliver(therapist_, m4, 4).display, Display::kDuplicate);
  EXPECT_TRUE(client_.integrity.ok());
  EXPECT_TRUE(therapist_.integrity.ok());
  EXPECT_EQ(client_.integrity.last_hash(), m4.sealed.message_hash);
  EXPECT_EQ(client_.integrity.next_counter("dev-client"), 3u);
  EXPECT_EQ(client_.integrity.next_counter("dev-therapist"), 3u);
}

TEST_F(SealedConversation, ReplayOfMessageThreeAtALaterSeqIsNotShownTwice) {
  Posted m1 = send(client_, 1, kT0), m2 = send(client_, 2, kT0 + 1), m3 = send(client_, 3, kT0 + 2);
  for (auto [p, seq] : {std::pair{&m1, 1}, {&m2, 2}, {&m3, 3}}) EXPECT_TRUE(deliver(therapist_, *p, seq).show());
  // Delivered again at its own seq (a push and a sync): harmless.
  IntegrityVerdict again = deliver(therapist_, m3, 3);
  EXPECT_EQ(again.display, Display::kDuplicate);
  EXPECT_TRUE(again.issues.empty());
  EXPECT_TRUE(therapist_.integrity.ok());
  // Replayed at seq 7: not shown, and the server is caught.
  IntegrityVerdict replay = deliver(therapist_, m3, 7);
  EXPECT_EQ(replay.display, Display::kDuplicate);
  EXPECT_FALSE(replay.show());
  ASSERT_EQ(kinds_of(replay.issues), std::vector{IntegrityKind::kReplay});
  EXPECT_EQ(replay.issues[0].seq, 7);
  EXPECT_EQ(replay.issues[0].message_id, m3.message_id);
  EXPECT_NE(replay.issues[0].text.find("delivered again at seq 7 (first at seq 3)"), std::string::npos);
  EXPECT_FALSE(therapist_.integrity.ok());
}

TEST_F(SealedConversation, DroppedAndRenumberedMessageIsAGapNamingTheCounter) {
  Posted m1 = send(client_, 1, kT0), m2 = send(client_, 2, kT0 + 1), m3 = send(client_, 3, kT0 + 2);
  Posted m4 = send(client_, 4, kT0 + 3);
  // The server drops m3 and renumbers m4 to seq 3.
  EXPECT_TRUE(deliver(therapist_, m1, 1).issues.empty());
  EXPECT_TRUE(deliver(therapist_, m2, 2).issues.empty());
  IntegrityVerdict v = deliver(therapist_, m4, 3);
  EXPECT_TRUE(v.show());
  ASSERT_EQ(kinds_of(v.issues), (std::vector{IntegrityKind::kGap, IntegrityKind::kGap}));
  EXPECT_EQ(v.issues[0].first_missing, 3u);
  EXPECT_EQ(v.issues[0].last_missing, 3u);
  EXPECT_EQ(v.issues[0].text, "a message from device dev-client is missing (counter 3)");
  EXPECT_EQ(v.issues[1].text, "message " + m4.message_id +
                                  " from device dev-client refers to a message this device "
                                  "never received");
  ASSERT_EQ(therapist_.integrity.issues().size(), 2u);
  EXPECT_FALSE(therapist_.integrity.ok());
}

TEST_F(SealedConversation, MessageSignedAfterTheSenderDeviceWasRevokedIsRefused) {
  Posted m1 = send(client_, 1, kT0);
  EXPECT_TRUE(deliver(therapist_, m1, 1, kT0 + 5 * kMinute).show());  // before the revocation
  Posted m2 = send(client_, 2, kT0 + 6 * kMinute);
  IntegrityVerdict v = deliver(therapist_, m2, 2, kT0 + 5 * kMinute);
  EXPECT_EQ(v.display, Display::kRefused);
  ASSERT_EQ(kinds_of(v.issues), std::vector{IntegrityKind::kFromRevokedDevice});
  EXPECT_NE(v.issues[0].text.find("signed after the device was revoked"), std::string::npos);
  // The stolen key backdates its next message: its counter gives it away.
  Posted m3 = send(client_, 3, kT0 + 4 * kMinute);
  IntegrityVerdict backdated = deliver(therapist_, m3, 3, kT0 + 5 * kMinute);
  EXPECT_EQ(backdated.display, Display::kRefused);
  EXPECT_EQ(kinds_of(backdated.issues).front(), IntegrityKind::kFromRevokedDevice);
  // A refused message is not what the reader's next message follows.
  EXPECT_EQ(therapist_.integrity.last_hash(), m1.sealed.message_hash);
}

TEST_F(SealedConversation, BackdatedMessageFollowingOneSignedAfterRevocationIsRefused) {
  Posted m1 = send(therapist_, 1, kT0 + 30 * kMinute);  // signed well after the client device's revocation
  EXPECT_TRUE(deliver(client_, m1, 1).show());
  Posted m2 = send(client_, 2, kT0);  // claims a time before the revocation, yet saw m1
  IntegrityVerdict v = deliver(therapist_, m2, 2, kT0 + 5 * kMinute);
  EXPECT_EQ(v.display, Display::kRefused);
  EXPECT_EQ(kinds_of(v.issues), std::vector{IntegrityKind::kFromRevokedDevice});
}

TEST_F(SealedConversation, RecipientSetWithAnExtraUntrustedDeviceIsShownWithAWarning) {
  Posted m1 = seal(client_, kT0, {&eve_});
  accept(client_, m1, 1);
  IntegrityVerdict v = deliver(therapist_, m1, 1);
  EXPECT_TRUE(v.show());
  ASSERT_EQ(kinds_of(v.issues), std::vector{IntegrityKind::kUntrustedRecipient});
  EXPECT_EQ(v.issues[0].device_ids, std::vector<std::string>{"dev-eve"});
  EXPECT_FALSE(therapist_.integrity.ok());
}

TEST_F(SealedConversation, RecipientSetLeavingOutATrustedDeviceIsAWarning) {
  trusted_.push_back("dev-therapist-laptop");  // the therapist's approved second device
  expected_.push_back("dev-therapist-laptop");
  Posted m1 = send(client_, 1, kT0);
  IntegrityVerdict v = deliver(therapist_, m1, 1);
  EXPECT_TRUE(v.show());
  ASSERT_EQ(kinds_of(v.issues), std::vector{IntegrityKind::kMissingRecipient});
  EXPECT_EQ(v.issues[0].device_ids, std::vector<std::string>{"dev-therapist-laptop"});
}

TEST_F(SealedConversation, ATrustedDeviceNotYetExpectedWhenTheMessageWasSignedIsNoWarning) {
  trusted_.push_back("dev-therapist-laptop");  // approved around the time the message was signed
  Posted m1 = send(client_, 1, kT0);
  IntegrityVerdict v = deliver(therapist_, m1, 1);
  EXPECT_TRUE(v.show());
  EXPECT_TRUE(v.issues.empty());
  EXPECT_TRUE(therapist_.integrity.ok());
}

TEST_F(SealedConversation, OwnMessagesRecordedMakeTheNextCounterAndPrevHashRight) {
  EXPECT_EQ(client_.integrity.next_counter("dev-client"), 1u);
  EXPECT_EQ(client_.integrity.last_hash(), "");
  Posted m1 = send(client_, 1, kT0);
  EXPECT_EQ(client_.integrity.next_counter("dev-client"), 2u);
  EXPECT_EQ(client_.integrity.last_hash(), m1.sealed.message_hash);
  // A sealed request the server never accepted leaves its counter unused.
  Posted unsent = seal(client_, kT0 + 1);
  EXPECT_EQ(unsent.header.counter, 2u);
  EXPECT_EQ(client_.integrity.next_counter("dev-client"), 2u);
  Posted m2 = send(therapist_, 2, kT0 + 2);
  EXPECT_TRUE(deliver(client_, m2, 2).issues.empty());
  Posted m3 = send(client_, 3, kT0 + 3);
  EXPECT_EQ(m3.header.counter, 2u);
  EXPECT_EQ(m3.header.prev_hash, m2.sealed.message_hash);
  // Recording the same message twice (a retried send) changes nothing.
  accept(client_, m3, 3);
  EXPECT_EQ(client_.integrity.next_counter("dev-client"), 3u);
  // What the client sent reads clean on the other side.
  EXPECT_TRUE(deliver(therapist_, m1, 1).issues.empty());
  EXPECT_EQ(deliver(therapist_, m2, 2).display, Display::kDuplicate);
  EXPECT_TRUE(deliver(therapist_, m3, 3).issues.empty());
  EXPECT_TRUE(therapist_.integrity.ok());
}

// ---- Hand-built headers ------------------------------------------------------------------

// A reader in conversation "conv-1" fed headers built by hand: hashes are the id padded.
class HandBuiltHeaders : public ::testing::Test {
 protected:
  ConversationIntegrity reader_{"conv-1", ReaderStart::kFromFirstMessage};

  static std::string hash_of(std::string_view id) {
    std::string h = "hash:" + std::string(id);
    h.resize(32, '.');
    return h;
  }
  static DeliveredMessage message(std::int64_t seq, std::string id, std::string device, std::uint64_t counter,
                                  std::string prev_id, std::int64_t sent) {
    DeliveredMessage m;
    m.seq = seq;
    m.message_id = id;
    m.sender_device_id = device;
    m.header = {"user-" + device, counter, prev_id.empty() ? "" : hash_of(prev_id), sent, {"dev-a", "dev-b"}};
    m.message_hash = hash_of(id);
    m.trusted_device_ids = {"dev-b", "dev-a"};
    m.expected_device_ids = {"dev-b", "dev-a"};
    return m;
  }
  IntegrityVerdict feed(const DeliveredMessage& m) {
    auto v = reader_.observe(m);
    EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message);
    return v.ok() ? *v : IntegrityVerdict{};
  }
  // a1 <- b1 <- a2 <- b2: a clean start, at seqs 1..4.
  void clean_start() {
    feed(message(1, "a1", "dev-a", 1, "", kT0));
    feed(message(2, "b1", "dev-b", 1, "a1", kT0 + 1));
    feed(message(3, "a2", "dev-a", 2, "b1", kT0 + 2));
    feed(message(4, "b2", "dev-b", 2, "a2", kT0 + 3));
    ASSERT_TRUE(reader_.ok()) << reader_.issues().front().text;
  }
};

TEST_F(HandBuiltHeaders, CounterReusedUnderAnotherIdIsAReplay) {
  clean_start();
  IntegrityVerdict v = feed(message(5, "a2-again", "dev-a", 2, "b1", kT0 + 2));
  EXPECT_TRUE(v.show());
  ASSERT_EQ(kinds_of(v.issues), std::vector{IntegrityKind::kReplay});
  EXPECT_NE(v.issues[0].text.find("reuses counter 2 of message a2"), std::string::npos);
}

TEST_F(HandBuiltHeaders, SameIdWithOtherContentIsRefused) {
  clean_start();
  DeliveredMessage forged = message(5, "a2", "dev-a", 3, "b2", kT0 + 4);
  forged.message_hash = hash_of("something else");
  IntegrityVerdict v = feed(forged);
  EXPECT_EQ(v.display, Display::kRefused);
  EXPECT_EQ(kinds_of(v.issues), std::vector{IntegrityKind::kIdConflict});
}

TEST_F(HandBuiltHeaders, SwappedMessagesFromOneDeviceAreAGapThenReordered) {
  clean_start();
  // The server delivers a4 before a3.
  IntegrityVerdict first = feed(message(5, "a4", "dev-a", 4, "a3", kT0 + 5));
  EXPECT_EQ(kinds_of(first.issues), (std::vector{IntegrityKind::kGap, IntegrityKind::kGap}));
  IntegrityVerdict late = feed(message(6, "a3", "dev-a", 3, "b2", kT0 + 4));
  EXPECT_TRUE(late.show());
  EXPECT_EQ(kinds_of(late.issues), (std::vector{IntegrityKind::kReordered, IntegrityKind::kReordered}));
  EXPECT_NE(late.issues[0].text.find("(counter 3) arrived after its counter 4"), std::string::npos);
  EXPECT_NE(late.issues[1].text.find("arrived after message a4 (seq 5), which follows it"), std::string::npos);
}

TEST_F(HandBuiltHeaders, SeqOrderContradictingTheChainIsReordered) {
  clean_start();
  feed(message(9, "b3", "dev-b", 3, "b2", kT0 + 10));
  // b3 sits at seq 9; a message at seq 8 cannot follow it.
  IntegrityVerdict v = feed(message(8, "a3", "dev-a", 3, "b3", kT0 + 11));
  EXPECT_EQ(kinds_of(v.issues), std::vector{IntegrityKind::kReordered});
  EXPECT_NE(v.issues[0].text.find("which the server delivered later (seq 9)"), std::string::npos);
}

TEST_F(HandBuiltHeaders, SignedTimeWellBeforeTheDevicesPreviousMessageIsReordered) {
  clean_start();
  // Within the tolerance: clocks and concurrent sends.
  EXPECT_TRUE(feed(message(5, "a3", "dev-a", 3, "b2", kT0 + 2 - kIntegrityClockToleranceMs)).issues.empty());
  IntegrityVerdict v = feed(message(6, "a4", "dev-a", 4, "a3", kT0 + 2 - 3 * kIntegrityClockToleranceMs));
  EXPECT_TRUE(v.show());
  ASSERT_EQ(kinds_of(v.issues), std::vector{IntegrityKind::kReordered});
  EXPECT_NE(v.issues[0].text.find("signed 20 minutes before the device's previous message"), std::string::npos);
}

TEST_F(HandBuiltHeaders, FirstMessageFromADeviceStartsAtOneForAReaderFromTheStart) {
  IntegrityVerdict v = feed(message(1, "a5", "dev-a", 5, "", kT0));
  ASSERT_EQ(kinds_of(v.issues), std::vector{IntegrityKind::kGap});
  EXPECT_EQ(v.issues[0].text, "4 messages from device dev-a are missing (counters 1 to 4)");
  EXPECT_EQ(v.issues[0].first_missing, 1u);
  EXPECT_EQ(v.issues[0].last_missing, 4u);
}

TEST_F(HandBuiltHeaders, AReaderThatJoinedLaterTakesEachDevicesFirstCounterAsItsBaseline) {
  reader_ = ConversationIntegrity("conv-1", ReaderStart::kJoinedLater);
  // Both follow history this device cannot open.
  EXPECT_TRUE(feed(message(40, "a5", "dev-a", 5, "before-1", kT0)).issues.empty());
  EXPECT_TRUE(feed(message(41, "b9", "dev-b", 9, "before-2", kT0 + 1)).issues.empty());
  EXPECT_TRUE(feed(message(42, "a6", "dev-a", 6, "b9", kT0 + 2)).issues.empty());
  EXPECT_TRUE(reader_.ok());
  // After the baseline the rules are the same: a skipped counter, an unknown prev_hash.
  IntegrityVerdict v = feed(message(43, "b11", "dev-b", 11, "before-3", kT0 + 3));
  EXPECT_EQ(kinds_of(v.issues), (std::vector{IntegrityKind::kGap, IntegrityKind::kGap}));
  EXPECT_EQ(v.issues[0].first_missing, 10u);
}

TEST_F(HandBuiltHeaders, IssuesAreStickyUntilAcknowledged) {
  clean_start();
  feed(message(5, "a4", "dev-a", 4, "b2", kT0 + 4));  // counter 3 missing
  EXPECT_FALSE(reader_.ok());
  // Clean messages afterwards do not clear it.
  EXPECT_TRUE(feed(message(6, "b3", "dev-b", 3, "a4", kT0 + 5)).issues.empty());
  EXPECT_FALSE(reader_.ok());
  ASSERT_EQ(reader_.issues().size(), 1u);
  EXPECT_EQ(reader_.issues()[0].message_id, "a4");
  EXPECT_EQ(reader_.issues()[0].seq, 5);
  EXPECT_EQ(reader_.issues()[0].sender_device_id, "dev-a");
  reader_.acknowledge();
  EXPECT_TRUE(reader_.ok());
  EXPECT_TRUE(reader_.issues().empty());
  feed(message(7, "b3", "dev-b", 3, "a4", kT0 + 5));  // a replay at another seq: a new issue
  EXPECT_FALSE(reader_.ok());
  EXPECT_EQ(reader_.issues().size(), 1u);
}

TEST_F(HandBuiltHeaders, InputOpenWouldNotGiveIsRefusedAndNotRecorded) {
  auto field = [&](std::function<void(DeliveredMessage&)> change) {
    DeliveredMessage m = message(1, "a1", "dev-a", 1, "", kT0);
    change(m);
    auto v = reader_.observe(m);
    return v.ok() ? std::string("<ok>") : v.error().field;
  };
  EXPECT_EQ(field([](auto& m) { m.seq = 0; }), "seq");
  EXPECT_EQ(field([](auto& m) { m.message_id = ""; }), "message_id");
  EXPECT_EQ(field([](auto& m) { m.message_id = std::string(kIntegrityMaxIdSize + 1, 'x'); }), "message_id");
  EXPECT_EQ(field([](auto& m) { m.sender_device_id = ""; }), "sender_device_id");
  EXPECT_EQ(field([](auto& m) { m.header.counter = 0; }), "header.counter");
  EXPECT_EQ(field([](auto& m) { m.header.prev_hash = "short"; }), "header.prev_hash");
  EXPECT_EQ(field([](auto& m) { m.message_hash = ""; }), "message_hash");
  EXPECT_EQ(reader_.next_counter("dev-a"), 1u);
  EXPECT_EQ(field([](auto&) {}), "<ok>");
  EXPECT_EQ(reader_.next_counter("dev-a"), 2u);
}

TEST_F(HandBuiltHeaders, StateStaysBoundedAndForgottenCountersStillReadAsReplays) {
  const auto n = static_cast<std::int64_t>(kIntegrityMaxMessages) + 50;
  for (std::int64_t i = 1; i <= n; ++i) {
    std::string id = "a" + std::to_string(i);
    feed(message(i, id, "dev-a", static_cast<std::uint64_t>(i), i == 1 ? "" : "a" + std::to_string(i - 1), kT0 + i));
  }
  ASSERT_TRUE(reader_.ok());
  json::value state = reader_.to_json();
  EXPECT_EQ(state.at("messages").as_array().size(), kIntegrityMaxMessages);
  // a1 is forgotten: under a new id its counter is still no newer than what was seen.
  IntegrityVerdict v = feed(message(n + 1, "a1-again", "dev-a", 1, "", kT0));
  EXPECT_EQ(kinds_of(v.issues), std::vector{IntegrityKind::kReplay});
  // A prev_hash to a forgotten message reads as never received.
  IntegrityVerdict old = feed(message(n + 2, "a-next", "dev-a", static_cast<std::uint64_t>(n) + 1, "a3", kT0 + n));
  EXPECT_EQ(kinds_of(old.issues), std::vector{IntegrityKind::kGap});
}

TEST_F(HandBuiltHeaders, JsonRoundTripKeepsEverythingTheChecksNeed) {
  clean_start();
  feed(message(5, "a4", "dev-a", 4, "a3", kT0 + 4));  // a3 missing: a gap and a pending prev_hash
  DeliveredMessage revoked = message(6, "b3", "dev-b", 3, "a4", kT0 + 10 * kMinute);
  revoked.sender_revoked_unix_ms = kT0 + kMinute;
  feed(revoked);
  auto copy = ConversationIntegrity::from_json(json::parse(json::serialize(reader_.to_json())));
  ASSERT_TRUE(copy.ok()) << copy.error().message;
  EXPECT_EQ(json::serialize(copy->to_json()), json::serialize(reader_.to_json()));
  EXPECT_EQ(copy->conversation_id(), "conv-1");
  EXPECT_EQ(copy->reader_start(), ReaderStart::kFromFirstMessage);
  EXPECT_EQ(copy->issues(), reader_.issues());
  EXPECT_FALSE(copy->ok());
  EXPECT_EQ(copy->last_hash(), hash_of("a4"));
  EXPECT_EQ(copy->next_counter("dev-a"), 5u);
  ConversationIntegrity restored = std::move(*copy);
  restored.acknowledge();
  auto v = restored.observe(message(7, "a2", "dev-a", 2, "b1", kT0 + 2));  // still a duplicate
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->display, Display::kDuplicate);
  auto late = restored.observe(message(8, "a3", "dev-a", 3, "b2", kT0 + 3));  // still pending, still late
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(kinds_of(late->issues), (std::vector{IntegrityKind::kReordered, IntegrityKind::kReordered}));
  auto after_revocation =
      restored.observe(message(9, "b4", "dev-b", 4, "a3", kT0));  // backdated, counter gives it away
  ASSERT_TRUE(after_revocation.ok());
  EXPECT_EQ(after_revocation->display, Display::kRefused);
}

TEST_F(HandBuiltHeaders, HostileJsonIsAnErrorNamingTheField) {
  clean_start();
  feed(message(5, "a4", "dev-a", 4, "a3", kT0 + 4));
  const json::value good = reader_.to_json();
  ASSERT_TRUE(ConversationIntegrity::from_json(good).ok());
  auto field = [&](std::function<void(json::object&)> change) {
    json::value v = good;
    change(v.as_object());
    auto r = ConversationIntegrity::from_json(v);
    return r.ok() ? std::string("<ok>") : r.error().field;
  };
  auto first = [](json::object& o, std::string_view key) -> json::object& { return o[key].as_array()[0].as_object(); };
  std::string long_id(kIntegrityMaxIdSize + 1, 'x');
  EXPECT_EQ(field([](auto& o) { o["version"] = 2; }), "version");
  EXPECT_EQ(field([](auto& o) { o.erase("version"); }), "version");
  EXPECT_EQ(field([](auto& o) { o["conversation_id"] = 7; }), "conversation_id");
  EXPECT_EQ(field([](auto& o) { o["conversation_id"] = ""; }), "conversation_id");
  EXPECT_EQ(field([](auto& o) { o["reader_start"] = "sometimes"; }), "reader_start");
  EXPECT_EQ(field([](auto& o) { o["messages"] = "all of them"; }), "messages");
  EXPECT_EQ(field([](auto& o) { o["messages"].as_array().push_back(3); }), "messages[5]");
  EXPECT_EQ(field([&](auto& o) { first(o, "messages")["message_hash"] = "!!"; }), "messages[0].message_hash");
  EXPECT_EQ(field([&](auto& o) { first(o, "messages")["message_hash"] = base64_encode("short"); }),
            "messages[0].message_hash");
  EXPECT_EQ(field([&](auto& o) { first(o, "messages")["message_id"] = long_id; }), "messages[0].message_id");
  EXPECT_EQ(field([&](auto& o) { first(o, "messages")["seq"] = "-1"; }), "messages[0].seq");
  EXPECT_EQ(field([&](auto& o) { first(o, "messages")["counter"] = "0"; }), "messages[0].counter");
  EXPECT_EQ(field([&](auto& o) { first(o, "messages")["counter"] = -3; }), "messages[0].counter");
  EXPECT_EQ(field([&](auto& o) { first(o, "messages")["counter"] = "18446744073709551616"; }), "messages[0].counter");
  EXPECT_EQ(field([&](auto& o) { first(o, "messages")["shown"] = "yes"; }), "messages[0].shown");
  EXPECT_EQ(field([](auto& o) { o["messages"].as_array().push_back(o["messages"].as_array()[1]); }),
            "messages[5].message_id");
  EXPECT_EQ(field([](auto& o) {
              json::array big;
              for (std::size_t i = 0; i <= kIntegrityMaxMessages; ++i) big.push_back(json::object{});
              o["messages"] = std::move(big);
            }),
            "messages");
  EXPECT_EQ(field([&](auto& o) { first(o, "senders")["last_counter"] = 1.5; }), "senders[0].last_counter");
  EXPECT_EQ(field([&](auto& o) { first(o, "senders").erase("device_id"); }), "senders[0].device_id");
  EXPECT_EQ(field([](auto& o) { o["senders"].as_array().push_back(o["senders"].as_array()[0]); }),
            "senders[2].device_id");
  EXPECT_EQ(field([&](auto& o) { first(o, "pending")["hash"] = json::array{}; }), "pending[0].hash");
  EXPECT_EQ(field([&](auto& o) { first(o, "issues")["kind"] = "mystery"; }), "issues[0].kind");
  EXPECT_EQ(field([&](auto& o) { first(o, "issues")["device_ids"] = json::array{1}; }), "issues[0].device_ids");
  EXPECT_FALSE(ConversationIntegrity::from_json(json::value(nullptr)).ok());
  EXPECT_FALSE(ConversationIntegrity::from_json(json::array{}).ok());
}

}  // namespace
}  // namespace alliance::client
