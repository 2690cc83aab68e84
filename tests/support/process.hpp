#pragma once
// Test support: temp folders, free ports, child processes and ready files.
// Everything here is blocking and meant for the test's own (main) thread.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace alliance::testing {

// A fresh folder under the system temp dir ("alliance-XXXXXX"); removed with its
// contents on destruction unless the environment variable ALLIANCE_KEEP_TEST_DIRS is set.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Binds 127.0.0.1:0, reads the port the kernel chose and closes the socket. Another
// process may take the port before you bind it; callers that care retry.
std::uint16_t free_port();

// `name` if it contains a '/', otherwise the first executable `name` on $PATH.
// Throws std::runtime_error if none is found.
std::filesystem::path find_executable(const std::string& name);

// A child process started with fork/exec whose stdout and stderr are appended to
// a log file. Move-only; the destructor stops it (SIGTERM, up to 5 s, then SIGKILL)
// and reaps it, so no zombie is ever left. The child also gets SIGKILL if the
// thread that started it dies (PR_SET_PDEATHSIG), so a crashed test leaves no
// orphan: start processes from the test's main thread.
class Process {
 public:
  struct Options {
    std::filesystem::path exe;                      // a path, or a bare name looked up on $PATH
    std::vector<std::string> args;                  // argv[1..]
    std::map<std::string, std::string> env_extra;   // added to (or replacing in) our environment
    std::filesystem::path log_file;                 // required: stdout + stderr are appended here
    std::filesystem::path cwd;                      // empty: inherit ours
  };

  // Throws std::runtime_error with a clear message if the exe is missing or exec fails.
  static Process start(Options options);

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  void terminate();   // SIGTERM, wait up to 5 s for exit, then SIGKILL; returns once reaped
  void kill9();       // SIGKILL and wait for exit
  bool running();     // false once the child has exited (reaps it)
  // The exit status once it has exited; a child killed by signal S reports 128 + S.
  std::optional<int> exit_code();
  pid_t pid() const { return pid_; }
  const std::filesystem::path& log_file() const { return log_file_; }
  std::string log() const;  // the log file's whole content ("" if none yet)

  // Blocks until the child exits or `timeout` passes; true if it exited.
  bool wait_exit(std::chrono::milliseconds timeout);

 private:
  Process() = default;
  void reap(bool block);

  pid_t pid_ = -1;
  std::optional<int> status_;  // set once reaped
  std::filesystem::path log_file_;
};

// Runs `exe args...` (with `env_extra` added to our environment) to completion and
// returns its stdout (stderr goes to ours).
// Throws std::runtime_error if it cannot start or runs longer than `timeout` (it is killed).
struct CommandOutput {
  int exit_code = 0;
  std::string out;
};
CommandOutput run_command(const std::filesystem::path& exe, const std::vector<std::string>& args,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10),
                          const std::map<std::string, std::string>& env_extra = {});

// Polls pred() every 10 ms until it is true or `timeout` passes; returns pred()'s last value.
bool wait_until(std::function<bool()> pred, std::chrono::milliseconds timeout);

// Waits for a ready file (written atomically by a service, see core runtime.hpp
// write_ready_file) and parses its flat JSON {"key": number} object. Throws
// std::runtime_error, with the process log if `watch` is given, when the file does
// not appear in time or the watched process exits first.
std::map<std::string, long long> wait_for_ready_file(const std::filesystem::path& path,
                                                     std::chrono::milliseconds timeout,
                                                     Process* watch = nullptr);

// Parses a flat JSON object of integers, e.g. {"port":8443,"pid":12}. Throws on bad input.
std::map<std::string, long long> parse_flat_json_numbers(const std::string& text);

}  // namespace alliance::testing
