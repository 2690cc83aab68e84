// MessagingService over real SQLite and Redis, continued: after-hours notices on
// a controlled clock, retention sweeps, an admin's erasure down to the bytes of
// the database file, and the live pushes each participant receives.
#include <fstream>
#include <sstream>

#include "messaging_fixture.hpp"

namespace alliance::messaging {
namespace {

constexpr const char* kCrisis = "If this is an emergency, call 988 or go to the nearest emergency room.";

std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// After-hours notices: the service's fixture plus a view of the newest messages.
class MessagingNoticeTest : public MessagingServiceTest {
 protected:
  // The messages of `conv` after `after_seq`, as the therapist's device syncs them.
  std::vector<pb::Message> since(const std::string& conv, std::int64_t after_seq) {
    auto r = sync(therapist(), conv, "dev-therapist", after_seq);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok()) return {};
    return {r->messages().begin(), r->messages().end()};
  }
};

TEST_F(MessagingNoticeTest, ClientWritingAfterHoursGetsOneNoticePerPeriod) {
  // Hours Monday-Friday 09:00-17:00 New York (14:00Z-22:00Z in January); one
  // notice per 30 minutes. Now is Monday 12:00Z = 07:00 in New York: closed.
  set_office_hours();
  set_policy(kCrisis, 30, 0);
  const auto conv = open();

  auto first = client_says(conv, "night-1");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->message().seq(), 1);
  auto got = since(conv, 0);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].message_id(), "night-1");
  EXPECT_EQ(got[0].kind(), "user");
  const auto& notice = got[1];
  EXPECT_EQ(notice.seq(), 2);
  EXPECT_EQ(notice.kind(), "system");
  EXPECT_EQ(notice.sender_user_id(), "");
  EXPECT_TRUE(notice.ciphertext().empty());
  EXPECT_EQ(notice.keys_size(), 0);
  EXPECT_EQ(notice.sent_unix_ms(), now_);
  EXPECT_NE(notice.system_text().find(kCrisis), std::string::npos) << notice.system_text();
  EXPECT_NE(notice.system_text().find("09:00"), std::string::npos) << notice.system_text();  // when they reopen

  // Ten minutes later: within the period, no second notice.
  now_ += 10 * kMinuteMs;
  ASSERT_TRUE(client_says(conv, "night-2").ok());
  got = since(conv, 2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message_id(), "night-2");

  // 31 minutes after the first notice (still closed): one more.
  now_ = utc_ms(2030, 1, 7, 12, 31);
  ASSERT_TRUE(client_says(conv, "night-3").ok());
  got = since(conv, 3);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].message_id(), "night-3");
  EXPECT_EQ(got[1].kind(), "system");
  EXPECT_EQ(got[1].seq(), 5);

  // The therapist writing after hours (period elapsed) never triggers one.
  now_ = utc_ms(2030, 1, 7, 13, 30);
  ASSERT_TRUE(therapist_says(conv, "late-reply").ok());
  got = since(conv, 5);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind(), "user");

  // Within hours (09:30 New York, period elapsed): no notice.
  now_ = utc_ms(2030, 1, 7, 14, 30);
  ASSERT_TRUE(client_says(conv, "morning").ok());
  got = since(conv, 6);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message_id(), "morning");

  // After 17:00 New York (22:30Z) it is closed again: a notice.
  now_ = utc_ms(2030, 1, 7, 22, 30);
  ASSERT_TRUE(client_says(conv, "evening").ok());
  got = since(conv, 7);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].kind(), "system");

  int notices = 0;
  for (const auto& m : since(conv, 0)) notices += m.kind() == "system";
  EXPECT_EQ(notices, 3);
}

TEST_F(MessagingNoticeTest, NoHoursSetMeansNoNotice) {
  set_policy(kCrisis, 1, 0);
  // kTherapist2 has no messaging hours: messages are always "within hours".
  const auto conv = open(kClient2, kTherapist2, "sess-client2");
  for (int i = 0; i < 3; ++i) {
    auto r = send(as(kClient2, "client", "sess-client2"),
                  sealed(conv, "any-" + std::to_string(i), "dev-client2", {"dev-client2", "dev-therapist2"}));
    ASSERT_TRUE(r.ok()) << r.error().message;
    now_ += kHourMs;
  }
  auto r = sync(as(kTherapist2, "therapist", "sess-therapist2"), conv, "dev-therapist2");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->messages_size(), 3);
  for (const auto& m : r->messages()) EXPECT_EQ(m.kind(), "user");
}

