#include "messaging_store.hpp"

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/store/query.hpp"

namespace alliance::messaging {
namespace {

using store::Blob;
using store::Connection;
using store::Statement;

// Messages keep their row after retention or erasure (content NULL, expired 1) so
// sequence numbers never show a gap a device would try to fill.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE conversations(
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  therapist_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0,
  last_notice_ms INTEGER NOT NULL DEFAULT 0,
  erased_ms INTEGER NOT NULL DEFAULT 0,
  UNIQUE(client_id, therapist_id)
);
CREATE INDEX conversations_by_therapist ON conversations(therapist_id);
CREATE INDEX conversations_by_practice ON conversations(practice_id);
CREATE TABLE messages(
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  seq INTEGER NOT NULL,
  message_id TEXT NOT NULL,
  sender_user_id TEXT NOT NULL,
  sender_device_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK(kind IN ('user', 'system')),
  ciphertext BLOB,
  system_text TEXT,
  content_hash BLOB NOT NULL,
  sent_ms INTEGER NOT NULL,
  expired INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(conversation_id, seq),
  UNIQUE(conversation_id, message_id)
) WITHOUT ROWID;
CREATE INDEX messages_by_time ON messages(sent_ms) WHERE expired = 0;
CREATE TABLE wrapped_keys(
  conversation_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  wrapped BLOB NOT NULL,
  PRIMARY KEY(conversation_id, seq, device_id),
  FOREIGN KEY(conversation_id, seq) REFERENCES messages(conversation_id, seq)
) WITHOUT ROWID;
CREATE TABLE receipts(
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,  -- '' for the user's read cursor
  kind TEXT NOT NULL CHECK(kind IN ('delivered', 'read')),
  seq INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  PRIMARY KEY(conversation_id, kind, user_id, device_id)
) WITHOUT ROWID;
CREATE TABLE messaging_hours(
  therapist_id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  windows TEXT NOT NULL,
  expected_reply_hours INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE policies(
  practice_id TEXT PRIMARY KEY,
  crisis_text TEXT NOT NULL,
  notice_period_minutes INTEGER NOT NULL,
  retention_days INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE erasures(
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK(kind IN ('erasure', 'retention')),
  actor_user_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  messages_affected INTEGER NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX erasures_by_practice ON erasures(practice_id, at_ms);
)sql";

// The sealed format each message is in (1: seal_message, 2: seal_message_v2).
// Rows stored before it was recorded were all format 1; notices are 1 too.
constexpr std::string_view kSchemaV2 = R"sql(
ALTER TABLE messages ADD COLUMN format INTEGER NOT NULL DEFAULT 1 CHECK(format IN (1, 2));
)sql";

// Each message's wrapped keys as one BLOB in its row (wrapped_keys_blob.hpp; NULL when
// it has none: notices, expired content) instead of one wrapped_keys row per key:
// each send wrote 1 + ~6 rows, each key row with a foreign-key probe. The rows of an
// older file are moved in by move_keys_into_messages, in this step's transaction.
constexpr std::string_view kSchemaV4 = R"sql(
ALTER TABLE messages ADD COLUMN wrapped_keys_blob BLOB;
)sql";

// Messages in a rowid table instead of WITHOUT ROWID, the same columns in the same
// order. A sealed message's row (~1.2 KB with 6 wrapped keys) is more than a
// WITHOUT ROWID leaf keeps in place (~1 KB of a 4 KiB page), so each one spilled
// into an overflow page of its own: every send wrote a whole page for a few hundred
// bytes, to the WAL and again at checkpoint, and the file grew ~3x. In a rowid table
// the row stays in its leaf and new rows append to the last page; (conversation_id,
// seq) is a unique index, as message_id already was. Rows are copied in conversation
// order, so an old conversation's messages stay together for its sync reads.
constexpr std::string_view kSchemaV5 = R"sql(
CREATE TABLE messages_v5(
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  seq INTEGER NOT NULL,
  message_id TEXT NOT NULL,
  sender_user_id TEXT NOT NULL,
  sender_device_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK(kind IN ('user', 'system')),
  ciphertext BLOB,
  system_text TEXT,
  content_hash BLOB NOT NULL,
  sent_ms INTEGER NOT NULL,
  expired INTEGER NOT NULL DEFAULT 0,
  format INTEGER NOT NULL DEFAULT 1 CHECK(format IN (1, 2)),
  wrapped_keys_blob BLOB
);
INSERT INTO messages_v5(conversation_id, seq, message_id, sender_user_id, sender_device_id, kind, ciphertext,
                        system_text, content_hash, sent_ms, expired, format, wrapped_keys_blob)
  SELECT conversation_id, seq, message_id, sender_user_id, sender_device_id, kind, ciphertext,
         system_text, content_hash, sent_ms, expired, format, wrapped_keys_blob
  FROM messages ORDER BY conversation_id, seq;
DROP TABLE messages;
ALTER TABLE messages_v5 RENAME TO messages;
CREATE UNIQUE INDEX messages_by_seq ON messages(conversation_id, seq);
CREATE UNIQUE INDEX messages_by_message_id ON messages(conversation_id, message_id);
CREATE INDEX messages_by_time ON messages(sent_ms) WHERE expired = 0;
)sql";

