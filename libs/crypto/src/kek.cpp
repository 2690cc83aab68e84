#include "alliance/crypto/kek.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "alliance/core/ids.hpp"
#include "alliance/crypto/encoding.hpp"
#include "alliance/crypto/wipe.hpp"

extern char** environ;

namespace alliance::crypto {
namespace {

constexpr std::size_t kMaxKeyOutput = 4096;
constexpr auto kCommandTimeout = std::chrono::seconds(10);

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The key in `text` (64 hex digits and an optional newline, or 32 raw bytes).
Result<std::string> parse_key(std::string_view text, const std::string& key_name) {
  std::string_view hex = text;
  if (!hex.empty() && hex.back() == '\n') hex.remove_suffix(1);
  if (hex.size() == 2 * kKekSize) {
    std::string key(kKekSize, '\0');
    bool ok = true;
    for (std::size_t i = 0; i < kKekSize && ok; ++i) {
      const int hi = hex_value(hex[2 * i]);
      const int lo = hex_value(hex[2 * i + 1]);
      ok = hi >= 0 && lo >= 0;
      key[i] = static_cast<char>(ok ? hi * 16 + lo : 0);
    }
    if (ok) return key;
    wipe(key);
  }
  if (text.size() == kKekSize) return std::string(text);
  return invalid_argument(key_name, key_name + ": is not a key (64 hex digits and an optional newline, or 32 bytes; " +
                                        std::to_string(text.size()) + " bytes read)");
}

Result<std::string> read_file(const KekSource& s) {
  const std::string& name = s.file_key;
  struct stat st {};
  if (::stat(s.file.c_str(), &st) != 0)
    return invalid_argument(name, name + ": cannot read " + s.file.string() + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return invalid_argument(name, name + ": " + s.file.string() + " is not a regular file");
  if ((st.st_mode & 077) != 0)
    return invalid_argument(name, name + ": " + s.file.string() +
                                      " may be read or written by others; chmod 600 it (it holds the key that "
                                      "opens every data key)");
  std::ifstream in(s.file, std::ios::binary);
  std::string text;
  char buf[kMaxKeyOutput + 1];
  in.read(buf, sizeof buf);
  text.assign(buf, static_cast<std::size_t>(in.gcount()));
  OPENSSL_cleanse(buf, sizeof buf);
  WipeOnExit guard(text);
  if (!in.eof() && !in.good())
    return invalid_argument(name, name + ": cannot read " + s.file.string());
  return parse_key(text, name);
}

std::vector<std::string> split_words(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  for (char c : line) {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// Runs the command as the header says; its stdout, or the reason it failed.
Result<std::string> run_command(const KekSource& s) {
  const std::string& name = s.command_key;
  auto fail = [&](const std::string& why) { return invalid_argument(name, name + ": " + why); };
  auto words = split_words(s.command);
  if (words.empty()) return fail("is empty");
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return fail(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return fail("cannot run " + words[0] + ": " + std::strerror(rc));
  }

  std::string text;
  text.reserve(kMaxKeyOutput + 1);
  WipeOnExit guard(text);
  const auto deadline = std::chrono::steady_clock::now() + kCommandTimeout;
  std::string problem;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      problem = "did not finish within " + std::to_string(kCommandTimeout.count()) + " s";
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buf[512];
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the command closed its stdout
    if (text.size() + static_cast<std::size_t>(n) > kMaxKeyOutput) {
      problem = "printed more than " + std::to_string(kMaxKeyOutput) + " bytes";
      OPENSSL_cleanse(buf, sizeof buf);
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
    OPENSSL_cleanse(buf, sizeof buf);
  }
  ::close(out[0]);
  if (!problem.empty()) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!problem.empty()) return fail(words[0] + " " + problem);
  if (WIFSIGNALED(status)) return fail(words[0] + " was killed by signal " + std::to_string(WTERMSIG(status)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return fail(words[0] + " exited with status " + std::to_string(WEXITSTATUS(status)));
  return parse_key(text, name);
}

}  // namespace

Result<std::string> load_kek(const KekSource& source) {
  if (!source.file.empty() && !source.command.empty())
    return invalid_argument(source.file_key, source.file_key + ": set either it or " + source.command_key + ", not both");
  if (source.empty())
    return invalid_argument(source.file_key, source.file_key + ": is required (or " + source.command_key +
                                                 "): the key that wraps the data keys of personal data at rest");
  return source.file.empty() ? run_command(source) : read_file(source);
}

std::string kek_id(std::string_view kek) {
  return to_hex(std::string_view(hmac_sha256(kek, "alliance kek id")).substr(0, 8));
}

}  // namespace alliance::crypto
