#pragma once
// identity's audit log: records of who touched protected data, appended to audit.db
// (its own file beside identity.db) as a hash chain with Ed25519-signed checkpoints
// (libs/audit/chain.hpp). Handlers call record(), which only queues: one flush at a
// time appends everything queued in one write job, so a burst of requests shares a
// group commit and no request waits on the log. append() is the awaited path for
// records other services send in batches (AppendAudit), answered after the commit.
// record() and append() run on the service's executor; SQLite on the store's threads.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alliance/audit/chain.hpp"
#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/crypto/ed25519.hpp"
#include "alliance/store/database.hpp"

namespace alliance::identity {

struct AuditOptions {
  std::filesystem::path database;                          // audit.db
  std::int64_t checkpoint_every = 1000;                    // records between signed checkpoints
  std::chrono::milliseconds checkpoint_interval{60'000};   // or this long, whichever is first
  std::size_t max_queued = 100'000;                        // record() drops (and counts) beyond this
};

// A page of the log, newest first. Empty ids match everyone; times are unix ms.
struct AuditQuery {
  std::string practice_id;
  std::string actor_user_id;
  std::string subject_user_id;
  std::int64_t since_unix_ms = 0;
  std::int64_t until_unix_ms = 0;  // 0: no end
  std::int64_t before_seq = 0;     // the cursor: only seq below it (0: from the newest)
  int limit = 50;
  bool exclude_actor_is_subject = false;  // a client's access log leaves out their own actions
};

// What a prune removed: records up to through_seq (`records` of them), now in `archive`.
struct AuditPrune {
  std::int64_t through_seq = 0;
  std::int64_t records = 0;
  std::filesystem::path archive;
};

class AuditLog {
 public:
  struct Stats {
    std::uint64_t appended = 0;  // records committed
    std::uint64_t dropped = 0;   // records refused because the queue was full
    std::uint64_t failed = 0;    // records whose write failed (logged)
  };

  // Opens (creating) audit.db and applies its schema. Blocks: start-up only.
  static Result<std::unique_ptr<AuditLog>> open(asio::any_io_executor ex, AuditOptions options,
                                                crypto::Ed25519PrivateKey key);

  // Queues one record (seq, prev_hash and hash are assigned when it is written; a
  // zero at_unix_ms becomes now). Never waits.
  void record(audit::Record r);
  // Appends `records` in order in one transaction; resumes after the commit with the
  // last seq written. A checkpoint is signed in the same transaction when one is due.
  asio::awaitable<Result<std::int64_t>> append(std::vector<audit::Record> records);
  // Signs a checkpoint over the newest record if it is not covered yet (a quiet log
  // still gets its tail signed: run every checkpoint_interval and at shutdown).
  asio::awaitable<Status> seal();
  // Waits until every record() so far is written (tests, shutdown).
  asio::awaitable<void> drain();
  asio::awaitable<Result<std::vector<audit::Record>>> query(AuditQuery q);
  // Retention, the one way records leave the log: copies every record up to the newest
  // signed checkpoint over a record older than `before_unix_ms` (and their checkpoints)
  // into audit-archive-<first>-<last>.db beside audit.db, then removes them, keeping that
  // checkpoint as the anchor the rest verifies from, and appends an "audit.prune" record
  // (object_id: the last seq removed) signed at once, all in one transaction.
  // kFailedPrecondition (field before) when no checkpoint qualifies.
  asio::awaitable<Result<AuditPrune>> prune(std::int64_t before_unix_ms);

  const std::string& public_key_raw() const { return public_key_; }
  Stats stats() const { return stats_; }
  const AuditOptions& options() const { return options_; }

 private:
  AuditLog(asio::any_io_executor ex, AuditOptions options, crypto::Ed25519PrivateKey key,
           std::unique_ptr<store::Database> db);
  asio::awaitable<void> flush();

  asio::any_io_executor ex_;
  AuditOptions options_;
  std::shared_ptr<const crypto::Ed25519PrivateKey> key_;
  std::string public_key_;
  std::unique_ptr<store::Database> db_;
  std::vector<audit::Record> queued_;
  bool flushing_ = false;
  Stats stats_;
};

// The record of a key rotation: `count` data keys of identity.db re-wrapped at start
// under the KEK named `kek_id` (crypto::kek_id), by the operator who restarted it.
audit::Record data_keys_rewrapped(int count, const std::string& kek_id);

// The audit signing key at `path`: loaded if present (it must be 0600 or stricter),
// else made and written with mode 0600, with its public key beside it as
// "<path>.pub" (64 hex characters) for `alliancectl audit verify --public-key`.
// Errors name the path.
Result<crypto::Ed25519PrivateKey> load_or_create_audit_key(const std::filesystem::path& path);

}  // namespace alliance::identity
