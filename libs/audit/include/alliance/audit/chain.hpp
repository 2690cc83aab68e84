#pragma once
// The audit log's hash chain: one record per access to or change of protected data,
// each holding the hash of the one before, and Ed25519-signed checkpoints over
// (seq, hash) every so often. Pure functions; any thread.
//
//   hash = SHA-256(prev_hash || encode(record))
//   encode = every field in the order below, each as an 8-byte big-endian length
//            (or, for the integers, the 8-byte big-endian value) then its bytes,
//   checkpoint signature = Ed25519("alliance-audit-checkpoint-v1" || seq || hash).
//
// Records hold ids, never names, emails, reasons or message content.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace alliance::audit {

inline constexpr std::size_t kHashSize = 32;

struct Record {
  std::int64_t seq = 0;          // 1, 2, 3, ... with no gap
  std::int64_t at_unix_ms = 0;
  std::string practice_id;
  std::string actor_user_id;     // "" for a service acting on its own
  std::string actor_role;        // "client" | "therapist" | "front_desk" | "admin" | ""
  std::string session_id;
  std::string source_address;
  std::string service;           // "identity", "scheduling", ...
  std::string action;            // "appointment.read", "login.failed", ...
  std::string object_type;       // "appointment", "user", ...
  std::string object_id;
  std::string subject_user_id;   // whose data (the client), or ""
  std::string outcome;           // "ok" | "denied" | "not_found" | "failed"
  std::string prev_hash;         // 32 bytes; all zero for seq 1
  std::string hash;              // 32 bytes
};

struct Checkpoint {
  std::int64_t seq = 0;       // the record it covers
  std::string hash;           // that record's hash
  std::int64_t at_unix_ms = 0;
  std::string signature;      // 64 bytes
};

// The hash of seq 1's predecessor.
std::string genesis_hash();
// SHA-256 over prev_hash and every field of `r` but prev_hash and hash.
std::string record_hash(std::string_view prev_hash, const Record& r);
// What a checkpoint's signature covers.
std::string checkpoint_message(std::int64_t seq, std::string_view hash);
// True for the outcomes a record may hold.
bool valid_outcome(std::string_view outcome);

struct Verification {
  bool ok = true;
  std::int64_t records = 0;           // records read
  std::int64_t checkpoints = 0;       // checkpoints whose signature was checked
  std::int64_t last_signed_seq = 0;   // the highest seq a valid checkpoint covers
  std::int64_t pruned_through = 0;    // records 1..this were pruned (archived) before; 0: none
  std::optional<std::int64_t> broken_seq;  // the first record (or checkpoint's seq) that fails
  std::string check;  // which check failed: "sequence", "prev_hash", "hash",
                      // "checkpoint_record", "checkpoint_hash", "checkpoint_signature"
  std::string detail; // one line for a person
};

// The action of the record a prune appends; its object_id is the last pruned seq.
inline constexpr std::string_view kPruneAction = "audit.prune";

// Recomputes the chain over `records` (in seq order, from seq 1) and checks every
// checkpoint (in seq order) against it and `public_key_raw` (32 bytes). Reports the
// first failure by seq: an edited row fails "hash" (or "prev_hash" at the next one); a
// deleted row fails "sequence"; rows deleted and the rest re-hashed without the key fail
// "checkpoint_hash" at the first checkpoint after them.
// A pruned log (first seq P+1 > 1) is checked from the signed checkpoint at P, which
// must be there ("sequence" otherwise), and must hold the audit.prune record naming P
// ("prune_record" otherwise); checkpoints before P went to the archive with their records.
Verification verify_chain(std::span<const Record> records, std::span<const Checkpoint> checkpoints,
                          std::string_view public_key_raw);

}  // namespace alliance::audit
