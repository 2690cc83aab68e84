#pragma once
// Retry-safe creates: a client sends an idempotency key with a write; a retry of the
// same request with the same key (after a lost answer, a 503 or 504) gets the first
// outcome back instead of doing the write again.
//
// A key is bound to its scope (the calling user, or "operator"), the kind of write and
// a digest of the request without its key. The record keeps only the ids of what the
// write made, never the request or the answer (which hold names and emails): a replay
// reads the made thing again and answers it as it is now.
//
//   IdempotentWrite w{caller.user_id, req.idempotency_key(), request_digest("create_user", req)};
//   // inside Database::write:
//   auto seen = recall(c, w);                       // error: same key, other request
//   if (*seen) return load_user(c, **seen);         // the replay
//   ... insert ...; remember(c, w, user.id, now_ms);
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"
#include "alliance/store/connection.hpp"

namespace alliance::store {

// The table recall/remember use, for a service's migrations.
inline constexpr std::string_view kIdempotentWritesSchema = R"SQL(
CREATE TABLE idempotent_writes (
  scope           TEXT    NOT NULL,
  key             TEXT    NOT NULL,
  request_hash    BLOB    NOT NULL,
  result          TEXT    NOT NULL,
  created_unix_ms INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) WITHOUT ROWID;
)SQL";

// An idempotency key: 8..128 printable ASCII characters without spaces, named
// `idempotency_key` in errors. Empty is "is required" unless `optional`.
Status validate_idempotency_key(std::string_view key, bool optional = false);

// The key was used before with a different request (409, naming idempotency_key).
Error idempotency_key_reused();

// SHA-256 of `kind` and the serialized request.
std::string digest_request(std::string_view kind, std::string_view serialized);

// What an idempotency key is bound to: `kind` and the request without its key. Clear
// secrets (passwords) in `req` before calling: the digest is stored. Requests without
// maps serialize equal requests to equal bytes.
template <class Request>
std::string request_digest(std::string_view kind, Request req) {
  req.clear_idempotency_key();
  return digest_request(kind, req.SerializeAsString());
}

struct IdempotentWrite {
  std::string scope;         // whose key: the calling user's id, or "operator"
  std::string key;           // as the client sent it; empty: the write is not keyed
  std::string request_hash;  // request_digest() of the request
};

// Inside a write transaction: the result remembered for this key, nullopt if the key
// is new (or the write is not keyed), idempotency_key_reused() if the key was used
// with another request.
Result<std::optional<std::string>> recall(Connection& c, const IdempotentWrite& write);

// Inside the same write transaction, after the write: remembers `result` (ids of what
// was made) for the key. Does nothing for a write that is not keyed.
void remember(Connection& c, const IdempotentWrite& write, std::string_view result, std::int64_t now_unix_ms);

}  // namespace alliance::store
