#include "wal_writes.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>

namespace alliance::store::detail {

namespace {

constexpr const char* kVfsName = "alliance-wal-coalescing";

sqlite3_vfs* g_real = nullptr;  // the default VFS this one wraps; set once

// A WAL file: the real file's object lives right after this one in SQLite's allocation.
struct WalFile {
  sqlite3_file base;  // first: SQLite sees a sqlite3_file
  sqlite3_file* real;
  std::string pending;  // bytes not yet written, starting at `start`
  sqlite3_int64 start = 0;
};

WalFile& wal(sqlite3_file* f) { return *reinterpret_cast<WalFile*>(f); }
sqlite3_file* real(sqlite3_file* f) { return wal(f).real; }

// Writes what is pending, in as few calls as the default VFS takes (it writes at most
// kMaxWalWriteBytes per call). An error is the caller's (SQLITE_FULL,
// SQLITE_IOERR_WRITE): the sync, read or close that needed the flush fails with it.
int flush(WalFile& f) {
  int rc = SQLITE_OK;
  for (std::size_t done = 0; done < f.pending.size() && rc == SQLITE_OK; done += kMaxWalWriteBytes) {
    const std::size_t n = std::min(kMaxWalWriteBytes, f.pending.size() - done);
    rc = f.real->pMethods->xWrite(f.real, f.pending.data() + done, static_cast<int>(n),
                                  f.start + static_cast<sqlite3_int64>(done));
  }
  f.pending.clear();
  if (f.pending.capacity() > kMaxPendingWalBytes) std::string().swap(f.pending);
  return rc;
}

int wal_close(sqlite3_file* f) {
  WalFile& w = wal(f);
  int flushed = flush(w);
  int rc = w.real->pMethods ? w.real->pMethods->xClose(w.real) : SQLITE_OK;
  w.~WalFile();
  return flushed != SQLITE_OK ? flushed : rc;
}

int wal_read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  if (int rc = flush(wal(f)); rc != SQLITE_OK) return rc;
  return real(f)->pMethods->xRead(real(f), out, amount, offset);
}

int wal_write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  WalFile& w = wal(f);
  if (!w.pending.empty() && offset != w.start + static_cast<sqlite3_int64>(w.pending.size())) {
    // Not a continuation (SQLite rewriting a frame of this transaction): what came
    // before goes out first, so the later bytes land last.
    if (int rc = flush(w); rc != SQLITE_OK) return rc;
  }
  try {
    if (w.pending.empty()) w.start = offset;
    w.pending.append(static_cast<const char*>(data), static_cast<std::size_t>(amount));
  } catch (const std::bad_alloc&) {
    if (int rc = flush(w); rc != SQLITE_OK) return rc;
    return real(f)->pMethods->xWrite(real(f), data, amount, offset);
  }
  return w.pending.size() >= kMaxPendingWalBytes ? flush(w) : SQLITE_OK;
}

int wal_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (int rc = flush(wal(f)); rc != SQLITE_OK) return rc;
  return real(f)->pMethods->xTruncate(real(f), size);
}

int wal_sync(sqlite3_file* f, int flags) {
  if (int rc = flush(wal(f)); rc != SQLITE_OK) return rc;
  return real(f)->pMethods->xSync(real(f), flags);
}

int wal_file_size(sqlite3_file* f, sqlite3_int64* size) {
  if (int rc = flush(wal(f)); rc != SQLITE_OK) return rc;
  return real(f)->pMethods->xFileSize(real(f), size);
}

int wal_lock(sqlite3_file* f, int level) { return real(f)->pMethods->xLock(real(f), level); }
int wal_unlock(sqlite3_file* f, int level) { return real(f)->pMethods->xUnlock(real(f), level); }
int wal_check_reserved(sqlite3_file* f, int* out) { return real(f)->pMethods->xCheckReservedLock(real(f), out); }

int wal_file_control(sqlite3_file* f, int op, void* arg) {
  if (int rc = flush(wal(f)); rc != SQLITE_OK) return rc;
  return real(f)->pMethods->xFileControl(real(f), op, arg);
}

int wal_sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
int wal_device(sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); }

// A WAL file has no shared memory or memory map of its own (those belong to the
// database file); these forward for completeness.
int wal_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return real(f)->pMethods->xShmMap(real(f), page, size, extend, out);
}
int wal_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
void wal_shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
int wal_shm_unmap(sqlite3_file* f, int remove) { return real(f)->pMethods->xShmUnmap(real(f), remove); }
int wal_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  if (int rc = flush(wal(f)); rc != SQLITE_OK) return rc;
  return real(f)->pMethods->xFetch(real(f), offset, amount, out);
}
int wal_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) { return real(f)->pMethods->xUnfetch(real(f), offset, p); }

