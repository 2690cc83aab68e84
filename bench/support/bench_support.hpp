#pragma once
// What the benchmark tools share: argument parsing, loopback checks, reading a
// process's CPU time and memory from /proc, and passwords for the users they make. Plain functions, any thread.
#include <functional>
#include <map>
#include <string>

#include "alliance/core/result.hpp"

namespace alliance::bench {

// A process whose CPU time and memory a benchmark reports ("gateway=1234").
struct Watched {
  std::string name;
  int pid = 0;
  bool rest = false;  // counted with the rest of the system, not shown on its own
};

// `value` as an int in [min, max]; an Error naming `key` otherwise.
Result<int> parse_int(const std::string& key, const std::string& value, int min, int max);
// A bounded integer option ("--clients" into `value`, within [min, max]).
struct IntFlag {
  int* value;
  int min, max;
};
// Parses "--key value" pairs: a key of `text` sets that string, a key of `ints` that
// integer (checked with parse_int); any other key goes to `other`, which returns an
// Error for one it does not know (without `other`: "--key: unknown option").
// --help or -h is the Error "help".
Status parse_flags(int argc, char** argv, const std::map<std::string, std::string*, std::less<>>& text,
                   const std::map<std::string, IntFlag, std::less<>>& ints,
                   const std::function<Status(const std::string& key, const std::string& value)>& other = {});

// "NAME=PID"; an Error naming `key` otherwise.
Result<Watched> parse_watched(const std::string& key, const std::string& value);

// Benchmarks only ever load this machine: 127.x, ::1 or localhost.
bool is_loopback(const std::string& host);

// A fresh random password identity accepts: 16 consonants and 16 digits taken at
// random and alternated ("k7T3x9..."; 163 bits), so it never holds a run like "abcd"
// or "0000", four letters of a user's name, or what cracklib calls systematic (one hex
// string in ~200 was refused as that). Kept in memory only.
std::string random_password();

// CPU seconds (user + system) a process has used so far; -1 if it is gone (or a zombie).
double cpu_seconds(int pid);
// CPU seconds this process has used so far.
double self_cpu_seconds();
// Bytes a process has caused to be written to storage so far ("write_bytes" of
// /proc/PID/io: file pages it dirtied, not socket writes); -1 if unreadable or gone.
double written_bytes(int pid);
// "VmRSS 1234 kB (VmHWM 2345 kB)" from /proc/PID/status; "gone" if it is.
std::string memory_of(int pid);
// VmRSS of a process in KiB; -1 if it is gone.
long rss_kib(int pid);
// The machine's MemAvailable in KiB (/proc/meminfo): kernel memory such as socket
// buffers counts here, not in any process's VmRSS.
long mem_available_kib();
// This machine's (container's) memory cgroup in KiB: everything charged to it, the
// kernel's objects (slab, TCP and TLS state; v1 memory.kmem.usage_in_bytes, v2 the
// "kernel" of memory.stat) and socket buffers (v1 memory.kmem.tcp.usage_in_bytes, v2
// "sock"). -1 where not readable. Every process of the cgroup counts, not only ours.
struct CgroupMemory {
  long total_kib = -1;
  long kernel_kib = -1;
  long sockets_kib = -1;
};
CgroupMemory cgroup_memory();
// The 1-minute load average.
double load_1min();

}  // namespace alliance::bench
