#include "alliance/store/database.hpp"

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "alliance/core/ids.hpp"
#include "alliance/core/log.hpp"

namespace alliance::store {

using detail::Job;

struct Database::State {
  DatabaseOptions options;
  int schema_version = 0;
  std::unique_ptr<Connection> writer;
  std::vector<std::unique_ptr<Connection>> readers;
  std::unique_ptr<Connection> checkpointer;  // read-write, for the checkpoint thread only

  std::mutex write_mu;
  std::condition_variable write_cv;
  std::deque<std::unique_ptr<Job>> write_queue;  // guarded by write_mu
  bool write_stopping = false;                   // guarded by write_mu

  std::mutex read_mu;
  std::condition_variable read_cv;
  std::deque<std::unique_ptr<Job>> read_queue;  // guarded by read_mu
  bool read_stopping = false;                   // guarded by read_mu

  std::atomic<std::uint64_t> transactions{0};
  std::atomic<std::uint64_t> jobs{0};
  std::atomic<std::uint64_t> reads{0};

  // Checkpoints. The writer's WAL hook records the WAL's size after each commit.
  // ckpt_mu is held by whichever thread is copying pages back (one at a time; a
  // second checkpoint would fail with SQLITE_BUSY, not wait).
  int wal_pages = 0;  // the writer thread's only: its WAL hook, its checkpoints
  std::mutex ckpt_mu;
  bool bulk_copied = false;  // guarded by ckpt_mu: the checkpoint thread copied since the WAL restarted
  std::mutex ckpt_wake_mu;
  std::condition_variable ckpt_cv;
  bool ckpt_wanted = false;    // guarded by ckpt_wake_mu
  bool ckpt_stopping = false;  // guarded by ckpt_wake_mu
  std::atomic<std::uint64_t> background_checkpoints{0};
  std::atomic<std::uint64_t> writer_checkpoints{0};

  std::thread writer_thread;
  std::vector<std::thread> reader_threads;
  std::thread checkpoint_thread;

  void writer_loop();
  void checkpoint_loop();
  void after_group_checkpoint();
  void after_write() noexcept {
    if (options.after_write) options.after_write();
  }
  void commit_group(std::vector<std::unique_ptr<Job>>& batch);
  void reader_loop(Connection& c);
};

namespace {

const Error& not_saved() {
  static const Error e = make_error(Code::kUnavailable, "not saved: the storage transaction failed, try again");
  return e;
}

Status validate(const DatabaseOptions& o) {
  if (o.path.empty()) return invalid_argument("path", "must name the database file");
  if (o.readers < 1 || o.readers > 64) return invalid_argument("readers", "must be between 1 and 64");
  if (o.max_batch < 1) return invalid_argument("max_batch", "must be at least 1");
  if (o.checkpoint_pages < 1) return invalid_argument("checkpoint_pages", "must be at least 1");
  if (o.cache_kib < 0) return invalid_argument("cache_kib", "must not be negative (0 = SQLite's default)");
  int last = 0;
  for (const auto& m : o.migrations) {
    if (m.version <= last) {
      return invalid_argument("migrations", "versions must be >= 1 and strictly increasing; " +
                                                std::to_string(m.version) + " follows " + std::to_string(last));
    }
    last = m.version;
  }
  return {};
}

// Applies the migrations the file has not seen, each in its own transaction with its
// schema_migrations row. Returns the resulting version.
Result<int> migrate(Connection& c, const std::vector<Migration>& migrations, const std::filesystem::path& path,
                    const std::function<void(Connection&, int)>& after) {
  std::set<int> applied;
  try {
    c.exec("CREATE TABLE IF NOT EXISTS schema_migrations("
           "version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)");
    auto& rows = c.prepare("SELECT version FROM schema_migrations");
    while (rows.step()) applied.insert(static_cast<int>(rows.column_int(0)));
  } catch (const StoreError& e) {
    return make_error(Code::kUnavailable, "cannot read schema_migrations of " + path.string() + ": " + e.what());
  }
  int current = applied.empty() ? 0 : *applied.rbegin();
  int known = migrations.empty() ? 0 : migrations.back().version;
  if (current > known) {
    return make_error(Code::kFailedPrecondition,
                      path.string() + " is at schema version " + std::to_string(current) +
                          ", newer than this build knows (" + std::to_string(known) + ")");
  }
  for (const auto& m : migrations) {
    if (applied.count(m.version)) continue;
    if (m.version < current) {
      return make_error(Code::kFailedPrecondition,
                        "migration " + std::to_string(m.version) + " is new but " + path.string() +
                            " is already at version " + std::to_string(current) +
                            ": append migrations with higher versions, never insert");
    }
    try {
      c.exec("BEGIN IMMEDIATE");
      c.exec(m.sql);
      if (after) after(c, m.version);
      c.prepare("INSERT INTO schema_migrations(version, applied_at_ms) VALUES(?, ?)")
          .bind_all(m.version, now_unix_ms())
          .step();
      c.exec("COMMIT");
    } catch (const StoreError& e) {
      if (c.in_transaction()) {
        try {
          c.exec("ROLLBACK");
        } catch (const StoreError&) {
          // The connection is closed next; SQLite rolls back then.
        }
      }
      return make_error(Code::kInternal, "migration " + std::to_string(m.version) + " failed: " + e.what());
    }
    current = m.version;
    log::info("schema migration applied", {{"path", path.string()}, {"version", m.version}});
  }
  return current;
}

// DatabaseOptions::on_open in one transaction: committed if it succeeds, else rolled back.
Status run_on_open(Connection& c, const std::function<Status(Connection&)>& on_open) {
  try {
    c.exec("BEGIN IMMEDIATE");
    auto ok = on_open(c);
    c.exec(ok ? "COMMIT" : "ROLLBACK");
    return ok;
  } catch (const StoreError& e) {
    if (c.in_transaction()) c.exec("ROLLBACK");
    return to_error(e);
  }
}

// The writer's WAL hook (it replaces SQLite's automatic checkpoint on that connection):
// runs inside each COMMIT with the WAL's size in pages.
int record_wal_pages(void* state, sqlite3*, const char*, int pages) {
  *static_cast<int*>(state) = pages;
  return SQLITE_OK;
}

// Copies what it can of the WAL into the database file without waiting for anyone; a
// reader's older snapshot keeps the pages it still needs in the WAL. Logs a failure
// (the WAL then only grows until a later checkpoint succeeds).
void passive_checkpoint(Connection& c, const std::filesystem::path& path) {
  int rc = sqlite3_wal_checkpoint_v2(c.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    log::warn("WAL checkpoint failed", {{"path", path.string()}, {"sqlite", sqlite3_errstr(rc)}});
  }
}

// Writes back the database file's pages copied by `c`'s checkpoints (fdatasync through
// SQLite's own file, so its locks are untouched).
void sync_database_file(Connection& c, const std::filesystem::path& path) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(c.handle(), "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || file == nullptr ||
      file->pMethods == nullptr)
    return;
  if (int rc = file->pMethods->xSync(file, SQLITE_SYNC_NORMAL); rc != SQLITE_OK)
    log::warn("database file sync after a checkpoint failed", {{"path", path.string()}, {"sqlite", sqlite3_errstr(rc)}});
}

bool has_deferred_fk_violations(Connection& c) {
  int current = 0;
  int highwater = 0;
  sqlite3_db_status(c.handle(), SQLITE_DBSTATUS_DEFERRED_FKS, &current, &highwater, 0);
  return current > 0;
}

}  // namespace

