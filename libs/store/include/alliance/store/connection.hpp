#pragma once
// SQLite at the statement level: a connection, its cached prepared statements and
// the one exception type the store uses. Services normally reach a Connection only
// inside Database::read()/write() (database.hpp); it is never shared between threads.
#include <chrono>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "alliance/core/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace alliance::store {

// A SQLite failure. `code()` is SQLite's extended result code (SQLITE_CONSTRAINT_UNIQUE,
// ...). Thrown by Statement/Connection; Database::read()/write() turn one that escapes
// the caller's function into an Error (see to_error), so handlers only see Result values.
class StoreError : public std::runtime_error {
 public:
  StoreError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// The Error a StoreError stands for:
//   UNIQUE / PRIMARY KEY constraint            -> kAlreadyExists ("already exists: users.email",
//                                                 field "email" when one column is named)
//   CHECK / FOREIGN KEY / NOT NULL / trigger    -> kFailedPrecondition
//   SQLITE_BUSY / SQLITE_LOCKED / disk full     -> kUnavailable
//   anything else                               -> kInternal
// The message carries SQLite's text (table and column names), never SQL or bound values.
Error to_error(const StoreError& e);

// Marks a value for Statement::bind_all as a BLOB rather than TEXT.
struct Blob {
  std::string_view bytes;
};

// A prepared statement owned by its Connection's cache (Connection::prepare); use it
// from the thread that owns the connection. Bind indexes are 1-based, column indexes
// 0-based, as in SQLite. Values are copied when bound.
class Statement {
 public:
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t v);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, Blob bytes) { return bind_blob(index, bytes.bytes); }
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);
  // Binds args to parameters 1..N. Accepts integers (and bool), anything convertible to
  // std::string_view (TEXT), Blob, std::nullopt and std::optional<any of those> (empty -> NULL).
  template <class... Args>
  Statement& bind_all(const Args&... args) {
    int index = 0;
    (bind_value(++index, args), ...);
    return *this;
  }

  // true = a row is ready to read; false = done. Throws StoreError (and resets the
  // statement) on a SQLite error, e.g. a constraint violation.
  bool step();

  int column_count() const;
  std::int64_t column_int(int i) const;
  std::string column_text(int i) const;  // "" for NULL
  std::string column_blob(int i) const;  // "" for NULL
  bool column_is_null(int i) const;

  // Ready to step again from the start; bindings are kept.
  void reset();
  void clear_bindings();

 private:
  friend class Connection;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}

  template <class T>
  void bind_value(int index, const T& v) {
    if constexpr (std::is_same_v<T, std::nullopt_t>) {
      bind_null(index);
    } else if constexpr (std::is_same_v<T, Blob>) {
      bind_blob(index, v.bytes);
    } else if constexpr (std::integral<T>) {
      bind(index, static_cast<std::int64_t>(v));
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      bind(index, std::string_view(v));
    } else {
      // std::optional<U>
      if (v.has_value()) {
        bind_value(index, *v);
      } else {
        bind_null(index);
      }
    }
  }
  [[noreturn]] void fail(int rc, std::string_view what) const;

  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// One SQLite connection with its statement cache; owned by exactly one thread at a time
// (the Database's writer thread or one of its reader threads).
class Connection {
 public:
  struct Options {
    bool read_only = false;
    std::chrono::milliseconds busy_timeout{5000};
    int cache_kib = 0;  // this connection's page cache; 0 = SQLite's default (2 MiB)
  };
  // Opens (read-write opens create the file) and sets the pragmas every Alliance
  // connection runs with: busy_timeout, foreign_keys=ON, synchronous=FULL,
  // secure_delete=ON (deleted content is zeroed in the file), cache_size when
  // cache_kib is set, and on a read-write connection journal_mode=WAL. Throws
  // StoreError naming the path.
  static std::unique_ptr<Connection> open(const std::filesystem::path& path, Options options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one or more statements with no parameters and no rows wanted (DDL, PRAGMA,
  // BEGIN). Throws StoreError.
  void exec(std::string_view sql);
  // The cached statement for `sql` (prepared on first use), reset with bindings cleared.
  // Pass constant SQL and bind the values: the cache is keyed by the text. The reference
  // stays valid for the connection's life; a second prepare() of the same text resets it.
  Statement& prepare(std::string_view sql);

  std::int64_t last_insert_rowid() const;
  int changes() const;  // rows changed by the most recent INSERT/UPDATE/DELETE
  bool in_transaction() const;
  // Resets every statement that is mid-step, so no read snapshot or statement
  // outlives the job that used it. The Database calls this after every job.
  void reset_statements();

  sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  [[noreturn]] void fail(int rc, std::string_view what) const;

  sqlite3* db_;
  std::map<std::string, std::unique_ptr<Statement>, std::less<>> cache_;
};

}  // namespace alliance::store