// The message-id index led by message_id instead of conversation_id: the same
// uniqueness, and a lookup gives both columns. Led by the conversation, each send
// landed at a random place inside its conversation's range, a page of its own in the
// WAL and again at checkpoint. The SDK's ids begin with the time they were made
// (client::new_message_id), so led by message_id a group commit's new entries sit
// together at the index's end. Ids of older SDKs (random) still work, at the old cost.
constexpr std::string_view kSchemaV6 = R"sql(
DROP INDEX messages_by_message_id;
CREATE UNIQUE INDEX messages_by_message_id ON messages(message_id, conversation_id);
)sql";

// Version 4's step SQL cannot say: every message's wrapped_keys rows become its blob,
// then the table goes. A row that does not fit the blob fails the migration (the file
// stays at version 3).
void move_keys_into_messages(Connection& c) {
  auto& rows = c.prepare(
      "SELECT conversation_id, seq, device_id, wrapped FROM wrapped_keys ORDER BY conversation_id, seq, device_id");
  auto& set = c.prepare("UPDATE messages SET wrapped_keys_blob = ? WHERE conversation_id = ? AND seq = ?");
  std::string conversation;
  std::int64_t seq = 0;
  std::vector<StoredKey> keys;
  auto flush = [&] {
    if (keys.empty()) return;
    auto blob = encode_wrapped_keys(keys);
    if (!blob)
      throw store::StoreError(1, "message " + std::to_string(seq) + " of conversation " + conversation +
                                     ": wrapped keys do not fit version 4: " + blob.error().message);
    set.reset();
    set.bind_all(Blob{*blob}, conversation, seq).step();
    keys.clear();
  };
  while (rows.step()) {
    auto row_conversation = rows.column_text(0);
    const auto row_seq = rows.column_int(1);
    if (row_conversation != conversation || row_seq != seq) {
      flush();
      conversation = std::move(row_conversation);
      seq = row_seq;
    }
    keys.push_back({rows.column_text(2), rows.column_blob(3)});
  }
  flush();
  rows.reset();
  c.exec("DROP TABLE wrapped_keys");
}

constexpr std::string_view kConversationColumns =
    "id, practice_id, client_id, therapist_id, created_ms, last_seq, erased_ms";

ConversationRow read_conversation(const Statement& s) {
  return ConversationRow{s.column_text(0), s.column_text(1), s.column_text(2), s.column_text(3),
                         s.column_int(4),  s.column_int(5),  s.column_int(6)};
}

std::optional<ConversationRow> conversation_by_id(Connection& c, const std::string& id) {
  auto& s = c.prepare(
      "SELECT id, practice_id, client_id, therapist_id, created_ms, last_seq, erased_ms "
      "FROM conversations WHERE id = ?");
  s.bind_all(id);
  if (!s.step()) return std::nullopt;
  return read_conversation(s);
}

// A message row as read_message maps it, then its keys blob (column kKeysColumn, left
// to the caller); queries name the table "m".
constexpr std::string_view kMessageColumns =
    "m.conversation_id, m.seq, m.message_id, m.sender_user_id, m.sender_device_id, m.kind, m.ciphertext, "
    "m.system_text, m.content_hash, m.sent_ms, m.expired, m.format, m.wrapped_keys_blob";