Result<std::unique_ptr<Database>> Database::open(DatabaseOptions options) {
  if (auto ok = validate(options); !ok) return std::move(ok).error();
  auto state = std::make_unique<State>();
  state->options = std::move(options);
  const auto& o = state->options;
  try {
    state->writer = Connection::open(o.path, {.read_only = false, .busy_timeout = o.busy_timeout, .cache_kib = o.cache_kib});
    auto version = migrate(*state->writer, o.migrations, o.path, o.after_migration);
    if (!version) return std::move(version).error();
    state->schema_version = *version;
    if (o.on_open) {
      if (auto ok = run_on_open(*state->writer, o.on_open); !ok) return std::move(ok).error();
    }
    for (int i = 0; i < o.readers; ++i) {
      state->readers.push_back(Connection::open(o.path, {.read_only = true, .busy_timeout = o.busy_timeout, .cache_kib = o.cache_kib}));
    }
    // Reads only the WAL and writes the file's pages in place: SQLite's default cache will do.
    state->checkpointer = Connection::open(o.path, {.read_only = false, .busy_timeout = o.busy_timeout});
    sqlite3_wal_hook(state->writer->handle(), record_wal_pages, &state->wal_pages);
  } catch (const StoreError& e) {
    return make_error(Code::kUnavailable, e.what());
  }
  return std::unique_ptr<Database>(new Database(std::move(state)));
}

Database::Database(std::unique_ptr<State> state) : state_(std::move(state)) {
  State& s = *state_;
  s.writer_thread = std::thread([&s] { s.writer_loop(); });
  s.checkpoint_thread = std::thread([&s] { s.checkpoint_loop(); });
  for (auto& c : s.readers) {
    s.reader_threads.emplace_back([&s, conn = c.get()] { s.reader_loop(*conn); });
  }
}

