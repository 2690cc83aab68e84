// messaging.db keeps messages in a rowid table (schema v5), so a sealed message's row
// stays in its page instead of spilling into an overflow page of its own. A version 4
// file (WITHOUT ROWID) opens under v5 with every row exactly as it was, sequence
// numbers and message ids stay unique per conversation, and sending goes on from the
// last seq; a few hundred sealed-size messages take well under a page each. Since v6
// the message-id index is led by message_id: a version 5 file opens under it with its
// retries still answered, and a commit of time-ordered ids (the SDK's) into many
// conversations writes fewer pages than one of random ids.
#include <gtest/gtest.h>

#include <tuple>

#include "alliance/core/ids.hpp"
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

// Every column of a message row, as stored.
using Row = std::tuple<std::string, std::int64_t, std::string, std::string, std::string, std::string,
                       std::optional<std::string>, std::optional<std::string>, std::string, std::int64_t, std::int64_t,
                       std::int64_t, std::optional<std::string>>;

std::optional<std::string> blob_or_null(const store::Statement& s, int i) {
  if (s.column_is_null(i)) return std::nullopt;
  return s.column_blob(i);
}

std::vector<Row> all_rows(Connection& c) {
  return store::query_all(
      c,
      "SELECT conversation_id, seq, message_id, sender_user_id, sender_device_id, kind, ciphertext, system_text, "
      "content_hash, sent_ms, expired, format, wrapped_keys_blob FROM messages ORDER BY conversation_id, seq",
      [](store::Statement& s) {
        return Row{s.column_text(0), s.column_int(1), s.column_text(2), s.column_text(3), s.column_text(4),
                   s.column_text(5), blob_or_null(s, 6), blob_or_null(s, 7), s.column_blob(8), s.column_int(9),
                   s.column_int(10), s.column_int(11), blob_or_null(s, 12)};
      });
}

std::int64_t pragma(Connection& c, std::string_view name) {
  return *store::query_one(c, "PRAGMA " + std::string(name), [](store::Statement& s) { return s.column_int(0); });
}

// The keys a sealed message carries for a conversation with 6 devices: 80 bytes each.
std::vector<StoredKey> six_keys(int salt) {
  std::vector<StoredKey> keys;
  for (int d = 0; d < 6; ++d)
    keys.push_back({"device-" + std::to_string(d) + "-0123456789abcdef0123456789",
                    std::string(80, static_cast<char>('a' + (salt + d) % 26))});
  return keys;
}

class MessagingStoreRows : public testing::IoTest {
 protected:
  std::filesystem::path path() const { return dir_.path() / "messaging.db"; }

  // A file of the version before `version`: two conversations; user messages in both
  // formats with keys, a notice (no keys) and an erased message (no content, no keys).
  void write_file_before(int version) {
    auto db = testing::open_database_before(path(), messaging_migrations(), version);
    ASSERT_TRUE(db) << db.error().message;
    auto done = run((*db)->write([](Connection& c) -> Status {
      testing::insert_older_conversations(c);
      auto message = [&c](const char* conv, int seq, const char* kind, std::optional<std::string> ciphertext,
                          std::optional<std::string> text, int format, int expired, std::vector<StoredKey> keys) {
        std::optional<std::string> blob;
        if (!keys.empty()) blob = *encode_wrapped_keys(keys);
        testing::insert_older_message(c, conv, seq, kind, std::move(ciphertext), std::move(text), format, expired,
                                      std::move(blob));
      };
      message("c1", 1, "user", std::string("ct\0one", 6), std::nullopt, 1, 0, six_keys(1));
      message("c1", 2, "system", std::nullopt, std::string("We reply within 24 hours."), 1, 0, {});
      message("c1", 3, "user", std::string(350, 'x'), std::nullopt, 2, 0, six_keys(3));
      message("c1", 4, "user", std::nullopt, std::nullopt, 1, 1, {});
      message("c2", 1, "user", std::string("ct-other"), std::nullopt, 1, 0, {{"phone", "k-phone"}});
      return {};
    }));
    ASSERT_TRUE(done) << done.error().message;
  }

  static StoredMessage sealed(const std::string& conversation, const std::string& id, int salt) {
    StoredMessage m;
    m.conversation_id = conversation;
    m.message_id = id;
    m.sender_user_id = "cl";
    m.sender_device_id = "phone";
    m.kind = "user";
    m.format = 2;
    m.ciphertext = std::string(348, static_cast<char>('A' + salt % 26));
    m.content_hash = std::string(32, static_cast<char>(salt));
    m.sent_ms = 2000 + salt;
    m.keys = six_keys(salt);
    return m;
  }

