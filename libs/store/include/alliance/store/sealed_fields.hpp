#pragma once
// Personal data at rest: fields sealed with AES-256-GCM under a per-practice data key,
// the data keys wrapped by the key-encryption key (crypto/kek.hpp) in the database's
// data_keys table. Erasing a practice's data key erases its sealed fields.
//
//   DataKeys keys(kek);                                          // one per database
//   // inside Database::write:
//   const FieldCipher cipher = keys.cipher(c, practice_id);      // made on first use
//   st.bind_all(id, Blob{cipher.seal("users", "email", id, email)},
//               Blob{cipher.lookup_hash("email", email)});
//   // inside Database::read:
//   std::string email = keys.cipher(c, practice_id).open("users", "email", id, st.column_blob(2));
//
// A sealed field is 0x01 || nonce(12) || ciphertext || tag(16); its associated data is
// table, column and row id, so a sealed value copied to another row or column does not
// open. A lookup hash (HMAC-SHA-256 under a key derived from the data key) stands in
// for the value where the database must find or keep it unique (an email).
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "alliance/core/config.hpp"
#include "alliance/core/result.hpp"
#include "alliance/store/connection.hpp"

namespace alliance::store {

// The migration step that creates the data-key table (append it to a service's
// migrations once). `kek_id` names the KEK that wraps each key (crypto::kek_id).
inline constexpr std::string_view kDataKeysSchema = R"sql(
CREATE TABLE data_keys (
  practice_id TEXT PRIMARY KEY,
  wrapped BLOB NOT NULL,
  kek_id TEXT NOT NULL,
  created_unix_ms INTEGER NOT NULL,
  rewrapped_unix_ms INTEGER
);
)sql";

// The KEK a service runs with and, during a rotation, the one before it.
struct KekPair {
  std::string kek;                   // 32 bytes
  std::string previous_kek;          // 32 bytes, or "" when not rotating
  std::string kek_key = "kek_file";  // the config key named when the KEK is refused
};

// Reads kek_file or kek_command and, while rotating, kek_previous_file or
// kek_previous_command (crypto/kek.hpp says the forms). Start-up only: throws
// ConfigError naming the key.
KekPair load_kek_pair(const Config& config);

// One practice's data key, ready to seal and open fields. Cheap to copy; pure.
class FieldCipher {
 public:
  FieldCipher(std::string seal_key, std::string index_key)
      : seal_key_(std::move(seal_key)), index_key_(std::move(index_key)) {}

  // `plaintext` sealed for (table, column, row_id), with a fresh random nonce.
  std::string seal(std::string_view table, std::string_view column, std::string_view row_id,
                   std::string_view plaintext) const;
  // The plaintext; throws StoreError (SQLITE_CORRUPT, naming table, column and row id,
  // never content) when `sealed` is not a field sealed by this key for exactly this
  // table, column and row: tampered, moved, or another practice's. Database jobs turn
  // that into kInternal.
  std::string open(std::string_view table, std::string_view column, std::string_view row_id,
                   std::string_view sealed) const;
  // seal() for an optional field: "" stays "" (nothing to hide, and NULL-free columns
  // keep their default), anything else is sealed.
  std::string seal_optional(std::string_view table, std::string_view column, std::string_view row_id,
                            std::string_view plaintext) const;
  // open() for what seal_optional() stored: "" stays "".
  std::string open_optional(std::string_view table, std::string_view column, std::string_view row_id,
                            std::string_view sealed) const;
  // HMAC-SHA-256 of `value` for lookups in `column` (32 bytes): equal values of the
  // practice hash alike, nothing else can be learned from it without the data key.
  std::string lookup_hash(std::string_view column, std::string_view value) const;

 private:
  std::string seal_key_;
  std::string index_key_;
};

// A database's data keys under the KEK. Thread-safe: the writer and the readers share
// one instance; unwrapped keys are cached in memory (keyed by their wrapped form, so a
// key whose creating transaction rolled back is never reused).
class DataKeys {
 public:
  // `kek`: the current KEK (32 bytes). `previous_kek` (or ""): the one before it,
  // accepted until rewrap() has moved every data key to `kek`.
  explicit DataKeys(std::string kek, std::string previous_kek = {});
  ~DataKeys();
  DataKeys(const DataKeys&) = delete;
  DataKeys& operator=(const DataKeys&) = delete;

  // The practice's cipher. On the writer connection a practice without a data key
  // gets one (in the caller's transaction); on a reader, or if the key does not open
  // under either KEK, throws StoreError.
  FieldCipher cipher(Connection& c, const std::string& practice_id);

  // Start-up, on the writer connection inside a transaction: re-wraps every data key
  // that the previous KEK wraps under the current one (the sealed rows are not
  // touched), then checks that every key opens under the current KEK. The number of
  // keys re-wrapped, or kFailedPrecondition naming `kek_key` (the config key) when a
  // key opens under neither: the wrong KEK, or a rotation without the old one.
  Result<int> rewrap_and_check(Connection& c, std::int64_t now_unix_ms, std::string_view kek_key = "kek_file");

  const std::string& kek_id() const { return kek_id_; }

 private:
  struct Cached;
  std::string unwrap(const std::string& practice_id, std::string_view wrapped, bool& with_previous) const;

  std::string kek_;
  std::string previous_kek_;
  std::string kek_id_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Cached>, std::less<>> cache_;  // by practice id
};

// The ciphers of the practices one job meets, each looked up once: build one inside a
// Database job and drop it with the job (it holds the job's connection).
class PracticeCiphers {
 public:
  PracticeCiphers(Connection& c, DataKeys& keys) : c_(c), keys_(keys) {}
  // As DataKeys::cipher (made on first use on the writer; throws StoreError otherwise).
  const FieldCipher& of(const std::string& practice_id);

 private:
  Connection& c_;
  DataKeys& keys_;
  std::map<std::string, FieldCipher, std::less<>> ciphers_;
};

}  // namespace alliance::store
