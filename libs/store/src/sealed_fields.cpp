#include "alliance/store/sealed_fields.hpp"

#include <sqlite3.h>

#include <utility>
#include <vector>

#include "alliance/core/ids.hpp"
#include "alliance/crypto/aead.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/kek.hpp"
#include "alliance/crypto/random.hpp"
#include "alliance/crypto/wipe.hpp"
#include "alliance/store/query.hpp"

namespace alliance::store {
namespace {

constexpr char kSealedVersion = '\x01';
constexpr std::size_t kDataKeySize = crypto::kAes256GcmKeySize;

// table, column and row id, each length-prefixed so no two triples encode alike.
std::string field_aad(std::string_view table, std::string_view column, std::string_view row_id) {
  std::string aad;
  aad.reserve(16 + table.size() + column.size() + row_id.size());
  for (std::string_view part : {table, column, row_id}) {
    const auto n = static_cast<std::uint32_t>(part.size());
    for (int shift = 24; shift >= 0; shift -= 8) aad += static_cast<char>((n >> shift) & 0xff);
    aad += part;
  }
  return aad;
}

std::string key_aad(std::string_view practice_id) { return "alliance data key v1\n" + std::string(practice_id); }

std::string wrap(std::string_view kek, std::string_view practice_id, std::string_view data_key) {
  std::string nonce = crypto::random_bytes(crypto::kAesGcmNonceSize);
  auto sealed = crypto::aes256gcm_seal(kek, nonce, key_aad(practice_id), data_key);
  if (!sealed) throw StoreError(SQLITE_INTERNAL, "data key: " + sealed.error().message);
  return nonce + *sealed;
}

// The data key, or "" if `wrapped` does not open under `kek`.
std::string try_unwrap(std::string_view kek, std::string_view practice_id, std::string_view wrapped) {
  if (kek.empty() || wrapped.size() <= crypto::kAesGcmNonceSize) return {};
  auto key = crypto::aes256gcm_open(kek, wrapped.substr(0, crypto::kAesGcmNonceSize), key_aad(practice_id),
                                    wrapped.substr(crypto::kAesGcmNonceSize));
  if (!key || key->size() != kDataKeySize) return {};
  return std::move(*key);
}

FieldCipher cipher_of(std::string data_key) {
  crypto::WipeOnExit guard(data_key);
  return FieldCipher(crypto::hmac_sha256(data_key, "alliance field seal"),
                     crypto::hmac_sha256(data_key, "alliance lookup hash"));
}

struct WrappedKey {
  std::string practice_id;
  std::string wrapped;
  std::string kek_id;
};

WrappedKey read_wrapped(const Statement& st) { return {st.column_text(0), st.column_blob(1), st.column_text(2)}; }

[[noreturn]] void corrupt(std::string message) { throw StoreError(SQLITE_CORRUPT, std::move(message)); }

// The key `file_key` or `command_key` names, or "" if neither is set and !required.
std::string load_one(const Config& config, const char* file_key, const char* command_key, bool required) {
  crypto::KekSource source;
  source.file_key = file_key;
  source.command_key = command_key;
  if (!config.string(file_key, "").empty()) source.file = config.file(file_key);
  source.command = config.string(command_key, "");
  if (source.empty() && !required) return {};
  auto kek = crypto::load_kek(source);
  if (!kek) throw ConfigError(kek.error().field, "config: key \"" + kek.error().field + "\": " + kek.error().message);
  return std::move(*kek);
}

}  // namespace

KekPair load_kek_pair(const Config& config) {
  KekPair out;
  out.kek = load_one(config, "kek_file", "kek_command", true);
  out.previous_kek = load_one(config, "kek_previous_file", "kek_previous_command", false);
  out.kek_key = config.string("kek_file", "").empty() ? "kek_command" : "kek_file";
  return out;
}

std::string FieldCipher::seal(std::string_view table, std::string_view column, std::string_view row_id,
                              std::string_view plaintext) const {
  std::string nonce = crypto::random_bytes(crypto::kAesGcmNonceSize);
  auto sealed = crypto::aes256gcm_seal(seal_key_, nonce, field_aad(table, column, row_id), plaintext);
  if (!sealed) throw StoreError(SQLITE_TOOBIG, std::string(table) + "." + std::string(column) + ": too large to seal");
  std::string out;
  out.reserve(1 + nonce.size() + sealed->size());
  out += kSealedVersion;
  out += nonce;
  out += *sealed;
  return out;
}

std::string FieldCipher::open(std::string_view table, std::string_view column, std::string_view row_id,
                              std::string_view sealed) const {
  const std::string where =
      std::string(table) + "." + std::string(column) + " of row " + std::string(row_id);
  if (sealed.size() < 1 + crypto::kAesGcmNonceSize + crypto::kAeadTagSize || sealed[0] != kSealedVersion)
    corrupt(where + " is not a sealed field");
  auto plain = crypto::aes256gcm_open(seal_key_, sealed.substr(1, crypto::kAesGcmNonceSize),
                                      field_aad(table, column, row_id), sealed.substr(1 + crypto::kAesGcmNonceSize));
  if (!plain) corrupt(where + " does not open (altered, moved from another row or column, or another key's)");
  return std::move(*plain);
}

std::string FieldCipher::seal_optional(std::string_view table, std::string_view column, std::string_view row_id,
                                       std::string_view plaintext) const {
  return plaintext.empty() ? std::string() : seal(table, column, row_id, plaintext);
}

std::string FieldCipher::open_optional(std::string_view table, std::string_view column, std::string_view row_id,
                                       std::string_view sealed) const {
  return sealed.empty() ? std::string() : open(table, column, row_id, sealed);
}

std::string FieldCipher::lookup_hash(std::string_view column, std::string_view value) const {
  std::string input(column);
  input += '\0';
  input += value;
  crypto::WipeOnExit guard(input);
  return crypto::hmac_sha256(index_key_, input);
}

struct DataKeys::Cached {
  std::string wrapped;
  FieldCipher cipher;
};

DataKeys::DataKeys(std::string kek, std::string previous_kek)
    : kek_(std::move(kek)), previous_kek_(std::move(previous_kek)), kek_id_(crypto::kek_id(kek_)) {
  if (kek_.size() != crypto::kKekSize) throw std::invalid_argument("DataKeys: the KEK must be 32 bytes");
}

DataKeys::~DataKeys() {
  crypto::wipe(kek_);
  crypto::wipe(previous_kek_);
}

std::string DataKeys::unwrap(const std::string& practice_id, std::string_view wrapped, bool& with_previous) const {
  with_previous = false;
  std::string key = try_unwrap(kek_, practice_id, wrapped);
  if (key.empty()) {
    key = try_unwrap(previous_kek_, practice_id, wrapped);
    with_previous = !key.empty();
  }
  return key;
}

FieldCipher DataKeys::cipher(Connection& c, const std::string& practice_id) {
  auto stored = query_one(c, "SELECT practice_id, wrapped, kek_id FROM data_keys WHERE practice_id = ?1",
                          read_wrapped, practice_id);
  if (!stored) {
    if (sqlite3_db_readonly(c.handle(), "main") == 1)
      corrupt("data_keys: practice " + practice_id + " has no data key");
    std::string data_key = crypto::random_bytes(kDataKeySize);
    crypto::WipeOnExit guard(data_key);
    execute(c, "INSERT INTO data_keys (practice_id, wrapped, kek_id, created_unix_ms) VALUES (?1, ?2, ?3, ?4)",
            practice_id, Blob{wrap(kek_, practice_id, data_key)}, kek_id_, now_unix_ms());
    // Not cached: the caller's transaction may still roll back.
    return cipher_of(data_key);
  }
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(practice_id);
    if (it != cache_.end() && it->second->wrapped == stored->wrapped) return it->second->cipher;
  }
  bool with_previous = false;
  std::string data_key = unwrap(practice_id, stored->wrapped, with_previous);
  if (data_key.empty())
    corrupt("data_keys: the data key of practice " + practice_id + " does not open under the configured KEK");
  auto cached = std::make_unique<Cached>(Cached{stored->wrapped, cipher_of(std::move(data_key))});
  FieldCipher out = cached->cipher;
  std::lock_guard lock(mutex_);
  cache_[practice_id] = std::move(cached);
  return out;
}

