#pragma once
// The key-encryption key (KEK): the one secret that wraps the services' data keys
// (store/sealed_fields.hpp). It is kept outside the data directory: read from a file
// or printed by an external command (a KMS client, a secrets manager). Blocking:
// call at start-up only.
//
// The key's form, in the file or on the command's stdout: 64 hex digits (upper or
// lower case), optionally followed by one newline; or exactly 32 raw bytes.
//
// The file must be a regular file that neither group nor others can read or write
// (mode 0600 or 0400). The command line is split on spaces and tabs into argv and run
// without a shell (no quoting, no variables, no globbing): the first word is looked up
// on PATH, stdin is /dev/null, stderr and the environment are the service's. It must
// print the key and exit 0 within 10 seconds; more than 4 KiB of output, another exit
// status, a signal or the time limit fail the start with the reason.
#include <filesystem>
#include <string>
#include <string_view>

#include "alliance/core/result.hpp"

namespace alliance::crypto {

inline constexpr std::size_t kKekSize = 32;

// Where the KEK comes from: exactly one of `file` and `command`. `file_key` and
// `command_key` are the config keys that set them, named in errors.
struct KekSource {
  std::filesystem::path file;
  std::string command;
  std::string file_key = "kek_file";
  std::string command_key = "kek_command";

  bool empty() const { return file.empty() && command.empty(); }
};

// The 32-byte KEK, or kInvalidArgument naming the config key and what is wrong (both
// or neither set, unreadable, too open, not a key, the command failed). The error
// never holds key bytes.
Result<std::string> load_kek(const KekSource& source);

// A public name for a key that identifies it without revealing it: 16 hex digits of
// HMAC-SHA-256(key, "alliance kek id"). Stored beside what the key wraps, so a start
// with the wrong key says so plainly.
std::string kek_id(std::string_view kek);

}  // namespace alliance::crypto
