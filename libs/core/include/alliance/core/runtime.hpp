#pragma once
// What every service main() shares: waiting for SIGINT/SIGTERM and telling a
// launcher it is ready.
#include <filesystem>
#include <map>
#include <string>

#include "alliance/core/asio.hpp"

namespace alliance {

// Completes when the process receives SIGINT or SIGTERM.
asio::awaitable<void> wait_for_stop_signal();

// Writes `{"key": value, ...}` to `path` atomically (temp file + rename), so a
// launcher polling for it never reads half a file. Does nothing for an empty path.
void write_ready_file(const std::filesystem::path& path, const std::map<std::string, long long>& values);

}  // namespace alliance
