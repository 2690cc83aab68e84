#pragma once
// What every service main() shares: private file modes, waiting for SIGINT/SIGTERM
// and telling a launcher it is ready.
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "alliance/core/asio.hpp"
#include "alliance/core/config.hpp"
#include "alliance/core/log.hpp"

namespace alliance {

// Sets the process umask to 077, so every file and folder the service creates (its
// database and the database's -wal/-shm, ready files) is readable by its own user only,
// whatever umask it was started with. Call first in main().
void keep_new_files_private();

// The CPUs this process may run on (its affinity mask, so taskset and cpusets count),
// at least 1: the default number of I/O threads.
unsigned usable_cores();

// The `threads` key every server reads: its I/O threads, default usable_cores(),
// 1..256 (a bad value throws ConfigError naming the key).
std::size_t io_threads(const Config& config);

// A service's configuration, `load(Config::load(service, argc, argv))`, with the log
// started at its log_level. A bad or unknown key is logged naming it and gives nullopt:
// main() then returns 1.
template <class Load>
auto load_service_config(std::string_view service, int argc, char** argv, Load load)
    -> std::optional<std::invoke_result_t<Load, const Config&>> {
  std::optional<std::invoke_result_t<Load, const Config&>> cfg;
  try {
    cfg.emplace(load(Config::load(service, argc, argv)));
  } catch (const ConfigError& e) {
    log::init(service);
    log::error(e.what(), {{"key", e.key()}});
    return std::nullopt;
  }
  log::init(service, cfg->log_level);
  return cfg;
}

// A service's SIGINT/SIGTERM. Made in main() before the ready file is written: a
// launcher that reads the ready file may stop the service at once, before wait()
// listens, and from the constructor on such a stop is remembered for wait() instead
// of ending the process with the signal's default action (nothing drained or sealed).
class StopSignals {
 public:
  StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  // Completes when the process receives SIGINT or SIGTERM, or did since construction.
  asio::awaitable<void> wait() const;
};

// The completion handler for co_spawn of a long-running loop: an exception that
// escapes it is logged at error as `what` with its reason (nothing is logged on a
// normal return).
std::function<void(std::exception_ptr)> log_escaped(std::string what);

// Writes `{"key": value, ...}` to `path` atomically (temp file + rename), so a
// launcher polling for it never reads half a file; nothing is written for an empty
// path. Takes the process's StopSignals, so the ready file cannot come before them.
void write_ready_file(const StopSignals& stops, const std::filesystem::path& path,
                      const std::map<std::string, long long>& values);

}  // namespace alliance
