// messaging.db keeps each message's wrapped keys as one blob in its row (schema v4).
// A version 3 file, with its keys in wrapped_keys rows, opens under v4 and every
// message reads back exactly as the v3 query read it; a damaged blob is refused
// with an error naming the message, never a crash or a partial answer.
#include <gtest/gtest.h>

#include <tuple>

#include "alliance/store/query.hpp"
#include "io_test.hpp"
#include "messaging_store.hpp"
#include "older_database.hpp"
#include "older_messages.hpp"
#include "process.hpp"

namespace alliance::messaging {
namespace {

using store::Blob;
using store::Connection;

// What a device's sync reads of one message: every column and that device's key.
using SyncRow = std::tuple<std::string, std::int64_t, std::string, std::string, std::string, std::string, std::string,
                           std::string, std::string, std::int64_t, bool, int, std::optional<std::string>>;

SyncRow sync_row(const StoredMessage& m) {
  std::optional<std::string> key;
  if (!m.keys.empty()) key = m.keys.front().wrapped;
  return {m.conversation_id, m.seq,         m.message_id, m.sender_user_id, m.sender_device_id, m.kind, m.ciphertext,
          m.system_text,     m.content_hash, m.sent_ms,   m.expired,        m.format,           key};
}

// Version 3's sync query, as MessagingStore ran it before v4.
std::vector<SyncRow> v3_sync(Connection& c, const std::string& conversation, const std::string& device) {
  return store::query_all(
      c,
      "SELECT m.conversation_id, m.seq, m.message_id, m.sender_user_id, m.sender_device_id, m.kind, m.ciphertext, "
      "m.system_text, m.content_hash, m.sent_ms, m.expired, m.format, k.wrapped FROM messages m "
      "LEFT JOIN wrapped_keys k ON k.conversation_id = m.conversation_id AND k.seq = m.seq AND k.device_id = ?1 "
      "WHERE m.conversation_id = ?2 AND m.seq > 0 ORDER BY m.seq",
      [](store::Statement& s) {
        std::optional<std::string> key;
        if (!s.column_is_null(12)) key = s.column_blob(12);
        return SyncRow{s.column_text(0), s.column_int(1),      s.column_text(2), s.column_text(3), s.column_text(4),
                       s.column_text(5), s.column_blob(6),     s.column_text(7), s.column_blob(8), s.column_int(9),
                       s.column_int(10) != 0, static_cast<int>(s.column_int(11)), key};
      },
      device, conversation);
}

class MessagingStoreKeys : public testing::IoTest {
 protected:
  std::filesystem::path path() const { return dir_.path() / "messaging.db"; }

  // A version 3 file: two conversations; user messages in both formats with 1-3 keys,
  // a notice (no keys) and an erased message (no content, no keys).
  void write_v3_file() {
    auto db = testing::open_database_before(path(), messaging_migrations(), 4);
    ASSERT_TRUE(db) << db.error().message;
    auto done = run((*db)->write([](Connection& c) -> Status {
      testing::insert_older_conversations(c);
      auto message = [&c](const char* conv, int seq, const char* kind, std::optional<std::string> ciphertext,
                          std::optional<std::string> text, int format, int expired) {
        testing::insert_older_message(c, conv, seq, kind, std::move(ciphertext), std::move(text), format, expired);
      };
      auto key = [&c](const char* conv, int seq, const char* device) {
        store::execute(c, "INSERT INTO wrapped_keys(conversation_id, seq, device_id, wrapped) VALUES(?, ?, ?, ?)",
                       conv, seq, device, Blob{std::string(device) + "-key-" + conv + std::to_string(seq)});
      };
      message("c1", 1, "user", std::string("ct\0one", 6), std::nullopt, 1, 0);
      key("c1", 1, "phone");
      key("c1", 1, "laptop");
      key("c1", 1, "archive");
      message("c1", 2, "system", std::nullopt, std::string("We reply within 24 hours."), 1, 0);
      message("c1", 3, "user", std::string("ct-three"), std::nullopt, 2, 0);
      key("c1", 3, "tablet");
      key("c1", 3, "phone");
      message("c1", 4, "user", std::nullopt, std::nullopt, 1, 1);
      message("c2", 1, "user", std::string("ct-other"), std::nullopt, 1, 0);
      key("c2", 1, "phone");
      return {};
    }));
    ASSERT_TRUE(done) << done.error().message;
  }

  std::vector<SyncRow> v4_sync(MessagingStore& s, const std::string& conversation, const std::string& device) {
    auto messages = run(s.messages_after(conversation, device, 0, 500));
    EXPECT_TRUE(messages) << messages.error().message;
    std::vector<SyncRow> out;
    if (messages)
      for (const auto& m : *messages) out.push_back(sync_row(m));
    return out;
  }

  // Message m1 of conversation c1 as the phone sent it; keys as given.
  static StoredMessage message_m1(std::vector<StoredKey> keys) {
    StoredMessage m;
    m.conversation_id = "c1";
    m.message_id = "m1";
    m.sender_user_id = "cl";
    m.sender_device_id = "phone";
    m.kind = "user";
    m.ciphertext = "sealed";
    m.content_hash = "h";
    m.sent_ms = 5;
    m.keys = std::move(keys);
    return m;
  }

  // A fresh v4 file holding conversation c1 and message_m1 wrapped with `keys`.
  std::unique_ptr<MessagingStore> open_with_message(std::vector<StoredKey> keys) {
    auto s = MessagingStore::open(path());
    EXPECT_TRUE(s) << s.error().message;
    if (!s) return nullptr;
    ConversationRow conv{"c1", "p", "cl", "th", 1, 0, 0};
    EXPECT_TRUE(run((*s)->open_conversation(conv)));
    auto appended = run((*s)->append(message_m1(std::move(keys)), std::nullopt));
    EXPECT_TRUE(appended) << appended.error().message;
    return appended ? std::move(*s) : nullptr;
  }

