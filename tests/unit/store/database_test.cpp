// alliance::store against real SQLite files in a temp dir, driven from coroutines on
// a real io_context, the way services use it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "alliance/core/asio.hpp"
#include "alliance/core/ids.hpp"
#include "alliance/store/database.hpp"
#include "alliance/store/query.hpp"
#include "process.hpp"

namespace alliance::store {
namespace {

using namespace std::chrono_literals;

constexpr Migration kNotes{1,
                           "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE,"
                           " n INTEGER CHECK (n >= 0), data BLOB);"
                           "INSERT INTO notes(body, n) VALUES('seed', 0);"};
constexpr Migration kUsers{2,
                           "CREATE TABLE practices(id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
                           "CREATE TABLE users(id INTEGER PRIMARY KEY,"
                           " practice_id INTEGER NOT NULL REFERENCES practices(id),"
                           " email TEXT NOT NULL, UNIQUE(practice_id, email));"};

using testing::TempDir;

// Polls `done` until it holds or the deadline passes.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds deadline = 5s) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A one-shot gate a store thread waits on (with a deadline) until the test opens it.
class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds deadline = 5s) {
    std::unique_lock lock(mu_);
    waiting_ = true;
    return cv_.wait_for(lock, deadline, [&] { return open_; });
  }
  bool has_waiter() {
    std::lock_guard lock(mu_);
    return waiting_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  bool waiting_ = false;
};

// Runs `f` on every way out of a scope (a failed ASSERT included).
class ScopeExit {
 public:
  explicit ScopeExit(std::function<void()> f) : f_(std::move(f)) {}
  ~ScopeExit() { f_(); }

 private:
  std::function<void()> f_;
};

// Joins a thread on every way out of a test, so a failed ASSERT cannot terminate().
class Joining {
 public:
  explicit Joining(std::thread t, std::function<void()> before_join = {})
      : t_(std::move(t)), before_join_(std::move(before_join)) {}
  ~Joining() { join(); }
  void join() {
    if (before_join_) before_join_();
    if (t_.joinable()) t_.join();
  }

 private:
  std::thread t_;
  std::function<void()> before_join_;
};

// `work` is a coroutine lambda; co_spawn keeps it (and so its captures) alive until it ends.
template <class F>
void spawn(asio::io_context& io, F work) {
  asio::co_spawn(io, std::move(work), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      ADD_FAILURE() << "coroutine threw: " << ex.what();
    }
  });
}

// Runs one coroutine to completion on a fresh io_context in this thread.
template <class F>
void run(F work) {
  asio::io_context io;
  spawn(io, std::move(work));
  io.run();
}

std::unique_ptr<Database> open_ok(const std::filesystem::path& path, std::vector<Migration> migrations,
                                  int readers = 2) {
  auto db = Database::open({.path = path, .migrations = std::move(migrations), .readers = readers});
  if (!db) throw std::runtime_error("open failed: " + db.error().message);
  return std::move(db).value();
}

Result<std::int64_t> insert_note(Connection& c, std::string_view body, std::int64_t n) {
  c.prepare("INSERT INTO notes(body, n) VALUES(?, ?)").bind_all(body, n).step();
  return c.last_insert_rowid();
}

Result<std::int64_t> scalar(Connection& c, std::string_view sql) {
  auto& q = c.prepare(sql);
  if (!q.step()) return make_error(Code::kNotFound, "no row");
  return q.column_int(0);
}

Result<std::string> pragma_text(Connection& c, std::string_view sql) {
  auto& q = c.prepare(sql);
  if (!q.step()) return make_error(Code::kNotFound, "no row");
  return q.column_text(0);
}

struct Pragmas {
  std::string journal_mode;
  std::int64_t synchronous = -1;
  std::int64_t foreign_keys = -1;
  std::int64_t busy_timeout = -1;
};

Result<Pragmas> read_pragmas(Connection& c) {
  Pragmas p;
  p.journal_mode = *pragma_text(c, "PRAGMA journal_mode");
  p.synchronous = *scalar(c, "PRAGMA synchronous");
  p.foreign_keys = *scalar(c, "PRAGMA foreign_keys");
  p.busy_timeout = *scalar(c, "PRAGMA busy_timeout");
  return p;
}

void expect_durable_pragmas(const Pragmas& p, const char* where) {
  EXPECT_EQ(p.journal_mode, "wal") << where;
  EXPECT_EQ(p.synchronous, 2) << where << " (2 = FULL)";
  EXPECT_EQ(p.foreign_keys, 1) << where;
  EXPECT_EQ(p.busy_timeout, 5000) << where;
}