constexpr int kKeysColumn = 12;

// What a stored blob failing to decode answers: which message, and what was wrong.
Error unreadable_keys(const StoredMessage& m, const Error& e) {
  return make_error(Code::kInternal, "message " + std::to_string(m.seq) + " of conversation " + m.conversation_id +
                                         ": stored " + e.message);
}

StoredMessage read_message(const Statement& s) {
  StoredMessage m;
  m.conversation_id = s.column_text(0);
  m.seq = s.column_int(1);
  m.message_id = s.column_text(2);
  m.sender_user_id = s.column_text(3);
  m.sender_device_id = s.column_text(4);
  m.kind = s.column_text(5);
  m.ciphertext = s.column_blob(6);
  m.system_text = s.column_text(7);
  m.content_hash = s.column_blob(8);
  m.sent_ms = s.column_int(9);
  m.expired = s.column_int(10) != 0;
  m.format = static_cast<int>(s.column_int(11));
  return m;
}

std::optional<StoredMessage> message_by_id(Connection& c, const std::string& conversation_id,
                                           const std::string& message_id) {
  static const std::string sql =
      "SELECT " + std::string(kMessageColumns) + " FROM messages m WHERE m.conversation_id = ? AND m.message_id = ?";
  auto& s = c.prepare(sql);
  s.bind_all(conversation_id, message_id);
  if (!s.step()) return std::nullopt;
  return read_message(s);
}

// Every stored key of message `m` (read as a row of the message).
Result<std::vector<StoredKey>> keys_of(Connection& c, const StoredMessage& m) {
  auto& s = c.prepare("SELECT wrapped_keys_blob FROM messages WHERE conversation_id = ? AND seq = ?");
  s.bind_all(m.conversation_id, m.seq);
  if (!s.step() || s.column_is_null(0)) return std::vector<StoredKey>();
  auto keys = decode_wrapped_keys(s.column_blob(0));
  if (!keys) return unreadable_keys(m, keys.error());
  return keys;
}

Status insert_message(Connection& c, const StoredMessage& m) {
  std::optional<std::string> keys;
  if (!m.keys.empty()) {
    auto blob = encode_wrapped_keys(m.keys);
    if (!blob) return blob.error();
    keys = std::move(*blob);
  }
  c.prepare(
       "INSERT INTO messages(conversation_id, seq, message_id, sender_user_id, sender_device_id, kind, "
       "ciphertext, system_text, content_hash, sent_ms, format, wrapped_keys_blob) "
       "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .bind_all(m.conversation_id, m.seq, m.message_id, m.sender_user_id, m.sender_device_id, m.kind,
                m.kind == "user" ? std::optional<Blob>(Blob{m.ciphertext}) : std::nullopt,
                m.kind == "system" ? std::optional<std::string_view>(m.system_text) : std::nullopt,
                Blob{m.content_hash}, m.sent_ms, m.format,
                keys ? std::optional<Blob>(Blob{*keys}) : std::nullopt)
      .step();
  return {};
}

ReceiptRow upsert_receipt(Connection& c, ReceiptRow r) {
  // Cursors only move forward: keep the higher seq (and its time).
  c.prepare(
       "INSERT INTO receipts(conversation_id, user_id, device_id, kind, seq, at_ms) VALUES(?, ?, ?, ?, ?, ?) "
       "ON CONFLICT(conversation_id, kind, user_id, device_id) DO UPDATE SET seq = excluded.seq, "
       "at_ms = excluded.at_ms WHERE excluded.seq > receipts.seq")
      .bind_all(r.conversation_id, r.user_id, r.device_id, r.kind, r.seq, r.at_ms)
      .step();
  auto& s = c.prepare(
      "SELECT seq, at_ms FROM receipts WHERE conversation_id = ? AND kind = ? AND user_id = ? AND device_id = ?");
  s.bind_all(r.conversation_id, r.kind, r.user_id, r.device_id);
  if (s.step()) {
    r.seq = s.column_int(0);
    r.at_ms = s.column_int(1);
  }
  return r;
}

