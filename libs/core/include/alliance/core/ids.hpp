#pragma once
// Identifiers and time.
#include <cstdint>
#include <string>

namespace alliance {

// 128 random bits from the OS CSPRNG, as 32 lower-case hex digits.
std::string new_id();
// 32 lower-case hex digits that differ from every other such id: 64 random bits per
// thread, then that thread's counter. No random draw per id (OpenSSL's costs more than
// writing the rest of an HTTP answer's header), so not secret and easy to guess from
// another: for ids that only need to differ (request ids in answers and logs, push
// frame ids the client de-duplicates by), never for tokens, keys, or ids a caller must
// not be able to enumerate (new_id). A process that forks must not use it in both.
std::string new_unique_id();
// `n` random bytes from the OS CSPRNG; throws only if the CSPRNG fails.
std::string random_bytes(std::size_t n);
// Milliseconds since the Unix epoch (wall clock).
std::int64_t now_unix_ms();
// Lower-case hex of arbitrary bytes.
std::string to_hex(std::string_view bytes);

}  // namespace alliance
