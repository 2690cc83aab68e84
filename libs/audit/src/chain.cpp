#include "alliance/audit/chain.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "alliance/crypto/ed25519.hpp"
#include "alliance/crypto/encoding.hpp"

namespace alliance::audit {
namespace {

void put_field(std::string& out, std::string_view bytes) {
  crypto::append_be64(out, bytes.size());
  out.append(bytes);
}

}  // namespace

std::string genesis_hash() { return std::string(kHashSize, '\0'); }

std::string record_hash(std::string_view prev_hash, const Record& r) {
  std::string buf;
  buf.reserve(256);
  put_field(buf, "alliance-audit-record-v1");
  put_field(buf, prev_hash);
  crypto::append_be64(buf, static_cast<std::uint64_t>(r.seq));
  crypto::append_be64(buf, static_cast<std::uint64_t>(r.at_unix_ms));
  const std::array<const std::string*, 11> fields{&r.practice_id, &r.actor_user_id, &r.actor_role,
                                                  &r.session_id,  &r.source_address, &r.service,
                                                  &r.action,      &r.object_type,   &r.object_id,
                                                  &r.subject_user_id, &r.outcome};
  for (const std::string* f : fields) put_field(buf, *f);
  return crypto::sha256(buf);
}

std::string checkpoint_message(std::int64_t seq, std::string_view hash) {
  std::string buf;
  put_field(buf, "alliance-audit-checkpoint-v1");
  crypto::append_be64(buf, static_cast<std::uint64_t>(seq));
  put_field(buf, hash);
  return buf;
}

bool valid_outcome(std::string_view outcome) {
  return outcome == "ok" || outcome == "denied" || outcome == "not_found" || outcome == "failed";
}

Verification verify_chain(std::span<const Record> records, std::span<const Checkpoint> checkpoints,
                          std::string_view public_key_raw) {
  Verification v;
  auto fail = [&v](std::int64_t seq, std::string check, std::string detail) {
    v.ok = false;
    v.broken_seq = seq;
    v.check = std::move(check);
    v.detail = std::move(detail);
    return v;
  };
  // A checkpoint is checked once the chain up to its seq is known good, so the first
  // failure by seq is the one reported.
  std::size_t next_cp = 0;
  auto check_checkpoints_up_to = [&](std::int64_t seq, const std::string* hash_at_seq) -> bool {
    while (next_cp < checkpoints.size() && checkpoints[next_cp].seq <= seq) {
      const Checkpoint& cp = checkpoints[next_cp];
      if (cp.seq != seq || hash_at_seq == nullptr) {
        fail(cp.seq, "checkpoint_record",
             "checkpoint at seq " + std::to_string(cp.seq) + " covers a record that is not in the log");
        return false;
      }
      if (!crypto::ed25519_verify(public_key_raw, checkpoint_message(cp.seq, cp.hash), cp.signature)) {
        fail(cp.seq, "checkpoint_signature",
             "checkpoint at seq " + std::to_string(cp.seq) + " is not signed by this key");
        return false;
      }
      if (!crypto::constant_time_equal(cp.hash, *hash_at_seq)) {
        fail(cp.seq, "checkpoint_hash",
             "record " + std::to_string(cp.seq) + " does not hash to what the signed checkpoint says");
        return false;
      }
      ++v.checkpoints;
      v.last_signed_seq = cp.seq;
      ++next_cp;
    }
    return true;
  };

  std::string prev = genesis_hash();
  std::int64_t expected = 1;
  // A pruned log starts after a signed checkpoint (its anchor) and holds the record of
  // that prune: a prefix cut off without one is tampering, not retention.
  if (!records.empty() && records.front().seq > 1) {
    const std::int64_t anchor = records.front().seq - 1;
    const auto cp = std::find_if(checkpoints.begin(), checkpoints.end(),
                                 [anchor](const Checkpoint& c) { return c.seq == anchor; });
    if (cp == checkpoints.end())
      return fail(1, "sequence",
                  "records 1.." + std::to_string(anchor) + " are missing and no signed checkpoint marks a prune there");
    if (!crypto::ed25519_verify(public_key_raw, checkpoint_message(cp->seq, cp->hash), cp->signature))
      return fail(cp->seq, "checkpoint_signature",
                  "checkpoint at seq " + std::to_string(cp->seq) + " is not signed by this key");
    const auto recorded = std::find_if(records.begin(), records.end(), [anchor](const Record& r) {
      return r.action == kPruneAction && r.object_id == std::to_string(anchor);
    });
    if (recorded == records.end())
      return fail(anchor, "prune_record",
                  "records up to seq " + std::to_string(anchor) + " were removed without a recorded prune");
    while (next_cp < checkpoints.size() && checkpoints[next_cp].seq < anchor) ++next_cp;  // archived with their records
    ++v.checkpoints;
    ++next_cp;
    v.last_signed_seq = anchor;
    v.pruned_through = anchor;
    prev = cp->hash;
    expected = records.front().seq;
  }
  for (const Record& r : records) {
    if (r.seq != expected)
      return fail(expected, "sequence",
                  "record " + std::to_string(expected) + " is missing (next is " + std::to_string(r.seq) + ")");
    if (r.prev_hash != prev)
      return fail(r.seq, "prev_hash",
                  "record " + std::to_string(r.seq) + " does not point at the hash of the record before it");
    const std::string h = record_hash(prev, r);
    if (h != r.hash)
      return fail(r.seq, "hash", "record " + std::to_string(r.seq) + " was changed after it was written");
    if (!check_checkpoints_up_to(r.seq, &r.hash)) return v;
    prev = r.hash;
    ++v.records;
    ++expected;
  }
  if (!check_checkpoints_up_to(std::numeric_limits<std::int64_t>::max(), nullptr)) return v;
  return v;
}

}  // namespace alliance::audit
