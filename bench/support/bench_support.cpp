#include "bench_support.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <initializer_list>
#include <random>
#include <string_view>
#include <sstream>
#include <stdexcept>


namespace alliance::bench {

Result<int> parse_int(const std::string& key, const std::string& value, int min, int max) {
  int v = 0;
  try {
    std::size_t used = 0;
    v = std::stoi(value, &used);
    if (used != value.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    return invalid_argument(key, key + ": not a number");
  }
  if (v < min || v > max)
    return invalid_argument(key, key + ": must be between " + std::to_string(min) + " and " + std::to_string(max));
  return v;
}

Result<Watched> parse_watched(const std::string& key, const std::string& value) {
  auto eq = value.rfind('=');
  if (eq == std::string::npos || eq == 0) return invalid_argument(key, key + ": expected NAME=PID");
  auto pid = parse_int(key, value.substr(eq + 1), 1, 1 << 30);
  if (!pid) return pid.error();
  return Watched{value.substr(0, eq), *pid};
}

std::string random_password() {
  static constexpr std::string_view kLetters = "bcdfghjkmnpqrstvwxzBCDFGHJKLMNPQRSTVWXZ";
  static constexpr std::string_view kDigits = "23456789";
  std::random_device random;
  std::string out;
  for (int i = 0; i < 32; ++i) {
    const auto& set = i % 2 == 0 ? kLetters : kDigits;
    out += set[std::uniform_int_distribution<std::size_t>(0, set.size() - 1)(random)];
  }
  return out;
}

Status parse_flags(int argc, char** argv, const std::map<std::string, std::string*, std::less<>>& text,
                   const std::map<std::string, IntFlag, std::less<>>& ints,
                   const std::function<Status(const std::string& key, const std::string& value)>& other) {
  for (int i = 1; i < argc; ++i) {
    std::string key = argv[i];
    if (key == "--help" || key == "-h") return invalid_argument("", "help");
    if (i + 1 >= argc) return invalid_argument(key, key + ": needs a value");
    std::string value = argv[++i];
    if (auto t = text.find(key); t != text.end()) {
      *t->second = value;
    } else if (auto n = ints.find(key); n != ints.end()) {
      auto v = parse_int(key, value, n->second.min, n->second.max);
      if (!v) return v.error();
      *n->second.value = *v;
    } else if (other) {
      if (auto st = other(key, value); !st) return st;
    } else {
      return invalid_argument(key, key + ": unknown option");
    }
  }
  return {};
}

bool is_loopback(const std::string& host) {
  return host.rfind("127.", 0) == 0 || host == "::1" || host == "[::1]" || host == "localhost";
}

double cpu_seconds(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(f, stat)) return -1;
  auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field, state;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14 and 15 (1-based)
    if (i == 3) state = field;
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  if (state == "Z" || state == "X") return -1;
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double written_bytes(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/io");
  std::string key;
  double value = 0;
  while (f >> key >> value)
    if (key == "write_bytes:") return value;
  return -1;
}

double self_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

std::string memory_of(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line, rss, hwm;
  while (std::getline(f, line)) {
    auto value = [&] {
      auto v = line.substr(6);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    };
    if (line.rfind("VmRSS:", 0) == 0) rss = value();
    if (line.rfind("VmHWM:", 0) == 0) hwm = value();
  }
  if (rss.empty()) return "gone";
  return "VmRSS " + rss + " (VmHWM " + hwm + ")";
}

namespace {

// The number after `key` in a "Key:   1234 kB" file; -1 if absent.
long kib_field(const std::string& file, std::string_view key) {
  std::ifstream f(file);
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
  return -1;
}

}  // namespace

long rss_kib(int pid) { return kib_field("/proc/" + std::to_string(pid) + "/status", "VmRSS:"); }

long mem_available_kib() { return kib_field("/proc/meminfo", "MemAvailable:"); }

namespace {

long bytes_file_kib(const std::string& file) {
  std::ifstream f(file);
  long long bytes = -1;
  if (!(f >> bytes) || bytes < 0) return -1;
  return static_cast<long>(bytes / 1024);
}

// The sum of `keys` (bytes) in a cgroup v2 memory.stat; -1 if none is there.
long stat_sum_kib(const std::string& file, std::initializer_list<std::string_view> keys) {
  std::ifstream f(file);
  std::string key;
  long long value = 0, sum = 0;
  bool found = false;
  while (f >> key >> value)
    for (auto k : keys)
      if (key == k) {
        sum += value;
        found = true;
      }
  return found ? static_cast<long>(sum / 1024) : -1;
}

}  // namespace

CgroupMemory cgroup_memory() {
  CgroupMemory m;
  m.total_kib = bytes_file_kib("/sys/fs/cgroup/memory/memory.usage_in_bytes");  // v1
  if (m.total_kib >= 0) {
    m.kernel_kib = bytes_file_kib("/sys/fs/cgroup/memory/memory.kmem.usage_in_bytes");
    m.sockets_kib = bytes_file_kib("/sys/fs/cgroup/memory/memory.kmem.tcp.usage_in_bytes");
    return m;
  }
  m.total_kib = bytes_file_kib("/sys/fs/cgroup/memory.current");  // v2
  if (m.total_kib >= 0) {
    m.kernel_kib = stat_sum_kib("/sys/fs/cgroup/memory.stat", {"kernel"});
    m.sockets_kib = stat_sum_kib("/sys/fs/cgroup/memory.stat", {"sock"});
  }
  return m;
}

double load_1min() {
  std::ifstream f("/proc/loadavg");
  double load = -1;
  f >> load;
  return load;
}

}  // namespace alliance::bench
