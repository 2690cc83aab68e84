#include "alliance/audit/audit_file.hpp"

#include <system_error>

#include "alliance/store/query.hpp"

namespace alliance::audit {

Record read_record(store::Statement& s) {
  Record r;
  r.seq = s.column_int(0);
  r.at_unix_ms = s.column_int(1);
  r.practice_id = s.column_text(2);
  r.actor_user_id = s.column_text(3);
  r.actor_role = s.column_text(4);
  r.session_id = s.column_text(5);
  r.source_address = s.column_text(6);
  r.service = s.column_text(7);
  r.action = s.column_text(8);
  r.object_type = s.column_text(9);
  r.object_id = s.column_text(10);
  r.subject_user_id = s.column_text(11);
  r.outcome = s.column_text(12);
  r.prev_hash = s.column_blob(13);
  r.hash = s.column_blob(14);
  return r;
}

Result<AuditFile> read_audit_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return make_error(Code::kNotFound, "no audit log at \"" + path.string() + "\"");
  try {
    auto c = store::Connection::open(path, {.read_only = true});
    AuditFile f;
    f.records = store::query_all(*c, "SELECT " + std::string(kRecordColumns) + " FROM audit_records ORDER BY seq",
                                 read_record);
    f.checkpoints = store::query_all(
        *c, "SELECT seq, hash, at_unix_ms, signature FROM audit_checkpoints ORDER BY seq", [](store::Statement& s) {
          return Checkpoint{s.column_int(0), s.column_blob(1), s.column_int(2), s.column_blob(3)};
        });
    return f;
  } catch (const store::StoreError& e) {
    return make_error(Code::kInvalidArgument, "\"" + path.string() + "\" is not a readable audit log: " + e.what());
  }
}

}  // namespace alliance::audit
