#pragma once
// Internal: the SQLite VFS every Connection opens its files through.
#include <cstddef>

namespace alliance::store::detail {

// The name of a VFS that is SQLite's default one except for WAL files: the frames
// a transaction writes (SQLite writes each frame as two calls, its 24-byte header and
// its page) are gathered in memory and reach the file in one write when SQLite syncs,
// reads, truncates, sizes or closes it, or when a write does not follow the last one.
// A commit of 30 pages costs one pwrite instead of 60 (a write is at most
// kMaxWalWriteBytes: SQLite's unix VFS takes no more per call).
//
// Safe only for connections that sync the WAL at each commit (synchronous=FULL, as
// Connection::open sets): the sync is what puts a commit's frames in the file before
// the wal-index makes them visible to other connections. Nothing is kept longer than
// that: a write that fails at the flush fails the sync, so the COMMIT fails and
// nobody is told "saved".
// Registered (not as the default) on the first call; thread-safe.
const char* wal_coalescing_vfs();

// Most bytes kept in memory per WAL file before they are written out anyway (a
// transaction bigger than this writes in pieces of this size).
inline constexpr std::size_t kMaxPendingWalBytes = std::size_t{4} << 20;
// Most bytes per write call: the unix VFS keeps only the low 17 bits of a write's size
// (seekAndWriteFd), so a write must stay below 128 KiB; 31 pages of 4 KiB.
inline constexpr std::size_t kMaxWalWriteBytes = 31 * 4096;

}  // namespace alliance::store::detail
