#pragma once
// Random bytes from the OS CSPRNG (OpenSSL's RAND_bytes). Safe from any thread.
#include <cstddef>
#include <string>

namespace alliance::crypto {

// `n` random bytes. Throws std::runtime_error only if OpenSSL's generator fails
// (it never returns weak bytes instead).
std::string random_bytes(std::size_t n);

}  // namespace alliance::crypto
