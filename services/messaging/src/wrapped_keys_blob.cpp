#include "wrapped_keys_blob.hpp"

#include <algorithm>
#include <cstdint>

namespace alliance::messaging {
namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kMaxIdSize = 0xff;
constexpr std::size_t kMaxKeySize = 0xffff;
constexpr std::size_t kMaxCount = 0xffff;

void put_u16(std::string& out, std::size_t v) {
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

Error corrupt(std::string_view what) { return make_error(Code::kInternal, "wrapped keys: " + std::string(what)); }

// Reads a blob front to back; every take checks what is left first.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u8(std::size_t& v) {
    if (in_.empty()) return false;
    v = static_cast<unsigned char>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool u16(std::size_t& v) {
    if (in_.size() < 2) return false;
    v = (std::size_t{static_cast<unsigned char>(in_[0])} << 8) | static_cast<unsigned char>(in_[1]);
    in_.remove_prefix(2);
    return true;
  }
  bool bytes(std::size_t n, std::string_view& v) {
    if (in_.size() < n) return false;
    v = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

// Calls visit(device_id, wrapped) for each key; an error if the blob is malformed
// anywhere, even after the key a caller was looking for.
template <class Visit>
Status walk(std::string_view blob, Visit visit) {
  Reader r(blob);
  std::size_t version = 0, count = 0;
  if (!r.u8(version)) return corrupt("empty");
  if (version != kVersion) return corrupt("unknown version " + std::to_string(version));
  if (!r.u16(count)) return corrupt("truncated count");
  std::string_view previous;
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t id_size = 0, key_size = 0;
    std::string_view id, key;
    const std::string at = "key " + std::to_string(i) + " of " + std::to_string(count);
    if (!r.u8(id_size) || id_size == 0 || !r.bytes(id_size, id)) return corrupt(at + ": bad device id length");
    if (!r.u16(key_size) || key_size == 0 || !r.bytes(key_size, key)) return corrupt(at + ": bad key length");
    if (i > 0 && id <= previous) return corrupt(at + ": device ids out of order or repeated");
    previous = id;
    visit(id, key);
  }
  if (!r.done()) return corrupt("bytes after the last key");
  return {};
}

}  // namespace

Result<std::string> encode_wrapped_keys(const std::vector<StoredKey>& keys) {
  if (keys.size() > kMaxCount) return invalid_argument("keys", "keys: at most 65535 wrapped keys");
  std::vector<const StoredKey*> order;
  order.reserve(keys.size());
  std::size_t size = 3;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& k = keys[i];
    const std::string field = "keys[" + std::to_string(i) + "]";
    if (k.device_id.empty() || k.device_id.size() > kMaxIdSize)
      return invalid_argument(field + ".device_id", field + ".device_id: must be 1 to 255 bytes");
    if (k.wrapped.empty() || k.wrapped.size() > kMaxKeySize)
      return invalid_argument(field + ".wrapped_key", field + ".wrapped_key: must be 1 to 65535 bytes");
    order.push_back(&k);
    size += 3 + k.device_id.size() + k.wrapped.size();
  }
  std::sort(order.begin(), order.end(), [](const StoredKey* a, const StoredKey* b) { return a->device_id < b->device_id; });
  for (std::size_t i = 1; i < order.size(); ++i)
    if (order[i]->device_id == order[i - 1]->device_id)
      return invalid_argument("keys", "keys: device " + order[i]->device_id + " listed twice");
  std::string out;
  out.reserve(size);
  out.push_back(static_cast<char>(kVersion));
  put_u16(out, keys.size());
  for (const auto* k : order) {
    out.push_back(static_cast<char>(k->device_id.size()));
    out += k->device_id;
    put_u16(out, k->wrapped.size());
    out += k->wrapped;
  }
  return out;
}

Result<std::vector<StoredKey>> decode_wrapped_keys(std::string_view blob) {
  std::vector<StoredKey> out;
  auto ok = walk(blob, [&out](std::string_view id, std::string_view key) {
    out.push_back({std::string(id), std::string(key)});
  });
  if (!ok) return ok.error();
  return out;
}

Result<std::optional<std::string>> wrapped_key_of(std::string_view blob, std::string_view device_id) {
  std::optional<std::string> found;
  auto ok = walk(blob, [&](std::string_view id, std::string_view key) {
    if (id == device_id && !found) found.emplace(key);
  });
  if (!ok) return ok.error();
  return found;
}

}  // namespace alliance::messaging