ErasureRow read_erasure(const Statement& s) {
  return ErasureRow{s.column_text(0), s.column_text(1), s.column_text(2), s.column_text(3),
                    s.column_text(4), s.column_text(5), s.column_int(6),  s.column_int(7)};
}

void insert_erasure(Connection& c, const ErasureRow& r) {
  c.prepare(
       "INSERT INTO erasures(id, practice_id, conversation_id, kind, actor_user_id, reason, messages_affected, "
       "at_ms) VALUES(?, ?, ?, ?, ?, ?, ?, ?)")
      .bind_all(r.id, r.practice_id, r.conversation_id, r.kind, r.actor_user_id, r.reason, r.messages_affected,
                r.at_ms)
      .step();
}

}  // namespace

const std::vector<store::Migration>& messaging_migrations() {
  static const std::vector<store::Migration> migrations = {
      store::Migration{1, kSchemaV1}, store::Migration{2, kSchemaV2},
      store::Migration{3, store::kIdempotentWritesSchema}, store::Migration{4, kSchemaV4},
      store::Migration{5, kSchemaV5}, store::Migration{6, kSchemaV6}};
  return migrations;
}

Result<std::unique_ptr<MessagingStore>> MessagingStore::open(const std::filesystem::path& path) {
  store::DatabaseOptions options;
  options.path = path;
  options.migrations = messaging_migrations();
  // Every send looks up and inserts into its conversation's part of the seq index (and
  // into the message-id index at a random place if its id is not time-ordered): a cache
  // that holds the indexes saves a pread per send once they outgrow SQLite's default
  // 2 MiB (~25,000 messages).
  options.cache_kib = 16 * 1024;
  options.after_migration = [](Connection& c, int version) {
    if (version == 4) move_keys_into_messages(c);
  };
  auto db = store::Database::open(std::move(options));
  if (!db) return std::move(db).error();
  return std::make_unique<MessagingStore>(std::move(*db));
}

MessagingStore::MessagingStore(std::unique_ptr<store::Database> db) : db_(std::move(db)) {}

asio::awaitable<void> MessagingStore::remove_old_page_images() {
  // The deleted content is zeroed in the file (secure_delete), but the WAL still
  // holds the page images written when it was sent: checkpoint and truncate it. A
  // busy reader can only postpone this; try again briefly, then leave it to the
  // next erasure or sweep (and say so).
  auto timer = asio::steady_timer(co_await asio::this_coro::executor);
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto done = co_await db_->checkpoint();
    if (done) co_return;
    timer.expires_after(std::chrono::milliseconds(50));
    co_await timer.async_wait(use_tuple);
  }
  log::warn("erased content may remain in the WAL until the next checkpoint");
}