Database::~Database() {
  State& s = *state_;
  {
    std::lock_guard lock(s.write_mu);
    s.write_stopping = true;
  }
  s.write_cv.notify_all();
  {
    std::lock_guard lock(s.read_mu);
    s.read_stopping = true;
  }
  s.read_cv.notify_all();
  s.writer_thread.join();
  for (auto& t : s.reader_threads) t.join();
  {
    std::lock_guard lock(s.ckpt_wake_mu);
    s.ckpt_stopping = true;
  }
  s.ckpt_cv.notify_all();
  s.checkpoint_thread.join();
  // How many write jobs shared each commit (and fsync) over the store's life, and who
  // copied the WAL back how often.
  log::info("storage closed", {{"path", s.options.path.string()},
                               {"transactions", s.transactions.load()},
                               {"jobs", s.jobs.load()},
                               {"background_checkpoints", s.background_checkpoints.load()},
                               {"writer_checkpoints", s.writer_checkpoints.load()}});
  // Readers first: the last connection to close checkpoints the WAL into the file.
  s.checkpointer.reset();
  s.readers.clear();
  s.writer.reset();
}

void Database::enqueue(std::unique_ptr<Job> job, bool write) {
  State& s = *state_;
  auto& mu = write ? s.write_mu : s.read_mu;
  auto& cv = write ? s.write_cv : s.read_cv;
  auto& queue = write ? s.write_queue : s.read_queue;
  bool wake = false;
  {
    std::lock_guard lock(mu);
    if (!(write ? s.write_stopping : s.read_stopping)) {
      // The writer only sleeps on an empty queue; while it commits a group, new jobs
      // pile up here without a wake-up and become the next group.
      wake = queue.empty() || !write;
      queue.push_back(std::move(job));
    }
  }
  if (job) {
    static const Error closing = make_error(Code::kUnavailable, "storage is shutting down");
    job->complete(&closing);
    return;
  }
  if (wake) cv.notify_one();
}

asio::awaitable<Status> Database::checkpoint() {
  auto job = [&state = *state_](Connection& c) -> Status {
    std::lock_guard lock(state.ckpt_mu);  // after the checkpoint thread's copy, if one is running
    auto& s = c.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    if (!s.step()) return make_error(Code::kInternal, "checkpoint gave no answer");
    const bool busy = s.column_int(0) != 0;
    s.reset();
    if (busy) return make_error(Code::kUnavailable, "checkpoint: a reader still holds an older snapshot");
    // The WAL is empty: nothing is left for the writer's finishing copy.
    state.bulk_copied = false;
    state.wal_pages = 0;
    return {};
  };
  co_return co_await submit(std::move(job), /*write=*/true, /*bare=*/true);
}

Database::Stats Database::stats() const {
  Stats out;
  out.transactions = state_->transactions.load();
  out.jobs = state_->jobs.load();
  out.reads = state_->reads.load();
  out.background_checkpoints = state_->background_checkpoints.load();
  out.writer_checkpoints = state_->writer_checkpoints.load();
  std::lock_guard lock(state_->write_mu);
  out.queued_writes = state_->write_queue.size();
  return out;
}

int Database::schema_version() const { return state_->schema_version; }

const std::filesystem::path& Database::path() const { return state_->options.path; }

void Database::State::writer_loop() {
  std::vector<std::unique_ptr<Job>> batch;
  batch.reserve(static_cast<std::size_t>(options.max_batch));
  for (;;) {
    {
      std::unique_lock lock(write_mu);
      write_cv.wait(lock, [&] { return !write_queue.empty() || write_stopping; });
      if (write_queue.empty()) return;  // stopping, and every submitted job is done
      while (!write_queue.empty() && batch.size() < static_cast<std::size_t>(options.max_batch)) {
        if (write_queue.front()->bare && !batch.empty()) break;  // a bare job runs alone
        batch.push_back(std::move(write_queue.front()));
        write_queue.pop_front();
        if (batch.back()->bare) break;
      }
    }
    if (batch.size() == 1 && batch.front()->bare) {
      Connection& c = *writer;
      batch.front()->run(c);
      c.reset_statements();
      if (c.in_transaction()) {
        try {
          c.exec("ROLLBACK");
        } catch (const StoreError&) {
        }
      }
      after_write();
      batch.front()->complete(nullptr);
    } else {
      commit_group(batch);
    }
    batch.clear();
    after_group_checkpoint();
  }
}

// Between groups, once every caller of the last one has its answer. The checkpoint
// thread copies the bulk of a full WAL; the writer then copies what was committed
// meanwhile (a few groups' pages), which leaves nothing in the WAL that the file lacks,
// so the next transaction starts writing at the WAL's beginning again.
void Database::State::after_group_checkpoint() {
  const int pages = wal_pages;
  if (pages < options.checkpoint_pages) return;
  std::unique_lock lock(ckpt_mu, std::defer_lock);
  if (pages >= 8 * options.checkpoint_pages) {
    lock.lock();  // the checkpoint thread is far behind: wait for it, as SQLite's own checkpoint would
  } else if (!lock.try_lock()) {
    return;  // it is copying; the writer goes on
  }
  if (bulk_copied || pages >= 8 * options.checkpoint_pages) {
    passive_checkpoint(*writer, options.path);
    bulk_copied = false;
    writer_checkpoints.fetch_add(1, std::memory_order_relaxed);
    wal_pages = 0;  // until the next commit says otherwise
    return;
  }
  lock.unlock();
  {
    std::lock_guard wake(ckpt_wake_mu);
    ckpt_wanted = true;
  }
  ckpt_cv.notify_one();
}