TEST(Database, PragmasAreInForceOnTheWriterAndEveryReader) {
  TempDir dir;
  auto db = open_ok(dir.path() / "p.db", {kNotes}, /*readers=*/2);
  asio::io_context io;
  std::optional<Result<Pragmas>> from_writer;
  std::vector<std::optional<Result<Pragmas>>> from_readers(2);
  spawn(io, [&]() -> asio::awaitable<void> {
    from_writer.emplace(co_await db->write(read_pragmas));
  });
  // Both reads must be in flight at once, so they run on the two different reader
  // connections: each waits for the other before answering.
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  for (auto& slot : from_readers) {
    spawn(io, [&]() -> asio::awaitable<void> {
      slot.emplace(co_await db->read([&](Connection& c) -> Result<Pragmas> {
        std::unique_lock lock(mu);
        ++arrived;
        cv.notify_all();
        if (!cv.wait_for(lock, 5s, [&] { return arrived == 2; })) {
          return make_error(Code::kDeadlineExceeded, "the other reader never ran");
        }
        lock.unlock();
        return read_pragmas(c);
      }));
    });
  }
  io.run();

  ASSERT_TRUE(from_writer && *from_writer) << from_writer->error().message;
  expect_durable_pragmas(**from_writer, "writer");
  for (auto& r : from_readers) {
    ASSERT_TRUE(r && *r) << r->error().message;
    expect_durable_pragmas(**r, "reader");
  }
}

// SQLite's temporary files (a savepoint's journal past 64 KiB, sorts) are named
// etilqs_*: every one this process holds open, deleted or not.
int open_sqlite_temp_files() {
  int n = 0;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(fd.path(), ec);
    if (!ec && target.string().find("etilqs_") != std::string::npos) ++n;
  }
  return n;
}

// A job changes many index pages inside its savepoint (as an audit batch does): the old
// page images stay in memory, never in a file in /var/tmp beside no secure_delete.
TEST(Database, ASavepointThatChangesManyPagesWritesNoTemporaryFile) {
  TempDir dir;
  auto c = Connection::open(dir.path() / "t.db", {});
  c->exec("CREATE TABLE items(id INTEGER PRIMARY KEY, key TEXT NOT NULL); CREATE INDEX items_by_key ON items(key)");
  c->exec("BEGIN");
  for (int i = 0; i < 20000; ++i) execute(*c, "INSERT INTO items(key) VALUES(?)", new_id());
  c->exec("COMMIT");
  c->exec("BEGIN IMMEDIATE; SAVEPOINT job");
  // 500 random keys touch hundreds of the index's ~400 leaves: far past 64 KiB.
  for (int i = 0; i < 500; ++i) execute(*c, "INSERT INTO items(key) VALUES(?)", new_id());
  EXPECT_EQ(open_sqlite_temp_files(), 0);
  c->exec("RELEASE job; COMMIT");
}