const sqlite3_io_methods kWalMethods = {
    3,           wal_close,        wal_read,      wal_write,       wal_truncate, wal_sync,
    wal_file_size, wal_lock,       wal_unlock,    wal_check_reserved, wal_file_control, wal_sector_size,
    wal_device,  wal_shm_map,      wal_shm_lock,  wal_shm_barrier, wal_shm_unmap, wal_fetch,
    wal_unfetch,
};

constexpr int real_offset() { return static_cast<int>((sizeof(WalFile) + 15) / 16 * 16); }

int vfs_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  if (!(flags & SQLITE_OPEN_WAL)) return g_real->xOpen(g_real, name, f, flags, out_flags);  // as the default VFS would
  auto* w = new (f) WalFile{};
  w->base.pMethods = nullptr;
  w->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + real_offset());
  w->real->pMethods = nullptr;
  int rc = g_real->xOpen(g_real, name, w->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (w->real->pMethods) w->real->pMethods->xClose(w->real);
    w->~WalFile();
    f->pMethods = nullptr;
    return rc;
  }
  w->base.pMethods = &kWalMethods;
  return SQLITE_OK;
}

// Everything else is the default VFS's, called with the default VFS.
int vfs_delete(sqlite3_vfs*, const char* name, int sync_dir) { return g_real->xDelete(g_real, name, sync_dir); }
int vfs_access(sqlite3_vfs*, const char* name, int flags, int* out) { return g_real->xAccess(g_real, name, flags, out); }
int vfs_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return g_real->xFullPathname(g_real, name, n, out);
}
void* vfs_dl_open(sqlite3_vfs*, const char* name) { return g_real->xDlOpen(g_real, name); }
void vfs_dl_error(sqlite3_vfs*, int n, char* out) { g_real->xDlError(g_real, n, out); }
void (*vfs_dl_sym(sqlite3_vfs*, void* h, const char* sym))(void) { return g_real->xDlSym(g_real, h, sym); }
void vfs_dl_close(sqlite3_vfs*, void* h) { g_real->xDlClose(g_real, h); }
int vfs_randomness(sqlite3_vfs*, int n, char* out) { return g_real->xRandomness(g_real, n, out); }
int vfs_sleep(sqlite3_vfs*, int us) { return g_real->xSleep(g_real, us); }
int vfs_current_time(sqlite3_vfs*, double* out) { return g_real->xCurrentTime(g_real, out); }
int vfs_last_error(sqlite3_vfs*, int n, char* out) { return g_real->xGetLastError(g_real, n, out); }
int vfs_current_time64(sqlite3_vfs*, sqlite3_int64* out) { return g_real->xCurrentTimeInt64(g_real, out); }

sqlite3_vfs make_vfs() {
  sqlite3_vfs v{};
  v.iVersion = 2;  // no system-call overrides through this one
  v.szOsFile = real_offset() + g_real->szOsFile;
  v.mxPathname = g_real->mxPathname;
  v.zName = kVfsName;
  v.xOpen = vfs_open;
  v.xDelete = vfs_delete;
  v.xAccess = vfs_access;
  v.xFullPathname = vfs_full_pathname;
  v.xDlOpen = vfs_dl_open;
  v.xDlError = vfs_dl_error;
  v.xDlSym = vfs_dl_sym;
  v.xDlClose = vfs_dl_close;
  v.xRandomness = vfs_randomness;
  v.xSleep = vfs_sleep;
  v.xCurrentTime = vfs_current_time;
  v.xGetLastError = vfs_last_error;
  v.xCurrentTimeInt64 = vfs_current_time64;
  return v;
}

}  // namespace

const char* wal_coalescing_vfs() {
  static std::once_flag once;
  static sqlite3_vfs vfs;
  std::call_once(once, [] {
    g_real = sqlite3_vfs_find(nullptr);
    if (!g_real || g_real->iVersion < 2 || !g_real->xCurrentTimeInt64)
      throw std::runtime_error("SQLite's default VFS lacks what the WAL write buffer needs");
    vfs = make_vfs();
    if (int rc = sqlite3_vfs_register(&vfs, 0); rc != SQLITE_OK)
      throw std::runtime_error(std::string("cannot register SQLite VFS: ") + sqlite3_errstr(rc));
  });
  return kVfsName;
}

}  // namespace alliance::store::detail
