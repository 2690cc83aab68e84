#pragma once
// Rows as an older release of messaging wrote them, for the migration tests that start
// from an older file (older_database.hpp): conversations c1 (last seq 4) and c2 (last
// seq 1) of practice p, and message rows with the columns every version since 2 has.
#include <optional>
#include <string>

#include "alliance/store/query.hpp"
#include "messaging_store.hpp"

namespace alliance::testing {

inline void insert_older_conversations(store::Connection& c) {
  store::execute(c, "INSERT INTO conversations(id, practice_id, client_id, therapist_id, created_ms, last_seq) "
                    "VALUES('c1', 'p', 'cl', 'th', 1, 4), ('c2', 'p', 'cl2', 'th', 1, 1)");
}

// Message "m<seq>" of `conversation`, sent by cl's phone unless it is a system notice.
// `keys_blob` (schema v4 on) is written only when set.
inline void insert_older_message(store::Connection& c, const char* conversation, int seq, const char* kind,
                                 std::optional<std::string> ciphertext, std::optional<std::string> text, int format,
                                 int expired, std::optional<std::string> keys_blob = std::nullopt) {
  using store::Blob;
  const bool user = kind == std::string("user");
  std::string sql =
      "INSERT INTO messages(conversation_id, seq, message_id, sender_user_id, sender_device_id, kind, ciphertext, "
      "system_text, content_hash, sent_ms, expired, format";
  sql += keys_blob ? ", wrapped_keys_blob) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                   : ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  auto& s = c.prepare(sql);
  s.bind_all(conversation, seq, "m" + std::to_string(seq), user ? "cl" : "", user ? "phone" : "", kind,
             ciphertext ? std::optional<Blob>(Blob{*ciphertext}) : std::nullopt, text,
             Blob{"hash" + std::to_string(seq)}, 1000 + seq, expired, format);
  if (keys_blob) s.bind_blob(13, *keys_blob);
  while (s.step()) {
  }
}

// A retry of message "m<seq>" as insert_older_message stored it (a user message): the
// same id, sender device and content hash, so the store answers the stored message.
inline messaging::StoredMessage retry_of_older_message(const char* conversation, int seq) {
  messaging::StoredMessage retry;
  retry.conversation_id = conversation;
  retry.message_id = "m" + std::to_string(seq);
  retry.sender_device_id = "phone";
  retry.content_hash = "hash" + std::to_string(seq);
  return retry;
}

}  // namespace alliance::testing