// Every malloc and free SQLite makes would otherwise take a process-wide mutex to keep
// a count nothing reads. Run in a fresh process (re-executed), where the store is the
// first to start SQLite, as it is in a service.
TEST(Database, SqliteKeepsNoMemoryCountBehindAProcessWideLock) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir dir;
  EXPECT_EXIT(
      {
        auto c = Connection::open(dir.path() / "m.db", {});
        c->exec("CREATE TABLE items(id INTEGER PRIMARY KEY, key TEXT NOT NULL)");
        for (int i = 0; i < 100; ++i) execute(*c, "INSERT INTO items(key) VALUES(?)", new_id());
        // With the count on, this is the bytes SQLite holds: its page cache at least.
        std::exit(sqlite3_memory_used() == 0 && sqlite3_memory_highwater(0) == 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(Database, MigrationsApplyOnceAndNotAgainOnReopen) {
  TempDir dir;
  auto path = dir.path() / "m.db";
  for (int round = 0; round < 2; ++round) {
    auto db = open_ok(path, {kNotes});
    EXPECT_EQ(db->schema_version(), 1);
    std::optional<Result<std::int64_t>> seeds;
    std::optional<Result<std::int64_t>> recorded;
    run([&]() -> asio::awaitable<void> {
      seeds.emplace(co_await db->read(
          [](Connection& c) { return scalar(c, "SELECT count(*) FROM notes WHERE body = 'seed'"); }));
      recorded.emplace(co_await db->read(
          [](Connection& c) { return scalar(c, "SELECT count(*) FROM schema_migrations"); }));
    });
    ASSERT_TRUE(seeds && *seeds);
    EXPECT_EQ(**seeds, 1) << "round " << round;
    ASSERT_TRUE(recorded && *recorded);
    EXPECT_EQ(**recorded, 1) << "round " << round;
  }
}

TEST(Database, MigrationAppendedLaterAppliesOnReopen) {
  TempDir dir;
  auto path = dir.path() / "m.db";
  open_ok(path, {kNotes}).reset();
  auto db = open_ok(path, {kNotes, kUsers});
  EXPECT_EQ(db->schema_version(), 2);
  std::optional<Result<std::int64_t>> id;
  run([&]() -> asio::awaitable<void> {
    id.emplace(co_await db->write([](Connection& c) -> Result<std::int64_t> {
      c.prepare("INSERT INTO practices(name) VALUES(?)").bind_all("Northside").step();
      return c.last_insert_rowid();
    }));
  });
  ASSERT_TRUE(id && *id) << id->error().message;
}

TEST(Database, BrokenMigrationNamesItsVersionAndLeavesThePreviousVersion) {
  TempDir dir;
  auto path = dir.path() / "m.db";
  open_ok(path, {kNotes, kUsers}).reset();

  // Its first statement works, its second does not: neither may stick.
  constexpr Migration kBroken{3, "CREATE TABLE half(a INTEGER); INSERT INTO no_such_table VALUES(1);"};
  auto broken = Database::open({.path = path, .migrations = {kNotes, kUsers, kBroken}});
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("migration 3 failed"), std::string::npos) << broken.error().message;
  EXPECT_NE(broken.error().message.find("no_such_table"), std::string::npos) << broken.error().message;

  auto db = open_ok(path, {kNotes, kUsers});
  EXPECT_EQ(db->schema_version(), 2);
  std::optional<Result<std::int64_t>> half_tables;
  std::optional<Result<std::int64_t>> seeds;
  run([&]() -> asio::awaitable<void> {
    half_tables.emplace(co_await db->read(
        [](Connection& c) { return scalar(c, "SELECT count(*) FROM sqlite_master WHERE name = 'half'"); }));
    seeds.emplace(co_await db->read([](Connection& c) { return scalar(c, "SELECT count(*) FROM notes"); }));
  });
  ASSERT_TRUE(half_tables && *half_tables);
  EXPECT_EQ(**half_tables, 0);
  ASSERT_TRUE(seeds && *seeds);
  EXPECT_EQ(**seeds, 1);
}

TEST(Database, WriteThenReadRoundTripsEveryColumnType) {
  TempDir dir;
  auto db = open_ok(dir.path() / "r.db", {kNotes});
  const std::string bytes("\0\x01\xff binary", 10);
  std::optional<Result<std::int64_t>> id;
  struct Row {
    std::string body;
    std::int64_t n;
    std::string data;
    bool n_null;
  };
  std::optional<Result<Row>> row;
  run([&]() -> asio::awaitable<void> {
    id.emplace(co_await db->write([&](Connection& c) -> Result<std::int64_t> {
      c.prepare("INSERT INTO notes(body, n, data) VALUES(?, ?, ?)").bind_all("hello", 42, Blob{bytes}).step();
      return c.last_insert_rowid();
    }));
    if (!*id) co_return;
    row.emplace(co_await db->read([&](Connection& c) -> Result<Row> {
      auto& q = c.prepare("SELECT body, n, data, n IS NULL FROM notes WHERE id = ?").bind_all(**id);
      if (!q.step()) return make_error(Code::kNotFound, "note");
      return Row{q.column_text(0), q.column_int(1), q.column_blob(2), q.column_int(3) != 0};
    }));
  });
  ASSERT_TRUE(id && *id) << id->error().message;
  ASSERT_TRUE(row && *row) << row->error().message;
  EXPECT_EQ((*row)->body, "hello");
  EXPECT_EQ((*row)->n, 42);
  EXPECT_EQ((*row)->data, bytes);
  EXPECT_FALSE((*row)->n_null);
}

// A cache in front of reads drops what a write changed in after_write: by then the
// write is committed (another connection sees it) and its caller has not resumed.
TEST(Database, AfterWriteRunsOnceCommittedBeforeTheWriterResumes) {
  TempDir dir;
  std::atomic<bool> resumed{false};
  std::vector<std::int64_t> seen_by_reader;  // rows another connection saw at each call
  std::vector<bool> resumed_at_call;
  DatabaseOptions options{.path = dir.path() / "w.db", .migrations = {kNotes}};
  options.after_write = [&] {
    auto other = Connection::open(dir.path() / "w.db", {.read_only = true});
    auto& q = other->prepare("SELECT count(*) FROM notes");
    q.step();
    seen_by_reader.push_back(q.column_int(0));
    resumed_at_call.push_back(resumed.load());
  };
  auto db = Database::open(std::move(options));
  ASSERT_TRUE(db) << db.error().message;
  std::optional<Result<std::int64_t>> id;
  run([&]() -> asio::awaitable<void> {
    auto job = [](Connection& c) { return insert_note(c, "after", 1); };
    id.emplace(co_await (*db)->write(std::move(job)));
    resumed = true;
  });
  ASSERT_TRUE(id && *id) << id->error().message;
  ASSERT_EQ(seen_by_reader.size(), 1u);
  EXPECT_EQ(seen_by_reader[0], 2) << "the seed row and the new one, committed";
  EXPECT_FALSE(resumed_at_call[0]);
}

TEST(Database, EmptyTextAndBlobStayDistinctFromNull) {
  TempDir dir;
  auto db = open_ok(dir.path() / "e.db", {kNotes});
  std::optional<Result<std::string>> kinds;
  run([&]() -> asio::awaitable<void> {
    auto saved = co_await db->write([](Connection& c) -> Result<bool> {
      std::optional<std::int64_t> no_n;
      c.prepare("INSERT INTO notes(body, n, data) VALUES(?, ?, ?)").bind_all(std::string_view(), no_n, Blob{}).step();
      return true;
    });
    EXPECT_TRUE(saved);
    kinds.emplace(co_await db->read([](Connection& c) -> Result<std::string> {
      auto& q = c.prepare("SELECT typeof(body), typeof(n), typeof(data), length(data) FROM notes WHERE body = ''");
      if (!q.step()) return make_error(Code::kNotFound, "empty note");
      return q.column_text(0) + "," + q.column_text(1) + "," + q.column_text(2) + "," + q.column_text(3);
    }));
  });
  ASSERT_TRUE(kinds && *kinds) << kinds->error().message;
  EXPECT_EQ(**kinds, "text,null,blob,0");
}

TEST(Database, ConcurrentWritesAllCommitInFarFewerTransactions) {
  TempDir dir;
  auto db = open_ok(dir.path() / "g.db", {kNotes});
  const auto before = db->stats();
  constexpr int kWrites = 500;
  asio::io_context io;
  std::atomic<int> saved{0};
  for (int i = 0; i < kWrites; ++i) {
    spawn(io, [&, i]() -> asio::awaitable<void> {
      auto body = "note-" + std::to_string(i);
      auto id = co_await db->write([&](Connection& c) { return insert_note(c, body, i); });
      if (id) saved.fetch_add(1);
    });
  }
  io.run();
  EXPECT_EQ(saved.load(), kWrites);

  std::optional<Result<std::int64_t>> rows;
  run([&]() -> asio::awaitable<void> {
    rows.emplace(co_await db->read(
        [](Connection& c) { return scalar(c, "SELECT count(*) FROM notes WHERE body LIKE 'note-%'"); }));
  });
  ASSERT_TRUE(rows && *rows);
  EXPECT_EQ(**rows, kWrites);

  const auto after = db->stats();
  const auto jobs = after.jobs - before.jobs;
  const auto transactions = after.transactions - before.transactions;
  EXPECT_EQ(jobs, static_cast<std::uint64_t>(kWrites));
  RecordProperty("transactions", std::to_string(transactions));
  EXPECT_LT(transactions, jobs / 4) << transactions << " transactions for " << jobs << " writes";
}

TEST(Database, FailingJobRollsBackOnlyItselfInItsGroup) {
  TempDir dir;
  auto db = open_ok(dir.path() / "f.db", {kNotes});
  constexpr int kJobs = 20;
  constexpr int kFailsByResult = 7;
  constexpr int kFailsByThrow = 13;
  std::vector<std::optional<Result<std::int64_t>>> results(kJobs);
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  Joining io_thread(std::thread([&] { io.run(); }), [&] { work.reset(); });
  Gate gate;
  // Holds the writer so that every job below is queued before it commits the next group.
  spawn(io, [&]() -> asio::awaitable<void> {
    auto held = co_await db->write([&](Connection&) -> Result<bool> { return gate.wait(); });
    EXPECT_TRUE(held && *held) << "gate never opened";
  });
  ScopeExit release([&] { gate.open(); });
  ASSERT_TRUE(eventually([&] { return gate.has_waiter(); }));
  const auto before = db->stats();

  for (int i = 0; i < kJobs; ++i) {
    spawn(io, [&, i]() -> asio::awaitable<void> {
      results[i].emplace(co_await db->write([i](Connection& c) -> Result<std::int64_t> {
        auto id = insert_note(c, "job-" + std::to_string(i), i);
        if (i == kFailsByResult) return invalid_argument("n", "rejected after inserting");
        if (i == kFailsByThrow) c.exec("INSERT INTO no_such_table VALUES(1)");  // throws StoreError
        return id;
      }));
    });
  }
  ASSERT_TRUE(eventually([&] { return db->stats().queued_writes == kJobs; }));
  gate.open();
  io_thread.join();

  for (int i = 0; i < kJobs; ++i) {
    ASSERT_TRUE(results[i]) << i;
    EXPECT_EQ(results[i]->ok(), i != kFailsByResult && i != kFailsByThrow) << i;
  }
  EXPECT_EQ(results[kFailsByResult]->error().code, Code::kInvalidArgument);
  EXPECT_EQ(results[kFailsByResult]->error().field, "n");
  EXPECT_EQ(results[kFailsByThrow]->error().code, Code::kInternal);
  // The gate's group, then all twenty jobs in one.
  EXPECT_EQ(db->stats().transactions - before.transactions, 2u);
  EXPECT_EQ(db->stats().jobs - before.jobs, static_cast<std::uint64_t>(kJobs) + 1);

  std::optional<Result<std::string>> present;
  run([&]() -> asio::awaitable<void> {
    present.emplace(co_await db->read([](Connection& c) -> Result<std::string> {
      auto& q = c.prepare("SELECT group_concat(n, ',') FROM (SELECT n FROM notes WHERE body LIKE 'job-%' ORDER BY n)");
      q.step();
      return q.column_text(0);
    }));
  });
  ASSERT_TRUE(present && *present);
  EXPECT_EQ(**present, "0,1,2,3,4,5,6,8,9,10,11,12,14,15,16,17,18,19");
}

TEST(Database, BugInAJobIsRethrownToItsCallerAndItsWritesRolledBack) {
  TempDir dir;
  auto db = open_ok(dir.path() / "b.db", {kNotes});
  std::string thrown;
  std::optional<Result<std::int64_t>> after, rows;
  run([&]() -> asio::awaitable<void> {
    try {
      co_await db->write([](Connection& c) -> Result<std::int64_t> {
        auto id = insert_note(c, "buggy", 1);
        if (id) throw std::logic_error("bug in job");
        return id;
      });
    } catch (const std::logic_error& e) {
      thrown = e.what();
    }
    after.emplace(co_await db->write([](Connection& c) { return insert_note(c, "fine", 2); }));
    rows.emplace(co_await db->read(
        [](Connection& c) { return scalar(c, "SELECT count(*) FROM notes WHERE body IN ('buggy', 'fine')"); }));
  });
  EXPECT_EQ(thrown, "bug in job");
  ASSERT_TRUE(after && *after) << "the writer must keep serving after a job's bug";
  ASSERT_TRUE(rows && *rows);
  EXPECT_EQ(**rows, 1);
}

TEST(Database, UniqueViolationIsAlreadyExistsWithTheColumn) {
  TempDir dir;
  auto db = open_ok(dir.path() / "u.db", {kNotes, kUsers});
  std::optional<Result<std::int64_t>> first, second, same_email_other_practice, duplicate_pair;
  run([&]() -> asio::awaitable<void> {
    first.emplace(co_await db->write([](Connection& c) { return insert_note(c, "dup", 1); }));
    second.emplace(co_await db->write([](Connection& c) { return insert_note(c, "dup", 2); }));
    auto add_user = [](std::int64_t practice) {
      return [practice](Connection& c) -> Result<std::int64_t> {
        c.prepare("INSERT OR IGNORE INTO practices(id, name) VALUES(?, 'p')").bind_all(practice).step();
        c.prepare("INSERT INTO users(practice_id, email) VALUES(?, 'a@example.org')").bind_all(practice).step();
        return c.last_insert_rowid();
      };
    };
    auto original = co_await db->write(add_user(1));
    EXPECT_TRUE(original);
    same_email_other_practice.emplace(co_await db->write(add_user(2)));
    duplicate_pair.emplace(co_await db->write(add_user(1)));
  });
  ASSERT_TRUE(first && *first);
  ASSERT_TRUE(second && !*second);
  EXPECT_EQ(second->error().code, Code::kAlreadyExists);
  EXPECT_EQ(second->error().field, "body");
  EXPECT_EQ(second->error().message, "body: already exists") << "no table name reaches a client";
  ASSERT_TRUE(same_email_other_practice && *same_email_other_practice);
  ASSERT_TRUE(duplicate_pair && !*duplicate_pair);
  EXPECT_EQ(duplicate_pair->error().code, Code::kAlreadyExists);
  EXPECT_EQ(duplicate_pair->error().message, "already exists");
}

TEST(Database, ForeignKeyAndCheckViolationsAreRefused) {
  TempDir dir;
  auto db = open_ok(dir.path() / "fk.db", {kNotes, kUsers});
  std::optional<Result<std::int64_t>> orphan, negative, users;
  run([&]() -> asio::awaitable<void> {
    orphan.emplace(co_await db->write([](Connection& c) -> Result<std::int64_t> {
      c.prepare("INSERT INTO users(practice_id, email) VALUES(42, 'x@example.org')").step();
      return c.last_insert_rowid();
    }));
    negative.emplace(co_await db->write([](Connection& c) { return insert_note(c, "neg", -1); }));
    users.emplace(co_await db->read([](Connection& c) { return scalar(c, "SELECT count(*) FROM users"); }));
  });
  ASSERT_TRUE(orphan && !*orphan);
  EXPECT_EQ(orphan->error().code, Code::kFailedPrecondition);
  ASSERT_TRUE(negative && !*negative);
  EXPECT_EQ(negative->error().code, Code::kFailedPrecondition);
  EXPECT_EQ(negative->error().message, "a value is not allowed") << "no SQL reaches a client";
  ASSERT_TRUE(users && *users);
  EXPECT_EQ(**users, 0);
}

TEST(Database, DataSurvivesCloseAndReopen) {
  TempDir dir;
  auto path = dir.path() / "d.db";
  {
    auto db = open_ok(path, {kNotes});
    run([&]() -> asio::awaitable<void> {
      for (int i = 0; i < 3; ++i) {
        auto id = co_await db->write([i](Connection& c) { return insert_note(c, "kept-" + std::to_string(i), i); });
        EXPECT_TRUE(id);
      }
    });
  }
  auto db = open_ok(path, {kNotes});
  std::optional<Result<std::int64_t>> kept;
  run([&]() -> asio::awaitable<void> {
    kept.emplace(co_await db->read(
        [](Connection& c) { return scalar(c, "SELECT count(*) FROM notes WHERE body LIKE 'kept-%'"); }));
  });
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ(**kept, 3);
}

// A database left readable by others (made before services set their umask, or copied
// in) is private again once a service opens it, and so are the -wal and -shm files
// that hold its newest records.
TEST(Database, FilesReadableByOthersArePrivateOnceOpened) {
  namespace fs = std::filesystem;
  TempDir dir;
  auto path = dir.path() / "p.db";
  open_ok(path, {kNotes}).reset();
  fs::permissions(path, fs::perms(0644));
  auto db = open_ok(path, {kNotes});
  run([&]() -> asio::awaitable<void> {
    auto id = co_await db->write([](Connection& c) { return insert_note(c, "private", 1); });
    EXPECT_TRUE(id);
  });
  for (const char* suffix : {"", "-wal", "-shm"}) {
    fs::path file = path.string() + suffix;
    ASSERT_TRUE(fs::exists(file)) << file;
    EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms(0600)) << file;
  }
}

std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

TEST(Database, DeletedContentLeavesNoTraceInTheFileOrTheWalAfterACheckpoint) {
  // Erasing data must erase it: secure_delete zeroes freed space in the database file,
  // and a checkpoint replaces the WAL's old page images (which still hold it).
  TempDir dir;
  auto path = dir.path() / "erase.db";
  auto db = open_ok(path, {kNotes});
  const std::string secret = "erase-me-" + new_id() + "-" + new_id();
  std::optional<Status> deleted, checkpointed;
  run([&]() -> asio::awaitable<void> {
    auto id = co_await db->write([&](Connection& c) { return insert_note(c, secret, 1); });
    EXPECT_TRUE(id);
    auto erase = [&](Connection& c) -> Status {
      c.prepare("DELETE FROM notes WHERE body = ?").bind_all(secret).step();
      return {};
    };
    deleted.emplace(co_await db->write(erase));
    checkpointed.emplace(co_await db->checkpoint());
  });
  ASSERT_TRUE(deleted && *deleted);
  ASSERT_TRUE(checkpointed && *checkpointed) << checkpointed->error().message;
  EXPECT_EQ(file_bytes(path).find(secret), std::string::npos) << "the database file still holds it";
  EXPECT_EQ(file_bytes(path.string() + "-wal").find(secret), std::string::npos) << "the WAL still holds it";
  EXPECT_EQ(std::filesystem::file_size(path.string() + "-wal"), 0u);
  // The database keeps working after the checkpoint.
  std::optional<Result<std::int64_t>> after;
  run([&]() -> asio::awaitable<void> {
    after.emplace(co_await db->write([](Connection& c) { return insert_note(c, "after", 2); }));
  });
  EXPECT_TRUE(after && *after);
}

// Sequential writes of a 3,000-byte note each: every commit adds a leaf page (one note
// per page) and the table's root to the WAL. Runs on a thread of its own so the test
// can watch the writer stall; `done` counts the writes that returned saved.
std::thread write_notes(Database& db, int count, std::atomic<int>& done) {
  return std::thread([&db, count, &done] {
    run([&]() -> asio::awaitable<void> {
      for (int i = 0; i < count; ++i) {
        auto id = co_await db.write([i](Connection& c) -> Result<std::int64_t> {
          c.prepare("INSERT INTO notes(body, n, data) VALUES(?, ?, ?)")
              .bind_all("page-" + std::to_string(i) + "-" + new_id(), i, Blob{std::string(3000, 'x')})
              .step();
          return c.last_insert_rowid();
        });
        if (!id) co_return;
        done.fetch_add(1);
      }
    });
  });
}

// Pages a WAL file of this size holds (a 32-byte header, then a 24-byte header per frame).
std::uintmax_t wal_pages_in(const std::filesystem::path& db) {
  std::error_code ec;
  auto size = std::filesystem::file_size(db.string() + "-wal", ec);
  return ec || size < 32 ? 0 : (size - 32) / (4096 + 24);
}

// A database whose checkpoint thread waits at `copying` (up to 10 s) before each of
// its checkpoints until the test opens it.
struct HeldCheckpoints {
  explicit HeldCheckpoints(int checkpoint_pages) {
    DatabaseOptions options{.path = path, .migrations = {kNotes}, .checkpoint_pages = checkpoint_pages};
    options.before_background_checkpoint = [this] { copying.wait(10s); };
    auto opened = Database::open(std::move(options));
    if (!opened) throw std::runtime_error("open failed: " + opened.error().message);
    db = std::move(opened).value();
  }
  ~HeldCheckpoints() {
    copying.open();
    db.reset();
  }
  TempDir dir;
  const std::filesystem::path path = dir.path() / "held.db";
  Gate copying;
  std::unique_ptr<Database> db;
};

// A checkpoint copies the WAL's pages into the file and fsyncs it: on the writer it
// would hold up every caller of the group that filled the WAL, and the next group.
TEST(Database, WritesGoOnWhileTheCheckpointThreadCopiesTheWal) {
  HeldCheckpoints held(16);
  std::atomic<int> done{0};
  constexpr int kWhileCopying = 30;  // ~60 WAL pages: past 16, short of the writer's limit of 128
  Joining writes(write_notes(*held.db, kWhileCopying, done));
  ASSERT_TRUE(eventually([&] { return held.copying.has_waiter(); })) << "no checkpoint started on its own thread";
  ASSERT_TRUE(eventually([&] { return done.load() == kWhileCopying; }))
      << "writes waited for the checkpoint: " << done.load() << " of " << kWhileCopying << " saved";
  writes.join();
  EXPECT_EQ(held.db->stats().background_checkpoints, 0u);  // still held at the gate

  held.copying.open();
  ASSERT_TRUE(eventually([&] { return held.db->stats().background_checkpoints >= 1; }));
  // Later writes finish the copy on the writer and start the WAL over: 400 notes
  // (~800 pages) leave a WAL of a few checkpoints' worth, not all of them.
  std::atomic<int> more{0};
  Joining later(write_notes(*held.db, 400, more));
  later.join();
  ASSERT_EQ(more.load(), 400);
  const auto stats = held.db->stats();
  EXPECT_GE(stats.writer_checkpoints, 1u);
  EXPECT_GE(stats.background_checkpoints, 2u);
  EXPECT_LE(wal_pages_in(held.path), 8u * 16 + 8) << "the WAL was not started over";
}

// If the checkpoint thread cannot keep up, the writer waits for it rather than let the
// WAL grow without bound (and every read slow down with it).
TEST(Database, WriterWaitsForAStuckCheckpointOnceTheWalIsEightTimesTheLimit) {
  HeldCheckpoints held(4);
  std::atomic<int> done{0};
  constexpr int kWrites = 60;  // ~120 pages, far past 8 x 4
  Joining writes(write_notes(*held.db, kWrites, done));
  ASSERT_TRUE(eventually([&] { return held.copying.has_waiter(); }));
  // The writer stops once the WAL holds 32 pages: the count stays put.
  int seen = -1;
  ASSERT_TRUE(eventually([&] {
    int now = done.load();
    if (now != seen) {
      seen = now;
      std::this_thread::sleep_for(300ms);
      return false;
    }
    return true;
  }));
  EXPECT_LT(seen, kWrites);
  EXPECT_LE(wal_pages_in(held.path), 8u * 4 + 4) << seen << " writes saved";

  held.copying.open();
  writes.join();
  EXPECT_EQ(done.load(), kWrites);
  EXPECT_GE(held.db->stats().writer_checkpoints, 1u);
  EXPECT_LE(wal_pages_in(held.path), 8u * 4 + 4);
}

TEST(Database, ClosingCommitsWritesStillQueuedAndAnswersTheirCallers) {
  TempDir dir;
  auto path = dir.path() / "q.db";
  auto db = open_ok(path, {kNotes});
  constexpr int kJobs = 50;
  std::atomic<int> saved{0};
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  Joining io_thread(std::thread([&] { io.run(); }), [&] { work.reset(); });
  Gate gate;
  spawn(io, [&]() -> asio::awaitable<void> {
    co_await db->write([&](Connection&) -> Result<bool> { return gate.wait(); });
  });
  ScopeExit release([&] { gate.open(); });
  ASSERT_TRUE(eventually([&] { return gate.has_waiter(); }));
  for (int i = 0; i < kJobs; ++i) {
    spawn(io, [&, i]() -> asio::awaitable<void> {
      auto id = co_await db->write([i](Connection& c) { return insert_note(c, "q-" + std::to_string(i), i); });
      if (id) saved.fetch_add(1);
    });
  }
  ASSERT_TRUE(eventually([&] { return db->stats().queued_writes == kJobs; }));
  std::thread closer([&] { db.reset(); });  // blocks until the queue is drained
  gate.open();
  closer.join();
  io_thread.join();
  EXPECT_EQ(saved.load(), kJobs);

  auto reopened = open_ok(path, {kNotes});
  std::optional<Result<std::int64_t>> rows;
  run([&]() -> asio::awaitable<void> {
    rows.emplace(co_await reopened->read(
        [](Connection& c) { return scalar(c, "SELECT count(*) FROM notes WHERE body LIKE 'q-%'"); }));
  });
  ASSERT_TRUE(rows && *rows);
  EXPECT_EQ(**rows, kJobs);
}

TEST(Database, IoThreadKeepsRunningTimersWhileAReadRuns) {
  TempDir dir;
  auto db = open_ok(dir.path() / "t.db", {kNotes});
  asio::io_context io;  // run by this thread only
  std::promise<void> ticked;
  auto ticked_future = ticked.get_future();
  int ticks = 0;
  std::optional<Result<std::int64_t>> long_read;
  // The read cannot finish until the timer below has ticked five times on the I/O
  // thread; if read() blocked that thread, it would give up after two seconds.
  spawn(io, [&]() -> asio::awaitable<void> {
    long_read.emplace(co_await db->read([&](Connection& c) -> Result<std::int64_t> {
      auto sum = scalar(c,
                        "WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < 200000)"
                        " SELECT sum(x) FROM k");
      if (ticked_future.wait_for(2s) != std::future_status::ready) {
        return make_error(Code::kDeadlineExceeded, "timers did not run during the read");
      }
      return sum;
    }));
  });
  spawn(io, [&]() -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (; ticks < 5; ++ticks) {
      timer.expires_after(10ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
    ticked.set_value();
  });
  io.run();
  EXPECT_EQ(ticks, 5);
  ASSERT_TRUE(long_read && *long_read) << long_read->error().message;
  EXPECT_EQ(**long_read, 200000LL * 200001 / 2);
}

TEST(Database, CacheSizeIsInForceOnTheWriterAndReadersWhenSet) {
  TempDir dir;
  auto opened = Database::open({.path = dir.path() / "c.db", .migrations = {kNotes}, .readers = 1, .cache_kib = 8192});
  ASSERT_TRUE(opened) << opened.error().message;
  auto& db = **opened;
  auto defaults = open_ok(dir.path() / "d.db", {kNotes}, 1);
  asio::io_context io;
  std::optional<Result<std::int64_t>> writer, reader, untouched;
  auto cache_size = [](Connection& c) -> Result<std::int64_t> { return *scalar(c, "PRAGMA cache_size"); };
  spawn(io, [&]() -> asio::awaitable<void> {
    writer.emplace(co_await db.write(cache_size));
    reader.emplace(co_await db.read(cache_size));
    untouched.emplace(co_await defaults->read(cache_size));
  });
  io.run();
  ASSERT_TRUE(writer && *writer && reader && *reader && untouched && *untouched);
  EXPECT_EQ(**writer, -8192);  // negative: KiB
  EXPECT_EQ(**reader, -8192);
  EXPECT_EQ(**untouched, -2000);  // SQLite's default, left alone
  auto negative = Database::open({.path = dir.path() / "n.db", .migrations = {kNotes}, .cache_kib = -1});
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().field, "cache_kib");
}

TEST(Database, OpenRejectsBadOptionsByField) {
  TempDir dir;
  auto bad = Database::open({.path = dir.path() / "o.db", .migrations = {kUsers, kNotes}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Code::kInvalidArgument);
  EXPECT_EQ(bad.error().field, "migrations");
  auto no_checkpoints = Database::open({.path = dir.path() / "p.db", .migrations = {kNotes}, .checkpoint_pages = 0});
  ASSERT_FALSE(no_checkpoints);
  EXPECT_EQ(no_checkpoints.error().field, "checkpoint_pages");
  auto missing_dir = Database::open({.path = dir.path() / "nope" / "o.db", .migrations = {kNotes}});
  ASSERT_FALSE(missing_dir);
  EXPECT_NE(missing_dir.error().message.find("nope"), std::string::npos) << missing_dir.error().message;
}

}  // namespace
}  // namespace alliance::store
