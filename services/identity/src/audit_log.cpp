#include "audit_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "alliance/audit/audit_file.hpp"
#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"
#include "alliance/store/query.hpp"

namespace alliance::identity {
namespace {

struct ChainHead {
  std::int64_t seq = 0;
  std::string hash = audit::genesis_hash();
  std::int64_t signed_seq = 0;
  std::int64_t signed_at_unix_ms = 0;
};

// Read inside the write job, so each batch links to what is committed (a rolled-back
// batch leaves no trace in memory to fork the chain from).
ChainHead read_head(store::Connection& c) {
  ChainHead head;
  if (auto last = store::query_one(c, "SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1",
                                   [](store::Statement& s) { return std::pair{s.column_int(0), s.column_blob(1)}; })) {
    head.seq = last->first;
    head.hash = last->second;
  } else if (auto anchor = store::query_one(
                 c, "SELECT seq, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1",
                 [](store::Statement& s) { return std::pair{s.column_int(0), s.column_blob(1)}; })) {
    // Every record was pruned: the chain goes on from the checkpoint the prune kept.
    head.seq = anchor->first;
    head.hash = anchor->second;
  }
  if (auto cp = store::query_one(c, "SELECT seq, at_unix_ms FROM audit_checkpoints ORDER BY seq DESC LIMIT 1",
                                 [](store::Statement& s) { return std::pair{s.column_int(0), s.column_int(1)}; })) {
    head.signed_seq = cp->first;
    head.signed_at_unix_ms = cp->second;
  }
  return head;
}

void write_checkpoint(store::Connection& c, const crypto::Ed25519PrivateKey& key, const ChainHead& head,
                      std::int64_t now) {
  store::execute(c, "INSERT INTO audit_checkpoints(seq, hash, at_unix_ms, signature) VALUES(?, ?, ?, ?)", head.seq,
                 store::Blob{head.hash}, now, store::Blob{key.sign(audit::checkpoint_message(head.seq, head.hash))});
}

bool checkpoint_due(const ChainHead& head, const AuditOptions& o, std::int64_t now) {
  if (head.seq <= head.signed_seq) return false;
  return head.seq - head.signed_seq >= o.checkpoint_every ||
         now - head.signed_at_unix_ms >= o.checkpoint_interval.count();
}

// Appends `records` (in order) to the chain inside the caller's write transaction,
// signing checkpoints as they fall due; the last seq written.
std::int64_t append_in(store::Connection& c, std::vector<audit::Record>& records, const crypto::Ed25519PrivateKey& key,
                       const AuditOptions& o) {
  ChainHead head = read_head(c);
  const auto now = now_unix_ms();
  for (auto& r : records) {
    r.seq = head.seq + 1;
    r.prev_hash = head.hash;
    r.hash = audit::record_hash(r.prev_hash, r);
    store::execute(c,
                   "INSERT INTO audit_records(seq, at_unix_ms, practice_id, actor_user_id, actor_role, "
                   "session_id, source_address, service, action, object_type, object_id, subject_user_id, "
                   "outcome, prev_hash, hash) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   r.seq, r.at_unix_ms, r.practice_id, r.actor_user_id, r.actor_role, r.session_id, r.source_address,
                   r.service, r.action, r.object_type, r.object_id, r.subject_user_id, r.outcome,
                   store::Blob{r.prev_hash}, store::Blob{r.hash});
    head.seq = r.seq;
    head.hash = r.hash;
    if (head.seq - head.signed_seq >= o.checkpoint_every) {
      write_checkpoint(c, key, head, now);
      head.signed_seq = head.seq;
      head.signed_at_unix_ms = now;
    }
  }
  if (checkpoint_due(head, o, now)) write_checkpoint(c, key, head, now);
  return head.seq;
}

// Copies records first..through and the checkpoints first-1..through into a new audit
// file at `path` (the same schema, so `alliancectl audit verify` reads it), committed
// before the originals are removed.
void write_archive(store::Connection& from, const std::filesystem::path& path, std::int64_t first,
                   std::int64_t through) {
  auto to = store::Connection::open(path, {});
  to->exec(std::string(audit::kSchemaV1));
  to->exec("BEGIN IMMEDIATE");
  auto records = store::query_all(from,
                                  "SELECT " + std::string(audit::kRecordColumns) +
                                      " FROM audit_records WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
                                  audit::read_record, first, through);
  for (const auto& r : records)
    store::execute(*to,
                   "INSERT INTO audit_records(" + std::string(audit::kRecordColumns) +
                       ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   r.seq, r.at_unix_ms, r.practice_id, r.actor_user_id, r.actor_role, r.session_id, r.source_address,
                   r.service, r.action, r.object_type, r.object_id, r.subject_user_id, r.outcome,
                   store::Blob{r.prev_hash}, store::Blob{r.hash});
  auto checkpoints = store::query_all(
      from, "SELECT seq, hash, at_unix_ms, signature FROM audit_checkpoints WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
      [](store::Statement& s) {
        return audit::Checkpoint{s.column_int(0), s.column_blob(1), s.column_int(2), s.column_blob(3)};
      },
      first - 1, through);
  for (const auto& cp : checkpoints)
    store::execute(*to, "INSERT INTO audit_checkpoints(seq, hash, at_unix_ms, signature) VALUES(?, ?, ?, ?)", cp.seq,
                   store::Blob{cp.hash}, cp.at_unix_ms, store::Blob{cp.signature});
  to->exec("COMMIT");
}

Result<void> check_record(const audit::Record& r) {
  if (r.service.empty()) return invalid_argument("service", "service: is required");
  if (r.action.empty()) return invalid_argument("action", "action: is required");
  if (!audit::valid_outcome(r.outcome))
    return invalid_argument("outcome", "outcome: must be ok, denied, not_found or failed");
  return {};
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::open(asio::any_io_executor ex, AuditOptions options,
                                                 crypto::Ed25519PrivateKey key) {
  std::vector<store::Migration> migrations{{1, audit::kSchemaV1}};
  auto db = store::Database::open({.path = options.database, .migrations = std::move(migrations), .readers = 1});
  if (!db) return db.error();
  return std::unique_ptr<AuditLog>(new AuditLog(std::move(ex), std::move(options), std::move(key), std::move(*db)));
}

AuditLog::AuditLog(asio::any_io_executor ex, AuditOptions options, crypto::Ed25519PrivateKey key,
                   std::unique_ptr<store::Database> db)
    : ex_(std::move(ex)),
      options_(std::move(options)),
      key_(std::make_shared<const crypto::Ed25519PrivateKey>(std::move(key))),
      public_key_(key_->public_key_raw()),
      db_(std::move(db)) {}

audit::Record data_keys_rewrapped(int count, const std::string& kek_id) {
  audit::Record r;
  r.service = "identity";
  r.action = "data_keys.rewrapped";
  r.object_type = "kek";
  r.object_id = kek_id + " (" + std::to_string(count) + " data keys)";
  r.outcome = "ok";
  return r;
}

void AuditLog::record(audit::Record r) {
  if (queued_.size() >= options_.max_queued) {
    ++stats_.dropped;
    if (stats_.dropped == 1 || stats_.dropped % 1000 == 0)
      log::error("audit queue full: records dropped", {{"dropped", static_cast<std::int64_t>(stats_.dropped)}});
    return;
  }
  if (r.at_unix_ms == 0) r.at_unix_ms = now_unix_ms();
  queued_.push_back(std::move(r));
  if (flushing_) return;
  flushing_ = true;
  asio::co_spawn(ex_, flush(), [](std::exception_ptr e) {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log::error("audit flush failed", {{"reason", x.what()}});
    }
  });
}

asio::awaitable<void> AuditLog::flush() {
  while (!queued_.empty()) {
    std::vector<audit::Record> batch;
    batch.swap(queued_);
    const auto n = batch.size();
    auto done = co_await append(std::move(batch));
    if (!done) {
      stats_.failed += n;
      log::error("audit records not written", {{"records", static_cast<std::int64_t>(n)},
                                                {"reason", done.error().message}});
    }
  }
  flushing_ = false;
}

asio::awaitable<void> AuditLog::drain() {
  asio::steady_timer t(ex_);
  while (flushing_ || !queued_.empty()) {
    t.expires_after(std::chrono::milliseconds(2));
    co_await t.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<Result<std::int64_t>> AuditLog::append(std::vector<audit::Record> records) {
  for (const auto& r : records)
    if (auto ok = check_record(r); !ok) co_return ok.error();
  const auto n = records.size();
  // Named before the co_await: g++ 12 double-frees a capturing lambda written inside one.
  auto job = [records = std::move(records), key = key_, o = options_](store::Connection& c) mutable
      -> Result<std::int64_t> { return append_in(c, records, *key, o); };
  auto written = co_await db_->write(std::move(job));
  if (written) stats_.appended += n;
  co_return written;
}

asio::awaitable<Status> AuditLog::seal() {
  auto job = [key = key_](store::Connection& c) -> Result<bool> {
    ChainHead head = read_head(c);
    if (head.seq <= head.signed_seq) return false;
    write_checkpoint(c, *key, head, now_unix_ms());
    return true;
  };
  auto done = co_await db_->write(std::move(job));
  if (!done) co_return done.error();
  co_return Status{};
}

asio::awaitable<Result<AuditPrune>> AuditLog::prune(std::int64_t before_unix_ms) {
  const auto dir = options_.database.parent_path();
  auto job = [before_unix_ms, dir, key = key_, o = options_](store::Connection& c) -> Result<AuditPrune> {
    // The newest signed checkpoint over a record older than `before`: everything up to
    // it goes, and it stays as the anchor the rest of the chain is verified from.
    auto through = store::query_one(
        c,
        "SELECT cp.seq FROM audit_checkpoints cp JOIN audit_records r ON r.seq = cp.seq "
        "WHERE r.at_unix_ms < ?1 ORDER BY cp.seq DESC LIMIT 1",
        [](store::Statement& s) { return s.column_int(0); }, before_unix_ms);
    if (!through)
      return Error{Code::kFailedPrecondition,
                   "before: no signed checkpoint covers a record older than this; nothing to prune", "before"};
    const auto first = *store::query_one(c, "SELECT min(seq) FROM audit_records",
                                         [](store::Statement& s) { return s.column_int(0); });
    AuditPrune done{*through, *through - first + 1,
                    dir / ("audit-archive-" + std::to_string(first) + "-" + std::to_string(*through) + ".db")};
    std::error_code exists;
    if (std::filesystem::exists(done.archive, exists))
      return Error{Code::kAlreadyExists, "archive \"" + done.archive.string() + "\" already exists", "before"};
    write_archive(c, done.archive, first, *through);
    // The triggers refuse deletes from the service's own writes; a prune lifts them
    // inside its transaction only, and the prune is recorded in the same commit.
    c.exec("DROP TRIGGER audit_records_no_delete; DROP TRIGGER audit_checkpoints_no_delete;");
    store::execute(c, "DELETE FROM audit_records WHERE seq <= ?1", *through);
    store::execute(c, "DELETE FROM audit_checkpoints WHERE seq < ?1", *through);
    c.exec(
        "CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records "
        "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;"
        "CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints "
        "BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;");
    std::vector<audit::Record> record(1);
    auto& r = record.front();
    r.at_unix_ms = now_unix_ms();
    r.actor_role = "operator";
    r.service = "identity";
    r.action = std::string(audit::kPruneAction);
    r.object_type = "audit_log";
    r.object_id = std::to_string(*through);
    r.outcome = "ok";
    append_in(c, record, *key, o);
    // Signed at once: the prune's own record is never the unsigned tail.
    ChainHead head = read_head(c);
    if (head.seq > head.signed_seq) write_checkpoint(c, *key, head, r.at_unix_ms);
    return done;
  };
  co_return co_await db_->write(std::move(job));
}

asio::awaitable<Result<std::vector<audit::Record>>> AuditLog::query(AuditQuery q) {
  auto job = [q = std::move(q)](store::Connection& c) -> Result<std::vector<audit::Record>> {
    static const std::string sql =
        "SELECT " + std::string(audit::kRecordColumns) +
        " FROM audit_records WHERE practice_id = ?1"
        " AND (?2 = '' OR actor_user_id = ?2) AND (?3 = '' OR subject_user_id = ?3)"
        " AND at_unix_ms >= ?4 AND (?5 = 0 OR at_unix_ms < ?5) AND (?6 = 0 OR seq < ?6)"
        " AND (?7 = 0 OR actor_user_id <> subject_user_id)"
        " ORDER BY seq DESC LIMIT ?8";
    return store::query_all(c, sql, audit::read_record, q.practice_id, q.actor_user_id, q.subject_user_id,
                            q.since_unix_ms, q.until_unix_ms, q.before_seq,
                            static_cast<std::int64_t>(q.exclude_actor_is_subject ? 1 : 0),
                            static_cast<std::int64_t>(q.limit));
  };
  co_return co_await db_->read(std::move(job));
}

Result<crypto::Ed25519PrivateKey> load_or_create_audit_key(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0)
      return make_error(Code::kPermissionDenied,
                        "\"" + path.string() + "\" may be read by others: it must be mode 0600 (chmod 600)");
    return crypto::Ed25519PrivateKey::from_pem_file(path);
  }
  if (errno != ENOENT)
    return make_error(Code::kPermissionDenied, "cannot read \"" + path.string() + "\": " + std::strerror(errno));
  auto key = crypto::Ed25519PrivateKey::generate();
  const std::string pem = key.to_pem();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error(Code::kPermissionDenied, "cannot create \"" + path.string() + "\": " + std::strerror(errno));
  const bool written = ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return make_error(Code::kUnavailable, "cannot write \"" + path.string() + "\"");
  std::ofstream pub(path.string() + ".pub", std::ios::trunc);
  pub << to_hex(key.public_key_raw()) << "\n";
  if (!pub) return make_error(Code::kUnavailable, "cannot write \"" + path.string() + ".pub\"");
  return key;
}

}  // namespace alliance::identity
