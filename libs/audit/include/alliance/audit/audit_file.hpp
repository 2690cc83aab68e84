#pragma once
// audit.db, the audit log's own SQLite file beside identity.db: its schema (identity
// applies it through store::Database) and reading it whole, read-only, for an offline
// `alliancectl audit verify`. The service only ever INSERTs here; the triggers refuse
// UPDATE and DELETE from any connection that has not dropped them first (a retention
// run does that on purpose, and is recorded: see README "Audit log").
#include <filesystem>
#include <string_view>
#include <vector>

#include "alliance/audit/chain.hpp"
#include "alliance/core/result.hpp"
#include "alliance/store/connection.hpp"

namespace alliance::audit {

inline constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE audit_records (
  seq INTEGER PRIMARY KEY,
  at_unix_ms INTEGER NOT NULL,
  practice_id TEXT NOT NULL,
  actor_user_id TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  session_id TEXT NOT NULL,
  source_address TEXT NOT NULL,
  service TEXT NOT NULL,
  action TEXT NOT NULL,
  object_type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  subject_user_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);
CREATE INDEX audit_by_subject ON audit_records(practice_id, subject_user_id, seq);
CREATE INDEX audit_by_actor ON audit_records(practice_id, actor_user_id, seq);
CREATE INDEX audit_by_time ON audit_records(practice_id, at_unix_ms);
CREATE TABLE audit_checkpoints (
  seq INTEGER PRIMARY KEY,
  hash BLOB NOT NULL,
  at_unix_ms INTEGER NOT NULL,
  signature BLOB NOT NULL
);
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
)sql";

// The columns of audit_records in the order read_record expects.
inline constexpr std::string_view kRecordColumns =
    "seq, at_unix_ms, practice_id, actor_user_id, actor_role, session_id, source_address, service, "
    "action, object_type, object_id, subject_user_id, outcome, prev_hash, hash";

// A row selected with kRecordColumns.
Record read_record(store::Statement& s);

struct AuditFile {
  std::vector<Record> records;          // by seq
  std::vector<Checkpoint> checkpoints;  // by seq
};

// Every record and checkpoint of the file at `path`, opened read-only (the service may
// be running). kNotFound if there is no file; kInvalidArgument if it is not an audit log.
Result<AuditFile> read_audit_file(const std::filesystem::path& path);

}  // namespace alliance::audit
