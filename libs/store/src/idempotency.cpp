#include "alliance/store/idempotency.hpp"

#include "alliance/crypto/encoding.hpp"
#include "alliance/store/query.hpp"

namespace alliance::store {

Status validate_idempotency_key(std::string_view key, bool optional) {
  if (key.empty()) {
    if (optional) return {};
    return Error{Code::kInvalidArgument, "idempotency_key: is required", "idempotency_key"};
  }
  if (key.size() < 8 || key.size() > 128)
    return Error{Code::kInvalidArgument, "idempotency_key: must be 8 to 128 characters", "idempotency_key"};
  for (unsigned char ch : key)
    if (ch < 0x21 || ch > 0x7e)
      return Error{Code::kInvalidArgument, "idempotency_key: printable ASCII without spaces only",
                   "idempotency_key"};
  return {};
}

Error idempotency_key_reused() {
  return Error{Code::kAlreadyExists, "idempotency_key: already used for a different request; use a new key",
               "idempotency_key"};
}

std::string digest_request(std::string_view kind, std::string_view serialized) {
  std::string bytes(kind);
  bytes += '\n';
  bytes += serialized;
  return crypto::sha256(bytes);
}

Result<std::optional<std::string>> recall(Connection& c, const IdempotentWrite& write) {
  if (write.key.empty()) return std::optional<std::string>();
  struct Seen {
    std::string request_hash, result;
  };
  auto seen = query_one(
      c, "SELECT request_hash, result FROM idempotent_writes WHERE scope = ?1 AND key = ?2",
      [](Statement& s) { return Seen{s.column_blob(0), s.column_text(1)}; }, write.scope, write.key);
  if (!seen) return std::optional<std::string>();
  if (seen->request_hash != write.request_hash) return idempotency_key_reused();
  return std::optional<std::string>(std::move(seen->result));
}

void remember(Connection& c, const IdempotentWrite& write, std::string_view result, std::int64_t now_unix_ms) {
  if (write.key.empty()) return;
  execute(c,
          "INSERT INTO idempotent_writes (scope, key, request_hash, result, created_unix_ms) "
          "VALUES (?1, ?2, ?3, ?4, ?5)",
          write.scope, write.key, Blob{write.request_hash}, result, now_unix_ms);
}

}  // namespace alliance::store
