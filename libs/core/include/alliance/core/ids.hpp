#pragma once
// Identifiers and time.
#include <cstdint>
#include <string>

namespace alliance {

// 128 random bits from the OS CSPRNG, as 32 lower-case hex digits.
std::string new_id();
// `n` random bytes from the OS CSPRNG; throws only if the CSPRNG fails.
std::string random_bytes(std::size_t n);
// Milliseconds since the Unix epoch (wall clock).
std::int64_t now_unix_ms();
// Lower-case hex of arbitrary bytes.
std::string to_hex(std::string_view bytes);

}  // namespace alliance