// `m` is an after-hours notice as every reader must see it: the practice server's,
// naming no user and no device, not sealed (format 1, no ciphertext, no keys).
void expect_practice_notice(const pb::Message& m, const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(m.kind(), "system");
  EXPECT_EQ(m.sender_user_id(), "");
  EXPECT_EQ(m.sender_device_id(), "");
  EXPECT_TRUE(m.ciphertext().empty());
  EXPECT_EQ(m.keys_size(), 0);
  EXPECT_EQ(m.format(), 1);
  EXPECT_FALSE(m.system_text().empty());
}

TEST_F(MessagingNoticeTest, ANoticeNamesNoSenderInTheStoreInPushesOrInAnySync) {
  // The client writes after hours. In the stored row, in both participants' pushes
  // and in every device's sync the notice has no user and no device as its sender,
  // while the client's message before it keeps theirs.
  set_office_hours();
  set_policy(kCrisis, 30, 0);
  const auto conv = open();
  record_pushes({kClient, kTherapist});
  auto sent = client_says(conv, "night-1");
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(sent->message().kind(), "user");  // the answer is the client's own message
  EXPECT_EQ(sent->message().sender_user_id(), kClient);

  ASSERT_TRUE(pump_until([&] { return pushed(kClient, "message.new") >= 2 && pushed(kTherapist, "message.new") >= 2; },
                         5s));
  for (const std::string user : {kClient, kTherapist}) {
    const auto bodies = pushed_messages(user);
    ASSERT_EQ(bodies.size(), 2u) << user;
    EXPECT_EQ(bodies[0].sender_user_id(), kClient);
    EXPECT_EQ(bodies[0].sender_device_id(), "dev-client-phone");
    expect_practice_notice(bodies[1], "push to " + user);
  }

  const std::vector<std::pair<net::CallContext, std::string>> readers = {
      {client(), "dev-client-phone"},
      {as(kClient, "client", "sess-client-laptop"), "dev-client-laptop"},
      {therapist(), "dev-therapist"}};
  for (const auto& [who, device] : readers) {
    auto r = sync(who, conv, device);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->messages_size(), 2) << device;
    EXPECT_EQ(r->messages(0).sender_user_id(), kClient);
    expect_practice_notice(r->messages(1), "sync by " + device);
  }

  auto row = run(store_->database().read([](store::Connection& c) -> Result<std::vector<std::string>> {
    auto& s = c.prepare("SELECT sender_user_id, sender_device_id FROM messages WHERE kind = 'system'");
    std::vector<std::string> out;
    while (s.step()) {
      out.push_back(s.column_text(0));
      out.push_back(s.column_text(1));
    }
    return out;
  }));
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ(*row, (std::vector<std::string>{"", ""}));
}

TEST_F(MessagingNoticeTest, ASystemRowNamingASenderIsStillAnsweredAsThePracticesNotice) {
  // However a notice row came to name the therapist (an older build, a hand edit
  // of the database), no answer attributes it to them: "Dr Kim: text me at ..."
  // must not read as the therapist's words.
  const auto conv = open();
  ASSERT_TRUE(client_says(conv, "hello").ok());
  auto forged = run(store_->database().write([conv, at = now_](store::Connection& c) -> Result<bool> {
    c.prepare(
         "INSERT INTO messages(conversation_id, seq, message_id, sender_user_id, sender_device_id, kind, "
         "system_text, content_hash, sent_ms) VALUES(?, 2, 'notice-forged', ?, ?, 'system', ?, X'00', ?)")
        .bind_all(conv, std::string(kTherapist), std::string("dev-therapist"),
                  std::string("Dr Kim: text me at 555-0100"), at)
        .step();
    c.prepare("UPDATE conversations SET last_seq = 2 WHERE id = ?").bind_all(conv).step();
    return true;
  }));
  ASSERT_TRUE(forged.ok()) << forged.error().message;

  for (const auto& [who, device] :
       std::vector<std::pair<net::CallContext, std::string>>{{client(), "dev-client-phone"},
                                                             {therapist(), "dev-therapist"}}) {
    auto r = sync(who, conv, device);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->messages_size(), 2);
    expect_practice_notice(r->messages(1), "sync by " + device);
  }
}

// Retention and erasure (a fixture of its own: test suites cannot span files).
class MessagingContentRemovalTest : public MessagingServiceTest {};

// Live pushes through a real Redis subscriber.
class MessagingPushTest : public MessagingServiceTest {};