asio::awaitable<Result<ConversationRow>> MessagingStore::open_conversation(ConversationRow candidate) {
  auto job = [candidate = std::move(candidate)](Connection& c) -> Result<ConversationRow> {
    c.prepare(
         "INSERT INTO conversations(id, practice_id, client_id, therapist_id, created_ms) VALUES(?, ?, ?, ?, ?) "
         "ON CONFLICT(client_id, therapist_id) DO NOTHING")
        .bind_all(candidate.id, candidate.practice_id, candidate.client_id, candidate.therapist_id,
                  candidate.created_ms)
        .step();
    auto& s = c.prepare(
        "SELECT id, practice_id, client_id, therapist_id, created_ms, last_seq, erased_ms "
        "FROM conversations WHERE client_id = ? AND therapist_id = ?");
    s.bind_all(candidate.client_id, candidate.therapist_id);
    if (!s.step()) return make_error(Code::kInternal, "conversation vanished");
    return read_conversation(s);
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<ConversationRow>>> MessagingStore::find_conversation(std::string id) {
  auto job = [id = std::move(id)](Connection& c) -> Result<std::optional<ConversationRow>> {
    return conversation_by_id(c, id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<ConversationRow>>> MessagingStore::list_conversations(std::string practice_id,
                                                                                         std::string user_id) {
  auto job = [practice_id = std::move(practice_id),
              user_id = std::move(user_id)](Connection& c) -> Result<std::vector<ConversationRow>> {
    std::string sql = "SELECT " + std::string(kConversationColumns) + " FROM conversations WHERE practice_id = ?";
    if (!user_id.empty()) sql += " AND (client_id = ? OR therapist_id = ?)";
    sql += " ORDER BY created_ms, id LIMIT 1000";
    auto& s = c.prepare(sql);
    if (user_id.empty()) {
      s.bind_all(practice_id);
    } else {
      s.bind_all(practice_id, user_id, user_id);
    }
    std::vector<ConversationRow> out;
    while (s.step()) out.push_back(read_conversation(s));
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::optional<StoredMessage>>> MessagingStore::find_message(std::string conversation_id,
                                                                                   std::string message_id) {
  auto job = [conversation_id = std::move(conversation_id),
              message_id = std::move(message_id)](Connection& c) -> Result<std::optional<StoredMessage>> {
    return message_by_id(c, conversation_id, message_id);
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<AppendResult>> MessagingStore::append(StoredMessage message,
                                                             std::optional<NoticeRequest> notice) {
  // The message goes to the writer, and the answer comes back, behind one pointer each:
  // moved as values through the job, its result and the awaiting handler, every field of
  // the stored message was moved ~50 times a send. mutable: the message is moved into the
  // answer, not copied (ciphertext and keys).
  auto job = [in = std::make_unique<StoredMessage>(std::move(message)),
              notice = std::move(notice)](Connection& c) mutable -> Result<std::unique_ptr<AppendResult>> {
    StoredMessage& message = *in;
    auto answer = std::make_unique<AppendResult>();
    AppendResult& out = *answer;
    if (auto existing = message_by_id(c, message.conversation_id, message.message_id)) {
      if (existing->content_hash != message.content_hash || existing->sender_device_id != message.sender_device_id)
        return Error{Code::kAlreadyExists, "message_id: already used for a different message", "message_id"};
      auto keys = keys_of(c, *existing);
      if (!keys) return keys.error();
      existing->keys = std::move(*keys);
      out.message = std::move(*existing);
      out.replayed = true;
      return answer;
    }
    auto& conv = c.prepare("SELECT last_seq, last_notice_ms FROM conversations WHERE id = ?");
    conv.bind_all(message.conversation_id);
    if (!conv.step()) return Error{Code::kNotFound, "conversation not found", "conversation_id"};
    std::int64_t seq = conv.column_int(0);
    const std::int64_t last_notice = conv.column_int(1);
    out.message = std::move(message);
    out.message.seq = ++seq;
    if (auto inserted = insert_message(c, out.message); !inserted) return inserted.error();
    std::int64_t notice_ms = last_notice;
    if (notice && (last_notice == 0 || last_notice + notice->period_ms <= out.message.sent_ms)) {
      StoredMessage n;
      n.conversation_id = out.message.conversation_id;
      n.seq = ++seq;
      n.message_id = notice->message_id;
      n.kind = "system";
      n.system_text = notice->text;
      n.content_hash = "system";
      n.sent_ms = out.message.sent_ms;
      if (auto inserted = insert_message(c, n); !inserted) return inserted.error();
      notice_ms = n.sent_ms;
      out.notice = std::move(n);
    }
    c.prepare("UPDATE conversations SET last_seq = ?, last_notice_ms = ? WHERE id = ?")
        .bind_all(seq, notice_ms, out.message.conversation_id)
        .step();
    return answer;
  };
  auto done = co_await db_->write(std::move(job));
  if (!done) co_return std::move(done).error();
  co_return std::move(**done);
}

asio::awaitable<Result<std::vector<StoredMessage>>> MessagingStore::messages_after(std::string conversation_id,
                                                                                   std::string device_id,
                                                                                   std::int64_t after_seq,
                                                                                   int limit) {
  auto job = [conversation_id = std::move(conversation_id), device_id = std::move(device_id), after_seq,
              limit](Connection& c) -> Result<std::vector<StoredMessage>> {
    static const std::string sql = "SELECT " + std::string(kMessageColumns) +
                                   " FROM messages m WHERE m.conversation_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?";
    auto& s = c.prepare(sql);
    s.bind_all(conversation_id, after_seq, limit);
    std::vector<StoredMessage> out;
    while (s.step()) {
      auto m = read_message(s);
      if (!s.column_is_null(kKeysColumn)) {
        auto key = wrapped_key_of(s.column_blob(kKeysColumn), device_id);
        if (!key) return unreadable_keys(m, key.error());
        if (*key) m.keys.push_back({device_id, std::move(**key)});
      }
      out.push_back(std::move(m));
    }
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<ReceiptRow>> MessagingStore::ack_delivered(ReceiptRow receipt) {
  receipt.kind = "delivered";
  auto job = [receipt = std::move(receipt)](Connection& c) -> Result<ReceiptRow> { return upsert_receipt(c, receipt); };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<ReceiptRow>> MessagingStore::mark_read(ReceiptRow receipt) {
  receipt.kind = "read";
  receipt.device_id.clear();
  auto job = [receipt = std::move(receipt)](Connection& c) -> Result<ReceiptRow> { return upsert_receipt(c, receipt); };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::vector<ReceiptRow>>> MessagingStore::receipts(std::string conversation_id) {
  auto job = [conversation_id = std::move(conversation_id)](Connection& c) -> Result<std::vector<ReceiptRow>> {
    auto& s = c.prepare(
        "SELECT conversation_id, user_id, device_id, kind, seq, at_ms FROM receipts WHERE conversation_id = ? "
        "ORDER BY kind, user_id, device_id");
    s.bind_all(conversation_id);
    std::vector<ReceiptRow> out;
    while (s.step())
      out.push_back({s.column_text(0), s.column_text(1), s.column_text(2), s.column_text(3), s.column_int(4),
                     s.column_int(5)});
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<HoursRow>> MessagingStore::set_hours(HoursRow hours) {
  auto job = [hours = std::move(hours)](Connection& c) -> Result<HoursRow> {
    c.prepare(
         "INSERT INTO messaging_hours(therapist_id, practice_id, time_zone, windows, expected_reply_hours, "
         "updated_ms) VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(therapist_id) DO UPDATE SET time_zone = "
         "excluded.time_zone, windows = excluded.windows, expected_reply_hours = excluded.expected_reply_hours, "
         "updated_ms = excluded.updated_ms")
        .bind_all(hours.therapist_id, hours.practice_id, hours.time_zone, hours.windows, hours.expected_reply_hours,
                  hours.updated_ms)
        .step();
    return hours;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::optional<HoursRow>>> MessagingStore::find_hours(std::string therapist_id) {
  auto job = [therapist_id = std::move(therapist_id)](Connection& c) -> Result<std::optional<HoursRow>> {
    auto& s = c.prepare(
        "SELECT therapist_id, practice_id, time_zone, windows, expected_reply_hours, updated_ms "
        "FROM messaging_hours WHERE therapist_id = ?");
    s.bind_all(therapist_id);
    if (!s.step()) return std::optional<HoursRow>();
    return std::optional<HoursRow>(HoursRow{s.column_text(0), s.column_text(1), s.column_text(2), s.column_text(3),
                                            static_cast<int>(s.column_int(4)), s.column_int(5)});
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<PolicyRow>> MessagingStore::set_policy(PolicyRow policy) {
  auto job = [policy = std::move(policy)](Connection& c) -> Result<PolicyRow> {
    c.prepare(
         "INSERT INTO policies(practice_id, crisis_text, notice_period_minutes, retention_days, updated_ms) "
         "VALUES(?, ?, ?, ?, ?) ON CONFLICT(practice_id) DO UPDATE SET crisis_text = excluded.crisis_text, "
         "notice_period_minutes = excluded.notice_period_minutes, retention_days = excluded.retention_days, "
         "updated_ms = excluded.updated_ms")
        .bind_all(policy.practice_id, policy.crisis_text, policy.notice_period_minutes, policy.retention_days,
                  policy.updated_ms)
        .step();
    return policy;
  };
  co_return co_await db_->write(std::move(job));
}

namespace {
PolicyRow read_policy(const Statement& s) {
  return PolicyRow{s.column_text(0), s.column_text(1), static_cast<int>(s.column_int(2)),
                   static_cast<int>(s.column_int(3)), s.column_int(4)};
}
}  // namespace

asio::awaitable<Result<std::optional<PolicyRow>>> MessagingStore::find_policy(std::string practice_id) {
  auto job = [practice_id = std::move(practice_id)](Connection& c) -> Result<std::optional<PolicyRow>> {
    auto& s = c.prepare(
        "SELECT practice_id, crisis_text, notice_period_minutes, retention_days, updated_ms FROM policies "
        "WHERE practice_id = ?");
    s.bind_all(practice_id);
    if (!s.step()) return std::optional<PolicyRow>();
    return std::optional<PolicyRow>(read_policy(s));
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<std::vector<PolicyRow>>> MessagingStore::list_policies() {
  auto job = [](Connection& c) -> Result<std::vector<PolicyRow>> {
    auto& s = c.prepare(
        "SELECT practice_id, crisis_text, notice_period_minutes, retention_days, updated_ms FROM policies "
        "ORDER BY practice_id");
    std::vector<PolicyRow> out;
    while (s.step()) out.push_back(read_policy(s));
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

asio::awaitable<Result<MessagingStore::Erasure>> MessagingStore::erase_conversation(ErasureRow record,
                                                                                  store::IdempotentWrite key) {
  auto job = [record = std::move(record), key = std::move(key)](Connection& c) mutable -> Result<Erasure> {
    auto seen = store::recall(c, key);
    if (!seen) return seen.error();
    if (*seen) {
      auto first = store::query_one(
          c,
          "SELECT id, practice_id, conversation_id, kind, actor_user_id, reason, messages_affected, at_ms "
          "FROM erasures WHERE id = ?",
          read_erasure, **seen);
      if (!first) return Error{Code::kInternal, "idempotency record without its erasure", ""};
      return Erasure{std::move(*first), true};
    }
    c.prepare(
         "UPDATE messages SET ciphertext = NULL, system_text = NULL, wrapped_keys_blob = NULL, expired = 1 "
         "WHERE conversation_id = ? AND expired = 0")
        .bind_all(record.conversation_id)
        .step();
    record.messages_affected = c.changes();
    c.prepare("UPDATE conversations SET erased_ms = ? WHERE id = ?").bind_all(record.at_ms, record.conversation_id).step();
    insert_erasure(c, record);
    store::remember(c, key, record.id, record.at_ms);
    return Erasure{std::move(record)};
  };
  auto erased = co_await db_->write(std::move(job));
  if (erased && !erased->replayed) co_await remove_old_page_images();
  co_return erased;
}

asio::awaitable<Result<std::optional<ErasureRow>>> MessagingStore::apply_retention(std::string practice_id,
                                                                                   std::int64_t cutoff_ms,
                                                                                   std::int64_t now_ms) {
  auto job = [practice_id = std::move(practice_id), cutoff_ms,
              now_ms](Connection& c) -> Result<std::optional<ErasureRow>> {
    c.prepare(
         "UPDATE messages SET ciphertext = NULL, system_text = NULL, wrapped_keys_blob = NULL, expired = 1 "
         "WHERE expired = 0 AND sent_ms < ? AND conversation_id IN (SELECT id FROM conversations WHERE practice_id = ?)")
        .bind_all(cutoff_ms, practice_id)
        .step();
    const auto affected = c.changes();
    if (affected == 0) return std::optional<ErasureRow>();
    ErasureRow r{new_id(), practice_id, "", "retention", "", "retention period", affected, now_ms};
    insert_erasure(c, r);
    return std::optional<ErasureRow>(std::move(r));
  };
  auto expired = co_await db_->write(std::move(job));
  if (expired && *expired) co_await remove_old_page_images();
  co_return expired;
}

asio::awaitable<Result<std::vector<ErasureRow>>> MessagingStore::list_erasures(std::string practice_id) {
  auto job = [practice_id = std::move(practice_id)](Connection& c) -> Result<std::vector<ErasureRow>> {
    auto& s = c.prepare(
        "SELECT id, practice_id, conversation_id, kind, actor_user_id, reason, messages_affected, at_ms "
        "FROM erasures WHERE practice_id = ? ORDER BY at_ms, id LIMIT 1000");
    s.bind_all(practice_id);
    std::vector<ErasureRow> out;
    while (s.step()) out.push_back(read_erasure(s));
    return out;
  };
  co_return co_await db_->read(std::move(job));
}

}  // namespace alliance::messaging
