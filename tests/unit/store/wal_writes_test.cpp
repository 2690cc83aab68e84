// The WAL write buffer (libs/store/src/wal_writes.hpp) under real SQLite files: a
// commit reaches the WAL in one write, and what was committed is there whole for
// every other connection, after a crash, and after transactions bigger than the
// buffer or than SQLite's page cache.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "alliance/core/ids.hpp"
#include "alliance/store/connection.hpp"
#include "alliance/store/query.hpp"
#include "process.hpp"
#include "wal_writes.hpp"

namespace alliance::store {
namespace {

using testing::TempDir;

// Write system calls this process has made so far (any file or socket), or nothing
// if the kernel does not count them.
std::optional<std::int64_t> write_calls() {
  std::ifstream io("/proc/self/io");
  std::string key;
  std::int64_t value = 0;
  while (io >> key >> value)
    if (key == "syscw:") return value;
  return std::nullopt;
}

// The first column of the first row of `sql`.
std::int64_t number(Connection& c, std::string_view sql) {
  return query_one(c, sql, [](const Statement& s) { return s.column_int(0); }).value_or(-1);
}

std::string integrity(Connection& c) {
  auto& s = c.prepare("PRAGMA integrity_check");
  std::string out = s.step() ? s.column_text(0) : "no answer";
  s.reset();
  return out;
}

constexpr const char* kSchema =
    "CREATE TABLE items(id INTEGER PRIMARY KEY, key TEXT NOT NULL, body BLOB NOT NULL);"
    "CREATE INDEX items_by_key ON items(key)";

// A database with kSchema whose connection caches only 100 pages, so a big
// transaction spills pages to the WAL before its COMMIT.
std::unique_ptr<Connection> open_with_small_cache(const std::filesystem::path& path) {
  auto c = Connection::open(path, {});
  c->exec(kSchema);
  c->exec("PRAGMA cache_size=100");
  return c;
}

void insert_items(Connection& c, int n, std::size_t body_bytes) {
  for (int i = 0; i < n; ++i) execute(c, "INSERT INTO items(key, body) VALUES(?, ?)", new_id(), std::string(body_bytes, 'x'));
}

// A fresh connection finds `items` items and an intact file.
void expect_whole(const std::filesystem::path& path, std::int64_t items) {
  auto c = Connection::open(path, {});
  EXPECT_EQ(number(*c, "SELECT count(*) FROM items"), items);
  EXPECT_EQ(integrity(*c), "ok");
}

// One transaction of `n` new items.
void commit_items(Connection& c, int n, std::size_t body_bytes) {
  c.exec("BEGIN");
  insert_items(c, n, body_bytes);
  c.exec("COMMIT");
}

TEST(WalWrites, ACommitOfManyPagesReachesTheWalInOneWrite) {
  if (!write_calls()) GTEST_SKIP() << "this kernel does not count write calls (/proc/self/io)";
  TempDir dir;
  auto c = Connection::open(dir.path() / "t.db", {});
  c->exec(kSchema);
  commit_items(*c, 200, 300);
  const auto wal = dir.path() / "t.db-wal";
  const auto wal_before = std::filesystem::file_size(wal);

  c->exec("BEGIN");
  insert_items(*c, 40, 1000);  // ~10 table leaves and a leaf per random key: ~40 pages
  const auto before = *write_calls();
  c->exec("COMMIT");
  const auto calls = *write_calls() - before;

  const auto frames = (std::filesystem::file_size(wal) - wal_before) / (4096 + 24);
  ASSERT_GE(frames, 20u) << "the commit should have written many pages";
  // SQLite writes each frame as two calls (header, page): 2 * frames without the buffer;
  // with it, one call per kMaxWalWriteBytes.
  const auto most = static_cast<std::int64_t>(frames * (4096 + 24) / detail::kMaxWalWriteBytes + 1);
  EXPECT_LE(calls, most) << frames << " frames written in " << calls << " calls";
}

// A writer commits `rounds` transactions of `items` items of `body_bytes` each, runs
// `after_commit` after each, and another connection finds every item, whole, each time;
// then the file reads whole from a fresh connection.
void commit_rounds_read_by_another(int rounds, int items, std::size_t body_bytes,
                                   const std::function<void(Connection&, int round)>& after_commit) {
  TempDir dir;
  const auto path = dir.path() / "t.db";
  auto writer = Connection::open(path, {});
  writer->exec(kSchema);
  auto reader = Connection::open(path, {.read_only = true});
  for (int round = 0; round < rounds; ++round) {
    commit_items(*writer, items, body_bytes);
    after_commit(*writer, round);
    const std::int64_t total = items * (round + 1);
    ASSERT_EQ(number(*reader, "SELECT count(*) FROM items"), total) << "round " << round;
    ASSERT_EQ(number(*reader, "SELECT sum(length(body)) FROM items"), total * static_cast<std::int64_t>(body_bytes))
        << "round " << round;
  }
  EXPECT_EQ(integrity(*reader), "ok");
  reader.reset();
  writer.reset();
  expect_whole(path, items * rounds);
}

// Readers see a checkpointed page in the database file, whole, once the checkpoint is done.
TEST(WalWrites, AfterEachCheckpointAnotherConnectionReadsEverythingWhole) {
  commit_rounds_read_by_another(10, 30, 900, [](Connection& writer, int round) {
    writer.exec(round % 2 ? "PRAGMA wal_checkpoint(TRUNCATE)" : "PRAGMA wal_checkpoint(PASSIVE)");
  });
}

TEST(WalWrites, WhatACommitWroteIsWholeForAnotherConnectionAndAfterReopening) {
  commit_rounds_read_by_another(20, 25, 700, [](Connection&, int) {});
}

// Past the buffer's 4 MiB and past a 100-page cache: SQLite writes frames before the
// COMMIT and rewrites some of them in place, out of order with the rest.
TEST(WalWrites, ATransactionBiggerThanTheBufferAndTheCacheCommitsWhole) {
  TempDir dir;
  const auto path = dir.path() / "t.db";
  auto c = open_with_small_cache(path);
  c->exec("BEGIN");
  insert_items(*c, 6000, 1000);
  for (int i = 0; i < 50; ++i) execute(*c, "UPDATE items SET body = ? WHERE id = ?", std::string(900, 'y'), i * 97 + 1);
  c->exec("COMMIT");
  expect_whole(path, 6000);
  auto other = Connection::open(path, {.read_only = true});
  EXPECT_EQ(number(*other, "SELECT count(*) FROM items WHERE length(body) = 900"), 50);
}

TEST(WalWrites, ARolledBackTransactionThatSpilledLeavesNothing) {
  TempDir dir;
  const auto path = dir.path() / "t.db";
  auto c = open_with_small_cache(path);
  commit_items(*c, 10, 100);
  c->exec("BEGIN");
  insert_items(*c, 3000, 1000);
  c->exec("ROLLBACK");
  commit_items(*c, 5, 100);
  c.reset();
  expect_whole(path, 15);
}

// A process killed right after its COMMIT returned lost nothing of it; one killed in
// the middle of a transaction left none of it.
TEST(WalWrites, AKillAfterCommitKeepsItAndAKillBeforeCommitLeavesNone) {
  TempDir dir;
  const auto path = dir.path() / "t.db";
  Connection::open(path, {})->exec(kSchema);
  auto in_child = [&](bool commit) {
    pid_t pid = ::fork();
    if (pid == 0) {
      auto c = Connection::open(path, {});
      c->exec("BEGIN");
      insert_items(*c, 500, 1000);  // ~500 KB: the commit's frames are all in the buffer until its sync
      if (commit) c->exec("COMMIT");
      ::kill(::getpid(), SIGKILL);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  };
  ASSERT_TRUE(in_child(true));
  ASSERT_TRUE(in_child(false));
  expect_whole(path, 500);
}

// A process killed while its checkpoints copy pages (at whatever moment the kill lands)
// lost no commit it had made, and left a file that reads whole.
TEST(WalWrites, AKillDuringCheckpointsLosesNoCommit) {
  TempDir dir;
  const auto path = dir.path() / "t.db";
  Connection::open(path, {})->exec(kSchema);
  for (int attempt = 0; attempt < 5; ++attempt) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      auto c = Connection::open(path, {});
      for (;;) {
        commit_items(*c, 20, 900);
        const auto n = number(*c, "SELECT count(*) FROM items");
        if (::write(fds[1], &n, sizeof n) != static_cast<ssize_t>(sizeof n)) ::_exit(1);  // told: committed
        c->exec("PRAGMA wal_checkpoint(PASSIVE)");
      }
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(40 + 37 * attempt));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::int64_t told = 0, n = 0;
    while (::read(fds[0], &n, sizeof n) == static_cast<ssize_t>(sizeof n)) told = n;
    ::close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "attempt " << attempt;
    ASSERT_GT(told, 0) << "attempt " << attempt << ": the child committed nothing before the kill";
    auto c = Connection::open(path, {});
    EXPECT_GE(number(*c, "SELECT count(*) FROM items"), told) << "attempt " << attempt;
    EXPECT_EQ(integrity(*c), "ok") << "attempt " << attempt;
  }
}

}  // namespace
}  // namespace alliance::store