TEST_F(MessagingContentRemovalTest, RetentionExpiresOnlyOlderMessagesAndRecordsItOnce) {
  set_policy("", 0, 1);  // keep one day
  const auto conv = open();
  ASSERT_TRUE(client_says(conv, "old-1").ok());
  now_ += kHourMs;
  ASSERT_TRUE(therapist_says(conv, "old-2").ok());
  now_ += 2 * kDayMs;
  auto fresh_req = sealed(conv, "fresh", "dev-client-phone", recipients());
  ASSERT_TRUE(send(client(), fresh_req).ok());
  now_ += kHourMs;  // "fresh" is an hour old, the others more than two days

  auto swept = run(service_->sweep_retention());
  ASSERT_TRUE(swept.ok()) << swept.error().message;
  EXPECT_EQ(*swept, 2);

  auto got = messages(conv);
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(got[i].seq(), i + 1);
    EXPECT_EQ(got[i].message_id(), i == 0 ? "old-1" : "old-2");
    EXPECT_TRUE(got[i].expired());
    EXPECT_TRUE(got[i].ciphertext().empty());
    EXPECT_EQ(got[i].keys_size(), 0);
  }
  EXPECT_EQ(got[2].seq(), 3);
  EXPECT_FALSE(got[2].expired());
  EXPECT_EQ(got[2].ciphertext(), fresh_req.ciphertext());
  ASSERT_EQ(got[2].keys_size(), 1);
  EXPECT_EQ(got[2].keys(0).wrapped_key(), key_for(fresh_req, "dev-therapist"));

  auto records = erasures();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind(), "retention");
  EXPECT_EQ(records[0].messages_affected(), 2);
  EXPECT_EQ(records[0].practice_id(), kPractice);
  EXPECT_EQ(records[0].actor_user_id(), "");
  EXPECT_EQ(records[0].at_unix_ms(), now_);

  // A second sweep finds nothing to do and records nothing.
  auto again = run(service_->sweep_retention());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(erasures().size(), 1u);
  EXPECT_FALSE(messages(conv).at(2).expired());
  // Only admins read the record.
  auto refused = run(service_->list_erasures({}, client()));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kPermissionDenied);
}

TEST_F(MessagingContentRemovalTest, ErasureRemovesEveryCiphertextAndKeyFromTheDatabaseFiles) {
  const auto conv = open();
  directory_.set_archive_key(kPractice, random_bytes(32));
  std::vector<pb::SendMessageRequest> sent;
  for (int i = 0; i < 3; ++i) {
    sent.push_back(sealed(conv, "secret-" + std::to_string(i), "dev-client-phone", recipients()));
    auto r = send(client(), sent.back());
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  const auto wal_path = std::filesystem::path(db_path_.string() + "-wal");
  // Which of the sent bytes (ciphertexts and wrapped keys) are in `bytes`.
  auto leaked = [&](const std::string& bytes) {
    std::vector<std::string> out;
    for (const auto& req : sent) {
      if (bytes.find(req.ciphertext()) != std::string::npos) out.push_back(req.message_id() + " ciphertext");
      for (const auto& k : req.keys())
        if (bytes.find(k.wrapped_key()) != std::string::npos)
          out.push_back(req.message_id() + " key for " + k.device_id());
    }
    return out;
  };
  // The search can find them: before the erasure every one is on disk.
  EXPECT_EQ(leaked(file_bytes(db_path_) + file_bytes(wal_path)).size(), 3u * (1 + recipients().size()));

  now_ += kHourMs;
  pb::EraseConversationRequest req;
  req.set_conversation_id(conv);
  req.set_reason("client asked for their messages to be deleted");
  auto erased = run(service_->erase_conversation(req, admin()));
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  const auto& record = erased->record();
  EXPECT_EQ(record.kind(), "erasure");
  EXPECT_EQ(record.actor_user_id(), kAdmin);
  EXPECT_EQ(record.reason(), req.reason());
  EXPECT_EQ(record.conversation_id(), conv);
  EXPECT_EQ(record.messages_affected(), 3);
  EXPECT_EQ(record.at_unix_ms(), now_);

  // Devices see tombstones: sequence kept, nothing to decrypt.
  const auto laptop = as(kClient, "client", "sess-client-laptop");
  for (const auto& [ctx, device] : {std::pair{therapist(), "dev-therapist"}, std::pair{laptop, "dev-client-laptop"}}) {
    auto r = sync(ctx, conv, device);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->messages_size(), 3);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(r->messages(i).seq(), i + 1);
      EXPECT_TRUE(r->messages(i).expired());
      EXPECT_TRUE(r->messages(i).ciphertext().empty());
      EXPECT_EQ(r->messages(i).keys_size(), 0);
    }
  }
  pb::GetConversationRequest get;
  get.set_conversation_id(conv);
  auto c = run(service_->get_conversation(get, client()));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->conversation().erased_unix_ms(), now_);
  auto records = erasures();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].id(), record.id());
  EXPECT_EQ(records[0].reason(), req.reason());
  EXPECT_EQ(records[0].actor_user_id(), kAdmin);

  // Nowhere on disk any more: neither in the database file (secure_delete zeroes the
  // freed pages) nor in its write-ahead log (the erasure checkpoints and truncates it,
  // or the frames the sends wrote would still hold every ciphertext and wrapped key).
  const auto in_db = leaked(file_bytes(db_path_));
  const auto in_wal = leaked(file_bytes(wal_path));
  EXPECT_TRUE(in_db.empty()) << in_db.size() << " erased values still in " << db_path_.filename()
                             << ", e.g. " << in_db.front();
  EXPECT_TRUE(in_wal.empty()) << in_wal.size() << " erased values still in " << wal_path.filename() << " ("
                              << std::filesystem::file_size(wal_path) << " bytes), e.g. " << in_wal.front();

  // An erasure needs a reason a person can read.
  for (const std::string& reason : {std::string(), std::string(501, 'x'), std::string("line\x01" "break")}) {
    req.set_reason(reason);
    auto bad = run(service_->erase_conversation(req, admin()));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().field, "reason");
  }
}

