#pragma once
// ExpiringMap: string-keyed values that stop being answered once their expiry time
// has passed, for caches of another service's answers. Expired entries stay until
// overwritten or cleared (callers bound the size and clear). Not thread-safe: owned
// by the executor of the cache that holds it.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace alliance {

template <class V>
class ExpiringMap {
 public:
  // The value if it is there and expires after now_ms; nullptr otherwise. The pointer
  // is valid until the next put() or clear().
  const V* find(std::string_view key, std::int64_t now_ms) const {
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.expires_ms <= now_ms) return nullptr;
    return &it->second.value;
  }
  void put(std::string key, V value, std::int64_t expires_ms) {
    entries_.insert_or_assign(std::move(key), Entry{std::move(value), expires_ms});
  }
  void clear() { entries_.clear(); }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    V value;
    std::int64_t expires_ms;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace alliance