  testing::TempDir dir_;
};

TEST_F(MessagingStoreRows, AVersion4FileOpensUnderVersion5WithEveryRowAsItWas) {
  write_file_before(5);
  std::vector<Row> before;
  {
    auto c = Connection::open(path(), {});
    before = all_rows(*c);
  }
  ASSERT_EQ(before.size(), 5u);

  auto s = MessagingStore::open(path());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ((*s)->database().schema_version(), messaging_migrations().back().version);
  {
    auto c = Connection::open(path(), {.read_only = true});
    EXPECT_EQ(all_rows(*c), before);
    auto sql = store::query_one(*c, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'messages'",
                                [](store::Statement& st) { return st.column_text(0); });
    ASSERT_TRUE(sql);
    EXPECT_EQ(sql->find("WITHOUT ROWID"), std::string::npos) << *sql;
    EXPECT_FALSE(store::query_one(*c, "SELECT name FROM sqlite_master WHERE name = 'messages_v5'",
                                  [](store::Statement& st) { return st.column_text(0); }));
  }

  // A device syncs its own key of the migrated messages.
  auto synced = run((*s)->messages_after("c1", "device-2-0123456789abcdef0123456789", 0, 10));
  ASSERT_TRUE(synced) << synced.error().message;
  ASSERT_EQ(synced->size(), 4u);
  ASSERT_EQ((*synced)[2].keys.size(), 1u);
  EXPECT_EQ((*synced)[2].keys[0].wrapped, six_keys(3)[2].wrapped);
  EXPECT_EQ((*synced)[2].ciphertext, std::string(350, 'x'));
  EXPECT_TRUE((*synced)[3].expired);

  // A retry of a migrated message is answered with its keys; a new one goes on at seq 5.
  auto replayed = run((*s)->append(testing::retry_of_older_message("c1", 3), std::nullopt));
  ASSERT_TRUE(replayed) << replayed.error().message;
  EXPECT_TRUE(replayed->replayed);
  EXPECT_EQ(replayed->message.seq, 3);
  EXPECT_EQ(replayed->message.keys.size(), 6u);
  auto next = run((*s)->append(sealed("c1", "m-new", 7), std::nullopt));
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_FALSE(next->replayed);
  EXPECT_EQ(next->message.seq, 5);
  auto reused = sealed("c1", "m1", 8);
  auto refused = run((*s)->append(reused, std::nullopt));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kAlreadyExists);
  EXPECT_EQ(refused.error().field, "message_id");
}

TEST_F(MessagingStoreRows, SeqAndMessageIdStayUniquePerConversation) {
  write_file_before(5);
  ASSERT_TRUE(MessagingStore::open(path()));
  auto c = Connection::open(path(), {});
  const std::string insert =
      "INSERT INTO messages(conversation_id, seq, message_id, sender_user_id, sender_device_id, kind, content_hash, "
      "sent_ms) VALUES(?, ?, ?, 'cl', 'phone', 'user', x'00', 1)";
  EXPECT_THROW(store::execute(*c, insert, "c1", 2, "fresh-id"), store::StoreError);  // seq 2 is taken
  EXPECT_THROW(store::execute(*c, insert, "c1", 9, "m3"), store::StoreError);        // m3 is taken
  EXPECT_EQ(store::execute(*c, insert, "c2", 2, "m3"), 1);  // both are another conversation's
}

TEST_F(MessagingStoreRows, SealedSizeMessagesTakeWellUnderAPageEach) {
  auto s = MessagingStore::open(path());
  ASSERT_TRUE(s) << s.error().message;
  for (const char* id : {"c1", "c2", "c3", "c4"}) {
    ConversationRow conv{id, "p", std::string("cl-") + id, "th", 1, 0, 0};
    ASSERT_TRUE(run((*s)->open_conversation(conv)));
  }
  std::int64_t pages_before = 0;
  {
    auto c = Connection::open(path(), {.read_only = true});
    pages_before = pragma(*c, "page_count");
  }
  constexpr int kMessages = 400;
  for (int i = 0; i < kMessages; ++i) {
    const std::string conversation = "c" + std::to_string(1 + i % 4);
    auto appended = run((*s)->append(sealed(conversation, "id-" + std::to_string(i), i), std::nullopt));
    ASSERT_TRUE(appended) << appended.error().message;
  }
  auto c = Connection::open(path(), {.read_only = true});
  const std::int64_t pages = pragma(*c, "page_count") - pages_before;
  // ~1.2 KB rows: three to a 4 KiB page, plus the indexes. A row that spilled into
  // an overflow page would take more than a page per message.
  EXPECT_LT(pages, kMessages / 2) << pages << " pages for " << kMessages << " messages";
}

