#include "alliance/store/connection.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <mutex>
#include <utility>

#include "wal_writes.hpp"

namespace alliance::store {

namespace {

// SQLite counts the memory it holds by default: every malloc and free it makes takes a
// process-wide mutex to update the count (~120 of each per stored message here). Nothing
// here reads the count (sqlite3_memory_used, sqlite3_status), so it is turned off, once,
// before SQLite initializes. If something else in the process initialized SQLite first,
// sqlite3_config refuses and the count stays on: slower, not wrong.
void configure_sqlite_once() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

std::string with_context(std::string_view what, sqlite3* db, int rc) {
  std::string out(what);
  out += ": ";
  out += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return out;
}

// "UNIQUE constraint failed: users.email" -> "users.email"
std::string_view after_colon(std::string_view message) {
  auto pos = message.rfind(": ");
  return pos == std::string_view::npos ? std::string_view{} : message.substr(pos + 2);
}

// Removes group and other access from the database and its -wal/-shm files, so a file
// made before the service set its umask (or copied in with 0644) holds no readable
// records. Files that do not exist (yet) are skipped; a new one inherits the mode.
void keep_private(const std::filesystem::path& db) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::string file = db.string() + suffix;
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0)
      ::chmod(file.c_str(), st.st_mode & 0700);
  }
}

}  // namespace

Error to_error(const StoreError& e) {
  std::string_view message = e.what();
  switch (e.code()) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: {
      // "...: UNIQUE constraint failed: users.email" (or "t.a, t.b" for a composite key).
      std::string_view columns = after_colon(message);
      std::string field;
      if (columns.find(',') == std::string_view::npos) {
        auto dot = columns.find('.');
        field = std::string(dot == std::string_view::npos ? columns : columns.substr(dot + 1));
      }
      // Clients see the field, never table names or SQL.
      return Error{Code::kAlreadyExists, field.empty() ? "already exists" : field + ": already exists", field};
    }
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return make_error(Code::kFailedPrecondition, "refers to a row that does not exist, or is still referred to");
    case SQLITE_CONSTRAINT_TRIGGER: {
      // RAISE(ABORT, '...') text is written for clients by the schema; drop our "step: " prefix.
      auto pos = message.find(": ");
      return make_error(Code::kFailedPrecondition,
                        pos == std::string_view::npos ? "conflicts with stored data" : std::string(message.substr(pos + 2)));
    }
    case SQLITE_CONSTRAINT_CHECK:
      return make_error(Code::kFailedPrecondition, "a value is not allowed");
    case SQLITE_CONSTRAINT_NOTNULL: {
      std::string_view column = after_colon(message);
      auto dot = column.find('.');
      std::string field(dot == std::string_view::npos ? column : column.substr(dot + 1));
      return Error{Code::kFailedPrecondition, field + ": is required", field};
    }
    default:
      break;
  }
  switch (e.code() & 0xff) {
    case SQLITE_CONSTRAINT:
      return make_error(Code::kFailedPrecondition, "conflicts with stored data");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
      return make_error(Code::kUnavailable, "storage busy, try again: " + std::string(message));
    default:
      return make_error(Code::kInternal, "storage error: " + std::string(message));
  }
}

// ---------------------------------------------------------------------------
// Statement

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::fail(int rc, std::string_view what) const {
  throw StoreError(sqlite3_extended_errcode(db_) ? sqlite3_extended_errcode(db_) : rc,
                   with_context(what, db_, rc));
}

