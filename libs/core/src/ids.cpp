#include "alliance/core/ids.hpp"

#include <chrono>
#include <openssl/rand.h>
#include <stdexcept>
#include <string_view>

namespace alliance {

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return out;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string new_id() { return to_hex(random_bytes(16)); }

std::string new_unique_id() {
  static constexpr char kHex[] = "0123456789abcdef";
  thread_local const std::string prefix = to_hex(random_bytes(8));
  thread_local std::uint64_t counter = 0;
  std::string id = prefix;
  id.resize(32);
  std::uint64_t n = ++counter;
  for (std::size_t i = 32; i-- > 16; n >>= 4) id[i] = kHex[n & 0xf];
  return id;
}

std::int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace alliance