const FieldCipher& PracticeCiphers::of(const std::string& practice_id) {
  auto it = ciphers_.find(practice_id);
  if (it == ciphers_.end()) it = ciphers_.emplace(practice_id, keys_.cipher(c_, practice_id)).first;
  return it->second;
}

Result<int> DataKeys::rewrap_and_check(Connection& c, std::int64_t now_unix_ms, std::string_view kek_key) {
  const std::string name(kek_key);
  auto keys = query_all(c, "SELECT practice_id, wrapped, kek_id FROM data_keys ORDER BY practice_id", read_wrapped);
  int rewrapped = 0;
  std::vector<std::string> refused;
  for (const auto& k : keys) {
    bool with_previous = false;
    std::string data_key = unwrap(k.practice_id, k.wrapped, with_previous);
    crypto::WipeOnExit guard(data_key);
    if (data_key.empty()) {
      refused.push_back(k.kek_id);
      continue;
    }
    if (!with_previous) continue;
    execute(c, "UPDATE data_keys SET wrapped = ?2, kek_id = ?3, rewrapped_unix_ms = ?4 WHERE practice_id = ?1",
            k.practice_id, Blob{wrap(kek_, k.practice_id, data_key)}, kek_id_, now_unix_ms);
    ++rewrapped;
  }
  if (!refused.empty()) {
    return Error{Code::kFailedPrecondition,
                 name + ": this key (id " + kek_id_ + ") does not open " + std::to_string(refused.size()) + " of " +
                     std::to_string(keys.size()) + " data keys, which key id " + refused.front() +
                     " wrapped; start with that key, or to rotate set the new key here and the old one as the "
                     "previous key",
                 name};
  }
  return rewrapped;
}

}  // namespace alliance::store
