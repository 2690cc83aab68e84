#pragma once
// RFC 4648 base32 (upper case, no padding, as otpauth:// URIs carry a secret) back to
// bytes, as an authenticator app reads it: for tests that compute the codes an app would
// show. Characters outside the alphabet are skipped.
#include <cstdint>
#include <string>
#include <string_view>

namespace alliance::testing {

inline std::string base32_decode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char ch : text) {
    const int v = ch >= 'A' && ch <= 'Z' ? ch - 'A' : ch >= '2' && ch <= '7' ? ch - '2' + 26 : -1;
    if (v < 0) continue;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace alliance::testing