Statement& Statement::bind(int index, std::int64_t v) {
  if (int rc = sqlite3_bind_int64(stmt_, index, v); rc != SQLITE_OK) fail(rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  // A null data pointer would bind NULL; an empty string_view must stay an empty TEXT.
  const char* data = text.data() ? text.data() : "";
  if (int rc = sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      rc != SQLITE_OK) {
    fail(rc, "bind");
  }
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  int rc = bytes.empty() ? sqlite3_bind_zeroblob(stmt_, index, 0)
                         : sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(rc, "bind");
  return *this;
}

Statement& Statement::bind_null(int index) {
  if (int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) fail(rc, "bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // Read the message before reset; then leave the statement reusable.
  StoreError error(sqlite3_extended_errcode(db_), with_context("step", db_, rc));
  sqlite3_reset(stmt_);
  throw error;
}

int Statement::column_count() const { return sqlite3_column_count(stmt_); }

std::int64_t Statement::column_int(int i) const { return sqlite3_column_int64(stmt_, i); }

std::string Statement::column_text(int i) const {
  const auto* p = sqlite3_column_text(stmt_, i);
  int n = sqlite3_column_bytes(stmt_, i);  // after the pointer, as SQLite requires
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

std::string Statement::column_blob(int i) const {
  const void* p = sqlite3_column_blob(stmt_, i);
  int n = sqlite3_column_bytes(stmt_, i);
  return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

bool Statement::column_is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }

void Statement::reset() { sqlite3_reset(stmt_); }

void Statement::clear_bindings() { sqlite3_clear_bindings(stmt_); }

// ---------------------------------------------------------------------------
// Connection

std::unique_ptr<Connection> Connection::open(const std::filesystem::path& path, Options options) {
  configure_sqlite_once();
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
              (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, detail::wal_coalescing_vfs());
  if (rc != SQLITE_OK) {
    std::string message = with_context("cannot open " + path.string(), db, rc);
    int code = db ? sqlite3_extended_errcode(db) : rc;
    sqlite3_close(db);
    throw StoreError(code, message);
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(options.busy_timeout.count()));
  if (!options.read_only) {
    // WAL is a property of the file: set once by the writer, readers inherit it.
    auto& mode = conn->prepare("PRAGMA journal_mode=WAL");
    std::string got = mode.step() ? mode.column_text(0) : std::string();
    mode.reset();
    if (got != "wal") {
      throw StoreError(SQLITE_ERROR, "cannot switch " + path.string() + " to WAL (journal_mode is " + got + ")");
    }
    keep_private(path);
  }
  // Per-connection settings: they must be on every connection, readers included.
  // synchronous=FULL: a COMMIT returns once its WAL frames are on disk; the WAL write
  // buffer (wal_writes.hpp) relies on that sync to put a commit's frames in the file.
  // secure_delete: deleted content (erased messages, revoked secrets) is overwritten
  // with zeros in the file instead of lingering in free pages. temp_store=MEMORY: a
  // savepoint that changes more than 64 KiB of pages (a group commit's job, an audit
  // batch) keeps the pages' old images in memory; otherwise SQLite spills them to a
  // file in /var/tmp, outside the data folder and its secure_delete, and creates,
  // writes and deletes that file on each such commit.
  conn->exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON; PRAGMA temp_store=MEMORY;");
  // Negative: a size in KiB rather than a page count.
  if (options.cache_kib > 0) conn->exec("PRAGMA cache_size=-" + std::to_string(options.cache_kib));
  return conn;
}

Connection::~Connection() {
  cache_.clear();  // finalize every statement first, or close would fail with SQLITE_BUSY
  sqlite3_close(db_);
}

void Connection::fail(int rc, std::string_view what) const {
  throw StoreError(sqlite3_extended_errcode(db_) ? sqlite3_extended_errcode(db_) : rc,
                   with_context(what, db_, rc));
}

void Connection::exec(std::string_view sql) {
  std::string text(sql);  // sqlite3_exec wants a NUL-terminated string
  char* message = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string what = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw StoreError(sqlite3_extended_errcode(db_) ? sqlite3_extended_errcode(db_) : rc, what);
  }
}

Statement& Connection::prepare(std::string_view sql) {
  if (auto it = cache_.find(sql); it != cache_.end()) {
    it->second->reset();
    it->second->clear_bindings();
    return *it->second;
  }
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                              &stmt, &tail);
  if (rc != SQLITE_OK) fail(rc, "prepare");
  std::unique_ptr<Statement> owned(new Statement(db_, stmt));
  if (!stmt) throw StoreError(SQLITE_MISUSE, "prepare: no statement in the SQL text");
  for (const char* p = tail; p && p < sql.data() + sql.size(); ++p) {
    if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != ';') {
      throw StoreError(SQLITE_MISUSE, "prepare: more than one statement (use exec for scripts)");
    }
  }
  return *cache_.emplace(std::string(sql), std::move(owned)).first->second;
}

std::int64_t Connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int Connection::changes() const { return sqlite3_changes(db_); }

bool Connection::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

void Connection::reset_statements() {
  for (sqlite3_stmt* s = sqlite3_next_stmt(db_, nullptr); s; s = sqlite3_next_stmt(db_, s)) {
    if (sqlite3_stmt_busy(s)) sqlite3_reset(s);
  }
}

}  // namespace alliance::store
