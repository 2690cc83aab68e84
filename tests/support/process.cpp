#include "process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace alliance::testing {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Everything the child needs, prepared before fork() so the child only makes
// async-signal-safe calls (the test process has threads).
struct ExecPlan {
  std::string exe;
  std::vector<std::string> argv_store;
  std::vector<std::string> env_store;
  std::vector<char*> argv;
  std::vector<char*> envp;

  ExecPlan(const fs::path& exe_path, const std::vector<std::string>& args,
           const std::map<std::string, std::string>& env_extra) {
    exe = exe_path.string();
    argv_store.push_back(exe);
    argv_store.insert(argv_store.end(), args.begin(), args.end());
    for (char** e = environ; e && *e; ++e) {
      std::string entry(*e);
      auto eq = entry.find('=');
      std::string key = entry.substr(0, eq);
      if (!env_extra.contains(key)) env_store.push_back(std::move(entry));
    }
    for (auto& [k, v] : env_extra) env_store.push_back(k + "=" + v);
    for (auto& a : argv_store) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_store) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

// Forks and execs; in the child, fds `out_fd`/`err_fd` become stdout/stderr. An exec
// failure is reported through a close-on-exec pipe, so the parent can throw.
pid_t spawn(const ExecPlan& plan, int out_fd, int err_fd, const fs::path& cwd) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) throw std::runtime_error("pipe2: " + errno_text(errno));
  std::string cwd_str = cwd.string();
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(report[0]);
    close(report[1]);
    throw std::runtime_error("fork: " + errno_text(err));
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    close(report[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int stage = 0;
    if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0) stage = 1;
    if (stage == 0 && err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0) stage = 1;
    if (stage == 0 && !cwd_str.empty() && chdir(cwd_str.c_str()) != 0) stage = 2;
    // Signals blocked or ignored by the test runner must not leak into the child.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (stage == 0) {
      execve(plan.exe.c_str(), plan.argv.data(), plan.envp.data());
      stage = 3;
    }
    int msg[2] = {stage, errno};
    ssize_t ignored = write(report[1], msg, sizeof msg);
    (void)ignored;
    _exit(127);
  }
  close(report[1]);
  int msg[2] = {0, 0};
  ssize_t n;
  do {
    n = read(report[0], msg, sizeof msg);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == static_cast<ssize_t>(sizeof msg)) {
    int status = 0;
    waitpid(pid, &status, 0);
    const char* what = msg[0] == 1 ? "redirecting output" : msg[0] == 2 ? "chdir to " : "exec";
    std::string detail = msg[0] == 2 ? what + cwd_str : what;
    throw std::runtime_error("cannot start " + plan.exe + ": " + detail + ": " + errno_text(msg[1]));
  }
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

// ---- TempDir --------------------------------------------------------------

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "alliance-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + tmpl + ": " + errno_text(errno));
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (path_.empty() || std::getenv("ALLIANCE_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    TempDir old(std::move(*this));
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

// ---- free_port / find_executable ------------------------------------------

std::uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket: " + errno_text(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    close(fd);
    throw std::runtime_error("free_port: " + errno_text(err));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

fs::path find_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), X_OK) == 0) return name;
    throw std::runtime_error("not an executable file: " + name);
  }
  const char* path_env = std::getenv("PATH");
  std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error("executable '" + name + "' not found on PATH (" + path + ")");
}

// ---- Process --------------------------------------------------------------

Process Process::start(Options options) {
  if (options.exe.empty()) throw std::runtime_error("Process::start: no exe given");
  if (options.log_file.empty()) throw std::runtime_error("Process::start: no log_file given for " + options.exe.string());
  fs::path exe = find_executable(options.exe.string());
  int log_fd = open(options.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    throw std::runtime_error("cannot open log file " + options.log_file.string() + ": " + errno_text(errno));
  }
  ExecPlan plan(exe, options.args, options.env_extra);
  Process p;
  p.log_file_ = options.log_file;
  try {
    p.pid_ = spawn(plan, log_fd, log_fd, options.cwd);
  } catch (...) {
    close(log_fd);
    throw;
  }
  close(log_fd);
  return p;
}

Process::Process(Process&& other) noexcept
    : pid_(other.pid_), status_(other.status_), log_file_(std::move(other.log_file_)) {
  other.pid_ = -1;
  other.status_.reset();
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    terminate();
    pid_ = other.pid_;
    status_ = other.status_;
    log_file_ = std::move(other.log_file_);
    other.pid_ = -1;
    other.status_.reset();
  }
  return *this;
}

Process::~Process() { terminate(); }