void Database::State::checkpoint_loop() {
  for (;;) {
    {
      std::unique_lock lock(ckpt_wake_mu);
      ckpt_cv.wait(lock, [&] { return ckpt_wanted || ckpt_stopping; });
      if (ckpt_stopping) return;
      ckpt_wanted = false;
    }
    std::lock_guard lock(ckpt_mu);
    if (options.before_background_checkpoint) options.before_background_checkpoint();
    passive_checkpoint(*checkpointer, options.path);
    // SQLite syncs the database file only when a checkpoint reaches the WAL's end, which a
    // copy made beside a busy writer seldom does; the writer's next checkpoint, which does,
    // then wrote back every page copied here in its fsync (2-4 ms), with commits waiting.
    // Written back here instead, the writer's fsync holds only the pages it copies itself.
    sync_database_file(*checkpointer, options.path);
    bulk_copied = true;
    background_checkpoints.fetch_add(1, std::memory_order_relaxed);
  }
}

// One group: BEGIN IMMEDIATE, then per job SAVEPOINT / f / RELEASE (or ROLLBACK TO), then
// one COMMIT. Results are delivered only after COMMIT returns.
void Database::State::commit_group(std::vector<std::unique_ptr<Job>>& batch) {
  Connection& c = *writer;
  struct Ran {
    Job* job;
    std::optional<Error> error;  // delivered instead of the job's own result
  };
  std::vector<Ran> ran;
  ran.reserve(batch.size());

  // Everything since BEGIN is lost: nobody in `ran` may be told "saved".
  auto abandon = [&](std::string_view step, const StoreError* e) {
    log::error("storage transaction abandoned",
               {{"path", options.path.string()}, {"step", step}, {"jobs", ran.size()},
                {"sqlite", e ? e->what() : "transaction ended inside a job"}});
    if (c.in_transaction()) {
      try {
        c.exec("ROLLBACK");
      } catch (const StoreError&) {
        // Nothing more to do: the next BEGIN reports it if the connection is broken.
      }
    }
    after_write();
    for (auto& r : ran) r.job->complete(&not_saved());
    ran.clear();
  };

  for (auto& job : batch) {
    try {
      if (!c.in_transaction()) c.prepare("BEGIN IMMEDIATE").step();
      c.prepare("SAVEPOINT job").step();
    } catch (const StoreError& e) {
      abandon("begin", &e);
      job->complete(&not_saved());
      continue;
    }
    bool ok = job->run(c);
    jobs.fetch_add(1, std::memory_order_relaxed);
    c.reset_statements();
    std::optional<Error> error;
    if (ok && has_deferred_fk_violations(c)) {
      ok = false;
      error = make_error(Code::kFailedPrecondition, "refers to a row that does not exist, or is still referred to");
    }
    ran.push_back({job.get(), std::move(error)});
    if (!c.in_transaction()) {
      // f ran COMMIT/ROLLBACK itself, or SQLite rolled the transaction back (I/O error,
      // disk full): the earlier jobs of this group are gone too.
      abandon("job", nullptr);
      continue;
    }
    try {
      if (!ok) c.prepare("ROLLBACK TO job").step();
      c.prepare("RELEASE job").step();
    } catch (const StoreError& e) {
      abandon("savepoint", &e);
    }
  }
  if (ran.empty()) return;
  try {
    c.prepare("COMMIT").step();
  } catch (const StoreError& e) {
    abandon("commit", &e);
    return;
  }
  transactions.fetch_add(1, std::memory_order_relaxed);
  after_write();
  for (auto& r : ran) r.job->complete(r.error ? &*r.error : nullptr);
}

void Database::State::reader_loop(Connection& c) {
  for (;;) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock lock(read_mu);
      read_cv.wait(lock, [&] { return !read_queue.empty() || read_stopping; });
      if (read_queue.empty()) return;
      job = std::move(read_queue.front());
      read_queue.pop_front();
    }
    job->run(c);
    // End the job's read snapshot so the next job sees the latest commit.
    c.reset_statements();
    if (c.in_transaction()) {
      try {
        c.exec("ROLLBACK");
      } catch (const StoreError&) {
      }
    }
    reads.fetch_add(1, std::memory_order_relaxed);
    job->complete(nullptr);
  }
}

}  // namespace alliance::store
