#!/usr/bin/env python3
"""messaging.db's message rows without the servers: the writer's statements for each send
(inside a SAVEPOINT, in group commits; WAL, synchronous=FULL) against the schema v4 table
(WITHOUT ROWID), the v5 one (rowid) and v6 (the message-id index led by message_id, with the
SDK's time-ordered ids; v4 and v5 get random ids, as the SDK made them then), alternating. Prints per layout and group size the
CPU per message, the WAL frames written per message and the file's pages, with the 1-minute
load before each run. Uses Python's sqlite3 (the system libsqlite3), so the CPU figure
includes Python's own ~10-20 us per message: compare the layouts, not the absolute value.

  bench/messaging_rows.py                      # 8000 messages, groups of 5, 20 and 60, 2 rounds
  BENCH_ROWS=4000 BENCH_GROUPS=20 bench/messaging_rows.py
"""
import os
import random
import sqlite3
import tempfile
import time

COLUMNS = """conversation_id TEXT NOT NULL REFERENCES conversations(id), seq INTEGER NOT NULL,
  message_id TEXT NOT NULL, sender_user_id TEXT NOT NULL, sender_device_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK(kind IN ('user', 'system')), ciphertext BLOB, system_text TEXT,
  content_hash BLOB NOT NULL, sent_ms INTEGER NOT NULL, expired INTEGER NOT NULL DEFAULT 0,
  format INTEGER NOT NULL DEFAULT 1, wrapped_keys_blob BLOB"""
LAYOUTS = {
    "v4 WITHOUT ROWID": f"CREATE TABLE messages({COLUMNS}, PRIMARY KEY(conversation_id, seq), "
                        "UNIQUE(conversation_id, message_id)) WITHOUT ROWID;",
    "v5 rowid": f"CREATE TABLE messages({COLUMNS});"
                "CREATE UNIQUE INDEX messages_by_seq ON messages(conversation_id, seq);"
                "CREATE UNIQUE INDEX messages_by_message_id ON messages(conversation_id, message_id);",
    "v6 id first": f"CREATE TABLE messages({COLUMNS});"
                   "CREATE UNIQUE INDEX messages_by_seq ON messages(conversation_id, seq);"
                   "CREATE UNIQUE INDEX messages_by_message_id ON messages(message_id, conversation_id);",
}


def new_message_id(layout):
    if layout.startswith("v6"):  # client::new_message_id: 12 hex digits of the time, then 10 random bytes
        return "%012x" % int(time.time() * 1000) + os.urandom(10).hex()[:14]
    return os.urandom(16).hex()
CIPHERTEXT, KEYS_BLOB = 348, 693  # a 200-byte message in format 2; 6 wrapped keys (wrapped_keys_blob.hpp)


def run(layout, path, rows, group, wal_autocheckpoint):
    c = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "secure_delete=ON",
                   "cache_size=-16384", f"wal_autocheckpoint={wal_autocheckpoint}"):
        c.execute("PRAGMA " + pragma)
    c.executescript("CREATE TABLE conversations(id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL DEFAULT 0, "
                    "last_notice_ms INTEGER NOT NULL DEFAULT 0);" + LAYOUTS[layout] +
                    "CREATE INDEX messages_by_time ON messages(sent_ms) WHERE expired = 0;")
    conversations = [os.urandom(16).hex() for _ in range(16)]
    c.executemany("INSERT INTO conversations(id) VALUES(?)", [(x,) for x in conversations])
    start, sent = os.times(), 0
    while sent < rows:
        c.execute("BEGIN IMMEDIATE")
        for _ in range(group):
            conv, message_id = random.choice(conversations), new_message_id(layout)
            c.execute("SAVEPOINT job")
            c.execute("SELECT seq FROM messages WHERE conversation_id = ? AND message_id = ?",
                      (conv, message_id)).fetchone()
            seq, notice = c.execute("SELECT last_seq, last_notice_ms FROM conversations WHERE id = ?",
                                    (conv,)).fetchone()
            c.execute("INSERT INTO messages(conversation_id, seq, message_id, sender_user_id, sender_device_id, "
                      "kind, ciphertext, system_text, content_hash, sent_ms, format, wrapped_keys_blob) "
                      "VALUES(?, ?, ?, ?, ?, 'user', ?, NULL, ?, ?, 2, ?)",
                      (conv, seq + 1, message_id, os.urandom(16).hex(), os.urandom(16).hex(),
                       os.urandom(CIPHERTEXT), os.urandom(32), int(time.time() * 1000), os.urandom(KEYS_BLOB)))
            c.execute("UPDATE conversations SET last_seq = ?, last_notice_ms = ? WHERE id = ?", (seq + 1, notice, conv))
            c.execute("RELEASE job")
            sent += 1
        c.execute("COMMIT")
    end = os.times()
    pages = c.execute("PRAGMA page_count").fetchone()[0]
    # With checkpoints off the WAL still holds every frame written (4096 + 24 bytes each).
    frames = os.path.getsize(path + "-wal") // 4120
    c.close()  # the last connection checkpoints and removes the WAL
    return (end.user - start.user + end.system - start.system) / rows * 1e6, pages, frames


def main():
    rows = int(os.environ.get("BENCH_ROWS", "8000"))
    groups = [int(g) for g in os.environ.get("BENCH_GROUPS", "5,20,60").split(",")]
    rounds = int(os.environ.get("BENCH_ROUNDS", "2"))
    with tempfile.TemporaryDirectory() as folder:
        for layout in LAYOUTS:
            path = os.path.join(folder, "frames.db")
            _, _, frames = run(layout, path, rows, 20, 0)
            print(f"{layout:17s} WAL frames per message (groups of 20): {frames / rows:.2f}")
            os.unlink(path)
        for i in range(rounds):
            for group in groups:
                for layout in LAYOUTS:
                    load = open("/proc/loadavg").read().split()[0]
                    path = os.path.join(folder, f"run{i}.db")
                    cpu, pages, _ = run(layout, path, rows, group, 1000)
                    print(f"{layout:17s} {group:3d} jobs per commit: {cpu:6.1f} us CPU per message, "
                          f"file {pages} pages for {rows} messages (1-min load {load} before)")
                    for suffix in ("", "-wal", "-shm"):
                        if os.path.exists(path + suffix):
                            os.unlink(path + suffix)


if __name__ == "__main__":
    main()
