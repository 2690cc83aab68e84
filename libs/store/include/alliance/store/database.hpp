#pragma once
// A service's system of record: one SQLite file in WAL mode, one writer thread that
// commits concurrent writes in groups (one fsync for many requests), and a few reader
// threads. Coroutines on any executor await read()/write(); no I/O thread ever blocks.
//
//   auto db = Database::open({.path = dir / "scheduling.db", .migrations = kMigrations});
//   if (!db) { ...db.error().message... }
//   Result<std::int64_t> id = co_await (*db)->write([&](Connection& c) -> Result<std::int64_t> {
//     c.prepare("INSERT INTO bookings(slot, client) VALUES(?, ?)").bind_all(slot, client).step();
//     return c.last_insert_rowid();   // a UNIQUE(slot) violation becomes kAlreadyExists
//   });
//   // Here the row is committed and fsynced: it is safe to answer "saved".
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>

#include "alliance/core/asio.hpp"
#include "alliance/core/result.hpp"
#include "alliance/store/connection.hpp"

namespace alliance::store {

// One schema step. Applied in increasing `version` order, each in its own transaction
// together with its row in schema_migrations, so a failed step leaves the file at the
// previous version. Versions are never renumbered or edited once shipped: append.
// `sql` may hold several statements; it must outlive Database::open (use literals).
// DatabaseOptions::after_migration adds steps SQL cannot say.
struct Migration {
  int version;
  std::string_view sql;
};

struct DatabaseOptions {
  std::filesystem::path path;               // created if missing; its folder must exist
  std::vector<Migration> migrations;        // strictly increasing versions >= 1
  int readers = 2;                          // reader threads, each with its own read-only connection
  int max_batch = 256;                      // most write jobs in one transaction
  std::chrono::milliseconds busy_timeout{5000};  // waits on another process's lock (e.g. alliancectl)
  // Each connection's page cache in KiB; 0 = SQLite's default (2 MiB). Pages the
  // writer touches often (index leaves) that do not fit are read back with a pread.
  int cache_kib = 0;
  // Run after each migration's SQL, with its version, in the same transaction: a step
  // SQL cannot say (sealing existing rows). A StoreError it throws fails that migration
  // as bad SQL does.
  std::function<void(Connection&, int version)> after_migration = {};
  // Run at every open after the migrations, on the writer in one transaction, before
  // any job (e.g. checking the data keys); an error fails the open with its message.
  std::function<Status(Connection&)> on_open = {};
  // Called on the writer thread each time a group transaction (or a bare job) has
  // ended, committed or not, before any caller of it resumes: what a write changed
  // is on disk, and nobody has been told yet. For caches kept in front of reads
  // (must not block, must not throw).
  std::function<void()> after_write = {};
  // WAL pages after which the committed pages are copied back into the database file
  // (a checkpoint). The copy and its fsync run on a checkpoint thread of their own, so
  // no caller's write waits for them; the writer only copies the few pages written
  // during that copy, after its callers have their answers, so the next transaction
  // starts the WAL over. If the checkpoint thread falls 8x behind, the writer waits
  // for it: the WAL stays bounded. SQLite's own default is 1000 pages; 4000 (16 MiB of
  // WAL at 4 KiB pages) makes the writer's own copy, and the fsync the WAL's restart
  // needs, four times rarer, and folds more writes of a hot page into one copy.
  int checkpoint_pages = 4000;
  // Called on the checkpoint thread just before each of its checkpoints (tests hold
  // one here to show that writes go on meanwhile). Must not throw.
  std::function<void()> before_background_checkpoint = {};
};

namespace detail {

// A caller's function plus where to deliver its result: the store's type-erased,
// move-only unit of work (std::move_only_function is C++23).
class Job {
 public:
  virtual ~Job() = default;
  // Runs the function on the store thread that owns `c`. false = it failed (error
  // result or exception), so the writer rolls back its savepoint.
  virtual bool run(Connection& c) noexcept = 0;
  // Posts the result to the caller's executor; `replace`, if set, is delivered
  // instead (the group's commit failed, or the writer refused the job).
  virtual void complete(const Error* replace) noexcept = 0;
  // Run by the writer alone, outside any transaction (e.g. a WAL checkpoint).
  bool bare = false;
};

template <class F, class R, class Handler, class Executor>
class JobFor final : public Job {
 public:
  JobFor(F f, Handler handler, Executor home)
      : f_(std::move(f)), handler_(std::move(handler)), home_(std::move(home)) {}

  bool run(Connection& c) noexcept override {
    try {
      result_.emplace(f_(c));
      return result_->ok();
    } catch (const StoreError& e) {
      result_.emplace(to_error(e));
    } catch (...) {
      // Not an expected failure: a bug. It is rethrown in the awaiting coroutine,
      // whose spawn point logs it.
      exception_ = std::current_exception();
    }
    return false;
  }