TEST_F(MessagingPushTest, EachParticipantIsPushedTheMessageWithOnlyTheirOwnDevicesKeys) {
  directory_.set_archive_key(kPractice, random_bytes(32));
  const auto conv = open();
  EXPECT_EQ(redis::push_channel(kClient), "push:user:client-1");
  record_pushes({kClient, kTherapist});

  auto req = sealed(conv, "pushed-1", "dev-client-phone", recipients());
  auto sent = send(client(), req);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  // Then the therapist reads it and both type: later frames on the same channels.
  pb::MarkReadRequest read;
  read.set_conversation_id(conv);
  read.set_seq(1);
  ASSERT_TRUE(run(service_->mark_read(read, therapist())).ok());
  pb::TypingRequest typing;
  typing.set_conversation_id(conv);
  typing.set_typing(true);
  ASSERT_TRUE(run(service_->set_typing(typing, therapist())).ok());
  ASSERT_TRUE(run(service_->set_typing(typing, client())).ok());

  auto all_arrived = [&] {
    return pushed(kClient, "message.new") >= 1 && pushed(kTherapist, "message.new") >= 1 &&
           pushed(kClient, "receipt.read") >= 1 && pushed(kClient, "typing") >= 1 &&
           pushed(kTherapist, "typing") >= 1;
  };
  ASSERT_TRUE(pump_until(all_arrived, 5s))
      << "client frames " << frames_[kClient].size() << ", therapist frames " << frames_[kTherapist].size();

  const std::map<std::string, std::set<std::string>> own_devices = {
      {kClient, {"dev-client-laptop", "dev-client-phone"}}, {kTherapist, {"dev-therapist"}}};
  for (const auto& [user, devices] : own_devices) {
    SCOPED_TRACE(user);
    const auto bodies = pushed_messages(user);
    ASSERT_EQ(bodies.size(), 1u);
    const auto& m = bodies[0];
    EXPECT_EQ(m.conversation_id(), conv);
    EXPECT_EQ(m.seq(), 1);
    EXPECT_EQ(m.message_id(), "pushed-1");
    EXPECT_EQ(m.sender_user_id(), kClient);
    EXPECT_EQ(m.ciphertext(), req.ciphertext());
    std::set<std::string> keyed;
    for (const auto& k : m.keys()) {
      keyed.insert(k.device_id());
      EXPECT_EQ(k.wrapped_key(), key_for(req, k.device_id())) << k.device_id();
    }
    EXPECT_EQ(keyed, devices);  // neither the other participant's devices nor the archive key
  }
  // The read receipt went to the client only; typing to the other side only.
  ASSERT_EQ(pushed(kClient, "receipt.read"), 1u);
  EXPECT_EQ(pushed(kTherapist, "receipt.read"), 0u);
  pb::Receipt receipt;
  for (const auto& f : frames_[kClient])
    if (f.type() == "receipt.read") {
      ASSERT_TRUE(f.body().UnpackTo(&receipt));
    }
  EXPECT_EQ(receipt.user_id(), kTherapist);
  EXPECT_EQ(receipt.seq(), 1);
  pb::Typing typed;
  for (const auto& f : frames_[kClient])
    if (f.type() == "typing") {
      ASSERT_TRUE(f.body().UnpackTo(&typed));
    }
  EXPECT_EQ(typed.user_id(), kTherapist);
  EXPECT_TRUE(typed.typing());
}

}  // namespace
}  // namespace alliance::messaging
