#pragma once
// MessagingStore: messaging's system of record (one SQLite file, WAL, FULL sync,
// group commits) behind awaitable calls. It holds conversations, sealed messages
// (ciphertext and wrapped keys only, never plaintext), receipts, messaging hours,
// practice policies and the erasure record. Callable from any executor; results
// come back on the caller's.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/store/database.hpp"
#include "alliance/store/idempotency.hpp"
#include "wrapped_keys_blob.hpp"

namespace alliance::messaging {

struct ConversationRow {
  std::string id, practice_id, client_id, therapist_id;
  std::int64_t created_ms = 0;
  std::int64_t last_seq = 0;
  std::int64_t erased_ms = 0;
};

struct StoredMessage {
  std::string conversation_id;
  std::int64_t seq = 0;
  std::string message_id;
  std::string sender_user_id;    // empty for system messages
  std::string sender_device_id;  // empty for system messages
  std::string kind;              // "user" | "system"
  int format = 1;                // sealed format 1 | 2; 1 for system messages
  std::string ciphertext;        // empty for system messages and once expired
  std::string system_text;
  std::string content_hash;      // sha256 over the sealed request; decides retry vs conflict
  std::int64_t sent_ms = 0;
  bool expired = false;
  std::vector<StoredKey> keys;   // as asked for by the query
};

// An after-hours notice to append after the message if none was sent in the
// conversation within `period_ms` (decided inside the same transaction).
struct NoticeRequest {
  std::string message_id;
  std::string text;
  std::int64_t period_ms = 0;
};

struct AppendResult {
  StoredMessage message;
  bool replayed = false;                // an earlier identical send: nothing new was written
  std::optional<StoredMessage> notice;  // the notice appended with it, if one was due
};

struct ReceiptRow {
  std::string conversation_id, user_id, device_id;  // device_id empty for read receipts
  std::string kind;                                 // "delivered" | "read"
  std::int64_t seq = 0;
  std::int64_t at_ms = 0;
};

struct HoursRow {
  std::string therapist_id, practice_id, time_zone;
  std::string windows;  // "weekday,start_minute,end_minute;..."
  int expected_reply_hours = 0;
  std::int64_t updated_ms = 0;
};

struct PolicyRow {
  std::string practice_id;
  std::string crisis_text;
  int notice_period_minutes = 720;
  int retention_days = 0;
  std::int64_t updated_ms = 0;
};

struct ErasureRow {
  std::string id, practice_id, conversation_id, kind, actor_user_id, reason;
  std::int64_t messages_affected = 0;
  std::int64_t at_ms = 0;
};

// messaging.db's schema steps, oldest first (tests build older files with a prefix).
// Version 4 moved each message's wrapped keys from their own rows into one BLOB in
// the message row (wrapped_keys_blob.hpp); MessagingStore::open converts the rows of
// an older file in that migration's transaction. Version 5 made messages a rowid
// table (a sealed message's row no longer spills into an overflow page of its own).
const std::vector<store::Migration>& messaging_migrations();

class MessagingStore {
 public:
  static Result<std::unique_ptr<MessagingStore>> open(const std::filesystem::path& path);
  explicit MessagingStore(std::unique_ptr<store::Database> db);

  // The conversation of (client, therapist): `candidate` is inserted if there is
  // none yet, else the existing one is answered.
  asio::awaitable<Result<ConversationRow>> open_conversation(ConversationRow candidate);
  asio::awaitable<Result<std::optional<ConversationRow>>> find_conversation(std::string id);
  // A participant's conversations, or (user_id empty) every one of the practice.
  asio::awaitable<Result<std::vector<ConversationRow>>> list_conversations(std::string practice_id,
                                                                           std::string user_id);

  // The message with this client-chosen id, without keys (for retry checks).
  asio::awaitable<Result<std::optional<StoredMessage>>> find_message(std::string conversation_id,
                                                                     std::string message_id);
  // Appends with the next sequence number, all in one transaction: the message, its
  // wrapped keys and (if due) the notice, which has no sender. Same message_id with
  // the same content_hash answers the stored message (replayed); another hash is
  // kAlreadyExists field message_id. Returns after COMMIT.
  asio::awaitable<Result<AppendResult>> append(StoredMessage message, std::optional<NoticeRequest> notice);
  // Messages with seq > after_seq in order, each with `device_id`'s key only. A
  // message whose stored keys are unreadable fails the whole call (kInternal, naming
  // the conversation and seq), never answers a partial list.
  asio::awaitable<Result<std::vector<StoredMessage>>> messages_after(std::string conversation_id,
                                                                     std::string device_id,
                                                                     std::int64_t after_seq, int limit);

  // Cursors only move forward; the answer is the stored (possibly higher) cursor.
  asio::awaitable<Result<ReceiptRow>> ack_delivered(ReceiptRow receipt);
  asio::awaitable<Result<ReceiptRow>> mark_read(ReceiptRow receipt);
  asio::awaitable<Result<std::vector<ReceiptRow>>> receipts(std::string conversation_id);

  asio::awaitable<Result<HoursRow>> set_hours(HoursRow hours);
  asio::awaitable<Result<std::optional<HoursRow>>> find_hours(std::string therapist_id);
  asio::awaitable<Result<PolicyRow>> set_policy(PolicyRow policy);
  asio::awaitable<Result<std::optional<PolicyRow>>> find_policy(std::string practice_id);
  asio::awaitable<Result<std::vector<PolicyRow>>> list_policies();

  // Deletes the conversation's ciphertext and wrapped keys (rows stay as expired
  // tombstones so sequence numbers keep no gaps) and records it, one transaction.
  // With a key seen before (same request), nothing is erased again and the first
  // erasure's record is answered with `replayed` set (store/idempotency.hpp).
  struct Erasure {
    ErasureRow record;
    bool replayed = false;
  };
  asio::awaitable<Result<Erasure>> erase_conversation(ErasureRow record, store::IdempotentWrite key);
  // Deletes the content of the practice's messages sent before cutoff_ms; records it
  // when anything was deleted (nullopt otherwise).
  asio::awaitable<Result<std::optional<ErasureRow>>> apply_retention(std::string practice_id,
                                                                     std::int64_t cutoff_ms,
                                                                     std::int64_t now_ms);
  asio::awaitable<Result<std::vector<ErasureRow>>> list_erasures(std::string practice_id);

  store::Database& database() { return *db_; }

 private:
  asio::awaitable<void> remove_old_page_images();
  std::unique_ptr<store::Database> db_;
};

}  // namespace alliance::messaging