  testing::TempDir dir_;
};

const std::vector<std::string> kDevices = {"phone", "laptop", "archive", "tablet", "someone-else"};

TEST_F(MessagingStoreKeys, AVersion3FileOpensUnderVersion4AndEveryMessageReadsBackTheSame) {
  write_v3_file();
  std::map<std::pair<std::string, std::string>, std::vector<SyncRow>> before;
  {
    auto c = Connection::open(path(), {});
    for (const char* conv : {"c1", "c2"})
      for (const auto& d : kDevices) before[{conv, d}] = v3_sync(*c, conv, d);
  }
  const auto& c1_phone = before[{"c1", "phone"}];
  ASSERT_EQ(c1_phone.size(), 4u);
  ASSERT_TRUE(std::get<12>(c1_phone[0]));

  auto s = MessagingStore::open(path());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ((*s)->database().schema_version(), messaging_migrations().back().version);
  for (const auto& [where, rows] : before)
    EXPECT_EQ(v4_sync(**s, where.first, where.second), rows) << where.first << " as " << where.second;

  // A retry of a v3 message is answered with every key it was stored with.
  auto replayed = run((*s)->append(testing::retry_of_older_message("c1", 3), std::nullopt));
  ASSERT_TRUE(replayed) << replayed.error().message;
  EXPECT_TRUE(replayed->replayed);
  ASSERT_EQ(replayed->message.keys.size(), 2u);
  EXPECT_EQ(replayed->message.keys[0].device_id, "phone");
  EXPECT_EQ(replayed->message.keys[0].wrapped, "phone-key-c13");
  EXPECT_EQ(replayed->message.keys[1].device_id, "tablet");

  // The old rows are gone with their table, not left beside the blobs.
  auto c = Connection::open(path(), {.read_only = true});
  EXPECT_FALSE(store::query_one(*c, "SELECT name FROM sqlite_master WHERE name = 'wrapped_keys'",
                                [](store::Statement& st) { return st.column_text(0); }));
}

TEST_F(MessagingStoreKeys, ANewMessagesKeysReadBackPerDeviceAndGoWithErasure) {
  auto s = open_with_message({{"therapist-desk", "k-desk"}, {"phone", "k-phone"}});
  ASSERT_TRUE(s);
  for (const auto& [device, key] : std::vector<std::pair<std::string, std::string>>{
           {"phone", "k-phone"}, {"therapist-desk", "k-desk"}}) {
    auto read = run(s->messages_after("c1", device, 0, 10));
    ASSERT_TRUE(read) << read.error().message;
    ASSERT_EQ(read->size(), 1u);
    ASSERT_EQ((*read)[0].keys.size(), 1u) << device;
    EXPECT_EQ((*read)[0].keys[0].device_id, device);
    EXPECT_EQ((*read)[0].keys[0].wrapped, key);
    EXPECT_EQ((*read)[0].ciphertext, "sealed");
  }
  auto none = run(s->messages_after("c1", "stranger", 0, 10));
  ASSERT_TRUE(none);
  EXPECT_TRUE((*none)[0].keys.empty());

  store::IdempotentWrite key{"operator", "erase-1", "h"};
  ErasureRow record{"e1", "p", "c1", "erasure", "admin", "asked", 0, 9};
  ASSERT_TRUE(run(s->erase_conversation(record, key)));
  auto erased = run(s->messages_after("c1", "phone", 0, 10));
  ASSERT_TRUE(erased);
  EXPECT_TRUE((*erased)[0].expired);
  EXPECT_TRUE((*erased)[0].keys.empty());
  auto c = Connection::open(path(), {.read_only = true});
  EXPECT_EQ(store::query_one(
                *c, "SELECT count(*) FROM messages WHERE wrapped_keys_blob IS NOT NULL",
                [](store::Statement& st) { return st.column_int(0); }),
            std::optional<std::int64_t>(0));
}

TEST_F(MessagingStoreKeys, ADamagedBlobIsRefusedNamingTheMessage) {
  auto s = open_with_message({{"phone", std::string(80, 'k')}, {"desk", std::string(80, 'd')}});
  ASSERT_TRUE(s);
  const auto m = message_m1({});  // a retry of it: same id, same content
  std::string intact;
  {
    auto c = Connection::open(path(), {.read_only = true});
    intact = *store::query_one(*c, "SELECT wrapped_keys_blob FROM messages",
                               [](store::Statement& st) { return st.column_blob(0); });
  }
  for (const char* damage : {"substr(wrapped_keys_blob, 1, length(wrapped_keys_blob) - 1)",
                             "wrapped_keys_blob || x'00'", "x'02'", "x''", "x'01ffff'"}) {
    {
      auto c = Connection::open(path(), {});
      store::execute(*c, "UPDATE messages SET wrapped_keys_blob = ?", Blob{intact});
      c->exec("UPDATE messages SET wrapped_keys_blob = " + std::string(damage));
    }
    auto read = run(s->messages_after("c1", "phone", 0, 10));
    ASSERT_FALSE(read) << damage;
    EXPECT_EQ(read.error().code, Code::kInternal);
    EXPECT_NE(read.error().message.find("message 1 of conversation c1: stored wrapped keys: "), std::string::npos)
        << read.error().message;
    auto retry = run(s->append(m, std::nullopt));
    ASSERT_FALSE(retry) << damage;
    EXPECT_EQ(retry.error().code, Code::kInternal);
  }
}

}  // namespace
}  // namespace alliance::messaging