TEST_F(MessagingStoreRows, AVersion5FileOpensUnderVersion6WithItsRetriesStillAnswered) {
  write_file_before(6);
  auto s = MessagingStore::open(path());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ((*s)->database().schema_version(), 6);
  {
    auto c = Connection::open(path(), {.read_only = true});
    auto sql = store::query_one(*c, "SELECT sql FROM sqlite_master WHERE name = 'messages_by_message_id'",
                                [](store::Statement& st) { return st.column_text(0); });
    ASSERT_TRUE(sql);
    EXPECT_NE(sql->find("UNIQUE INDEX messages_by_message_id ON messages(message_id, conversation_id)"),
              std::string::npos)
        << *sql;
  }
  auto replayed = run((*s)->append(testing::retry_of_older_message("c1", 3), std::nullopt));
  ASSERT_TRUE(replayed) << replayed.error().message;
  EXPECT_TRUE(replayed->replayed);
  EXPECT_EQ(replayed->message.seq, 3);
  auto refused = run((*s)->append(sealed("c1", "m1", 8), std::nullopt));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Code::kAlreadyExists);
  // The same id in another conversation is another message.
  auto other = run((*s)->append(sealed("c2", "m3", 9), std::nullopt));
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_FALSE(other->replayed);
  EXPECT_EQ(other->message.seq, 2);
}

// One commit of a message into each of 64 conversations, as the store's writer groups
// concurrent sends: time-ordered ids land together at the end of the message-id index,
// random ones each in a page of their own. Pages are counted as WAL frames.
TEST_F(MessagingStoreRows, ACommitOfTimeOrderedIdsWritesFewerPagesThanRandomOnes) {
  constexpr int kConversations = 64, kEarlier = 60;
  ASSERT_TRUE(MessagingStore::open(path()));
  auto c = Connection::open(path(), {});
  c->exec("PRAGMA wal_autocheckpoint = 0");
  const std::string insert =
      "INSERT INTO messages(conversation_id, seq, message_id, sender_user_id, sender_device_id, kind, ciphertext, "
      "content_hash, sent_ms) VALUES(?, ?, ?, 'cl', 'phone', 'user', ?, x'00', ?)";
  const std::string ciphertext(1100, 'c');
  // Conversation ids and random message ids as the server makes ids: 32 hex digits.
  std::vector<std::string> conversations(kConversations);
  for (auto& id : conversations) id = new_id();
  // Earlier messages with random ids, so every conversation's part of the index spans pages.
  c->exec("BEGIN");
  for (int conv = 0; conv < kConversations; ++conv)
    store::execute(*c, "INSERT INTO conversations(id, practice_id, client_id, therapist_id, created_ms) "
                       "VALUES(?, 'p', ?, 'th', 1)",
                   conversations[conv], "client-" + std::to_string(conv));
  for (int conv = 0; conv < kConversations; ++conv)
    for (int seq = 1; seq <= kEarlier; ++seq)
      store::execute(*c, insert, conversations[conv], seq, new_id(), Blob{ciphertext}, seq);
  c->exec("COMMIT");
  auto frames_of_one_commit = [&](int seq, auto make_id) {
    c->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    c->exec("BEGIN");
    for (int conv = 0; conv < kConversations; ++conv)
      store::execute(*c, insert, conversations[conv], seq, make_id(), Blob{ciphertext}, seq);
    c->exec("COMMIT");
    return *store::query_one(*c, "PRAGMA wal_checkpoint(PASSIVE)", [](store::Statement& st) { return st.column_int(1); });
  };
  const auto random_frames = frames_of_one_commit(kEarlier + 1, [] { return new_id(); });
  // The SDK's form: the same 12 hex digits of time within a millisecond, then random.
  const auto ordered_frames =
      frames_of_one_commit(kEarlier + 2, [] { return "0190f3a2b4c5" + new_id().substr(0, 14); });
  // Each commit writes a page of each conversation's seq-index entries and a third of a
  // page per row either way; random ids add a page per message on top.
  EXPECT_LT(ordered_frames + kConversations / 2, random_frames)
      << "time-ordered ids: " << ordered_frames << " pages, random ids: " << random_frames << " pages";
}

}  // namespace
}  // namespace alliance::messaging