void Process::reap(bool block) {
  if (pid_ <= 0 || status_) return;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = decode_status(status);
  } else if (r < 0 && errno == ECHILD) {
    status_ = -1;  // someone else reaped it; nothing more we can learn
  }
}

bool Process::wait_exit(std::chrono::milliseconds timeout) {
  return wait_until([this] { return !running(); }, timeout);
}

void Process::terminate() {
  if (pid_ <= 0) return;
  reap(false);
  if (status_) return;
  ::kill(pid_, SIGTERM);
  if (!wait_exit(5s)) kill9();
}

void Process::kill9() {
  if (pid_ <= 0) return;
  reap(false);
  if (status_) return;
  ::kill(pid_, SIGKILL);
  reap(true);
}

bool Process::running() {
  if (pid_ <= 0) return false;
  reap(false);
  return !status_.has_value();
}

std::optional<int> Process::exit_code() {
  if (pid_ <= 0) return std::nullopt;
  reap(false);
  return status_;
}

std::string Process::log() const { return read_file(log_file_); }

// ---- run_command ----------------------------------------------------------

CommandOutput run_command(const fs::path& exe_name, const std::vector<std::string>& args,
                          std::chrono::milliseconds timeout, const std::map<std::string, std::string>& env_extra) {
  fs::path exe = find_executable(exe_name.string());
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2: " + errno_text(errno));
  ExecPlan plan(exe, args, env_extra);
  pid_t pid;
  try {
    pid = spawn(plan, out[1], -1, {});
  } catch (...) {
    close(out[0]);
    close(out[1]);
    throw;
  }
  close(out[1]);
  fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
  CommandOutput result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool eof = false;
  int status = 0;
  bool reaped = false;
  char buf[4096];
  while (!eof) {
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n > 0) {
      result.out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno != EAGAIN && errno != EINTR) break;
    if (std::chrono::steady_clock::now() > deadline) {
      close(out[0]);
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      throw std::runtime_error("command timed out: " + exe.string());
    }
    std::this_thread::sleep_for(2ms);
  }
  close(out[0]);
  while (!reaped) {
    pid_t r = waitpid(pid, &status, 0);
    reaped = r == pid || (r < 0 && errno != EINTR);
  }
  result.exit_code = decode_status(status);
  return result;
}

// ---- waiting --------------------------------------------------------------

bool wait_until(std::function<bool()> pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(10ms);
  }
}

std::map<std::string, long long> parse_flat_json_numbers(const std::string& text) {
  std::map<std::string, long long> out;
  std::size_t i = 0;
  auto skip_ws = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  auto fail = [&](const std::string& why) -> void {
    throw std::runtime_error("bad ready file (" + why + " at offset " + std::to_string(i) + "): " + text);
  };
  skip_ws();
  if (i >= text.size() || text[i] != '{') fail("expected '{'");
  ++i;
  skip_ws();
  if (i < text.size() && text[i] == '}') return out;
  while (true) {
    skip_ws();
    if (i >= text.size() || text[i] != '"') fail("expected a key");
    ++i;
    std::string key;
    while (i < text.size() && text[i] != '"') {
      if (text[i] == '\\' && i + 1 < text.size()) ++i;
      key += text[i++];
    }
    if (i >= text.size()) fail("unterminated key");
    ++i;
    skip_ws();
    if (i >= text.size() || text[i] != ':') fail("expected ':'");
    ++i;
    skip_ws();
    std::size_t start = i;
    if (i < text.size() && text[i] == '-') ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || (i == start + 1 && text[start] == '-')) fail("expected a number");
    out[key] = std::stoll(text.substr(start, i - start));
    skip_ws();
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    if (i < text.size() && text[i] == '}') return out;
    fail("expected ',' or '}'");
  }
}

std::map<std::string, long long> wait_for_ready_file(const fs::path& path, std::chrono::milliseconds timeout,
                                                     Process* watch) {
  bool exited = false;
  bool appeared = wait_until(
      [&] {
        std::error_code ec;
        if (fs::exists(path, ec)) return true;
        if (watch != nullptr && !watch->running()) {
          exited = true;
          return true;
        }
        return false;
      },
      timeout);
  // The file may have been written just before the process exited.
  std::error_code ec;
  if (fs::exists(path, ec)) return parse_flat_json_numbers(read_file(path));
  std::string why = exited ? "the process exited (code " + std::to_string(watch->exit_code().value_or(-1)) +
                                 ") before writing ready file "
                           : "timed out after " + std::to_string(timeout.count()) + " ms waiting for ready file ";
  (void)appeared;
  std::string msg = why + path.string();
  if (watch != nullptr) msg += "\n--- process log (" + watch->log_file().string() + ") ---\n" + watch->log();
  throw std::runtime_error(msg);
}

}  // namespace alliance::testing