  void complete(const Error* replace) noexcept override {
    std::optional<R> out;
    if (replace) {
      out.emplace(*replace);
    } else if (result_) {
      out.emplace(std::move(*result_));
    } else {
      out.emplace(make_error(Code::kInternal, "storage error: job failed"));
    }
    asio::post(home_, [handler = std::move(handler_), e = exception_, r = std::move(*out)]() mutable {
      std::move(handler)(e, std::move(r));
    });
  }

 private:
  F f_;
  Handler handler_;
  Executor home_;
  std::optional<R> result_;
  std::exception_ptr exception_;
};

}  // namespace detail

// Owns the SQLite file, one writer thread, `readers` reader threads and a checkpoint
// thread, each with its own connection. read()/write() may be called from any executor
// and thread; results come back on the caller's executor. Jobs are not cancellable
// once submitted.
class Database {
 public:
  struct Stats {
    std::uint64_t transactions = 0;  // group transactions committed
    std::uint64_t jobs = 0;          // write jobs run (committed or rolled back)
    std::uint64_t reads = 0;         // read jobs run
    std::uint64_t queued_writes = 0; // write jobs waiting for the writer right now
    std::uint64_t background_checkpoints = 0;  // WAL copies run by the checkpoint thread
    std::uint64_t writer_checkpoints = 0;      // the short finishing copies run by the writer
  };

  // Blocks the calling thread (start-up only): opens or creates the file, sets the
  // pragmas (WAL, synchronous=FULL, foreign_keys=ON, busy_timeout) on every connection,
  // applies pending migrations, starts the threads. Errors name the problem
  // ("migration 3 failed: no such table: x") and leave the file at the last good version.
  static Result<std::unique_ptr<Database>> open(DatabaseOptions options);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  // Runs every job already submitted (their callers get their results), then joins the
  // threads. Blocks: destroy at shutdown, not on an I/O thread.
  ~Database();

  // Runs f(Connection&) -> Result<T> on a reader thread (read-only connection: a write
  // in f fails as kInternal); resumes on the caller's executor. Sees every write whose
  // write() already returned. A StoreError escaping f becomes an Error (see to_error);
  // any other exception is rethrown here.
  template <class F>
  asio::awaitable<std::invoke_result_t<F&, Connection&>> read(F f) {
    return submit(std::move(f), /*write=*/false);
  }

  // Runs f(Connection&) -> Result<T> on the writer thread inside its own SAVEPOINT in a
  // group transaction (BEGIN IMMEDIATE ... COMMIT, up to max_batch jobs). If f returns an
  // error or throws, only its savepoint is rolled back; the rest of the group commits.
  // Resumes the caller only after COMMIT returned (synchronous=FULL: on disk). If the
  // COMMIT fails, every job of the group gets kUnavailable and nothing of it is saved.
  // A constraint failure f did not handle becomes kAlreadyExists (UNIQUE, PRIMARY KEY) or
  // kFailedPrecondition (CHECK, FOREIGN KEY, NOT NULL; deferred foreign keys are checked
  // when f returns). f must not BEGIN/COMMIT itself; nested SAVEPOINTs are fine.
  template <class F>
  asio::awaitable<std::invoke_result_t<F&, Connection&>> write(F f) {
    return submit(std::move(f), /*write=*/true);
  }

  // Copies every committed page from the WAL into the database file and truncates
  // the WAL to zero bytes, on the writer thread between groups (after the checkpoint
  // thread's copy, if one is running). After deleting
  // content (with secure_delete on), this is what removes the old page images that
  // the WAL still holds. Waits for readers up to busy_timeout; kUnavailable if a
  // reader still holds an old snapshot then.
  asio::awaitable<Status> checkpoint();

  Stats stats() const;
  // Highest migration version applied to the file.
  int schema_version() const;
  const std::filesystem::path& path() const;

 private:
  struct State;
  explicit Database(std::unique_ptr<State> state);

  template <class F>
  asio::awaitable<std::invoke_result_t<F&, Connection&>> submit(F f, bool write, bool bare = false) {
    using R = std::invoke_result_t<F&, Connection&>;
    static_assert(std::is_constructible_v<R, Error>, "f must return a Result<T>");
    auto home = co_await asio::this_coro::executor;
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr, R)>(
        [this, home, write, bare](auto handler, F fn) {
          // Tracked: the caller's io_context keeps running until the result is posted.
          auto work = asio::prefer(home, asio::execution::outstanding_work.tracked);
          using Job = detail::JobFor<F, R, decltype(handler), decltype(work)>;
          auto job = std::make_unique<Job>(std::move(fn), std::move(handler), std::move(work));
          job->bare = bare;
          enqueue(std::move(job), write);
        },
        asio::use_awaitable, std::move(f));
  }
  void enqueue(std::unique_ptr<detail::Job> job, bool write);

  std::unique_ptr<State> state_;
};

}  // namespace alliance::store
