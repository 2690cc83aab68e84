// alliance-reminders-bench: the reminders benchmark behind bench/reminders.sh.
// Through a running gateway (loopback only) it sets up a practice with T therapists
// (open around the clock in UTC), C clients and a 30-minute appointment type on a
// 5-minute grid, a reminder policy of five offsets without quiet hours, and books
// appointments from day 15 on so that each gets five planned reminders. It opens one
// authenticated WebSocket per client (all on one io_context thread, bench/support/sockets.cpp) and
// then, as tests/integration/reminders_test.cpp does, makes chosen planned reminders
// due at chosen instants: one transaction in the reminders service's SQLite file
// moves their due_ms, and a PUBLISH on reminders:wake wakes the service, which
// leases and fires them through its normal path. It measures
//   a) N reminders due evenly over S seconds: lateness, due instant -> frame read
//      from the client's socket (system clock on both sides), p50/p90/p99/max;
//   b) M reminders due at one instant: time until the last one is received;
//   c) M more at one instant with a second alliance-reminders instance on the same
//      database (started by --start-second): the instance holding the leases (the
//      lease_owner column) is killed with SIGKILL in the middle of the burst, and
//      it reports reminders lost, shown twice, raw duplicate frames, and the
//      takeover (the survivor's first delivery after the kill).
// Every frame is kept with its receive instant and parsed only after the phase: the
// client's de-duplication is the SDK's ReminderInbox, one per client. With --watch
// and --instance it prints each process's CPU time per reminder and its memory, and
// the 1-minute load average with each phase. Figures on stdout, progress on stderr,
// last line "RESULT k=v ...". Exit 0 only if nothing was lost, shown twice,
// malformed or delivered to the wrong client and every socket stayed open.
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "alliance/client/client.hpp"
#include "alliance/client/reminders.hpp"
#include "alliance/client/wire.hpp"
#include "alliance/core/ids.hpp"
#include "alliance/redis/client.hpp"
#include "alliance/store/connection.hpp"
#include "alliance/store/query.hpp"
#include "sockets.hpp"
#include "bench_support.hpp"
#include "redis_flags.hpp"

namespace alliance::bench {
namespace {

namespace json = boost::json;
using SysClock = std::chrono::system_clock;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kRequestTimeout = 30s;
constexpr int kSetupThreads = 8;
constexpr int kFirstDay = 15;  // appointments start after the largest offset (14 days)
constexpr std::array<int, 5> kOffsets = {20160, 10080, 4320, 1440, 120};
constexpr std::int64_t kLeadMs = 3000;  // a phase's first due instant after its reminders were moved

struct Options {
  std::string url;
  std::filesystem::path ca, operator_token_file, database;
  RedisFlags redis;  // logs in as the reminders ACL user (with its password file when set)
  std::string slug;
  int clients = 1000;
  int therapists = 20;
  int spread = 5000;
  int spread_seconds = 10;
  int burst = 10000;
  int failover_burst = 10000;  // 0: no phase c
  int kill_at_ms = -1;         // after the due instant; -1: half of what phase b took
  int lease_ms = 1000;         // the service's lease, for how long phase c waits
  int idle_seconds = 3;        // CPU of the watched processes with every socket open and nothing due
  double settle_load = 0;      // before each phase, wait until the 1-minute load is at most this (0: don't)
  int settle_max_seconds = 45; // ... but no longer than this
  std::string start_second;    // command that starts the second instance and prints NAME=PID
  std::vector<Watched> instances;  // alliance-reminders: lease name = PID
  std::vector<Watched> watch;      // other processes
};

std::string usage() {
  return "usage: alliance-reminders-bench --url https://127.0.0.1:PORT --ca CA.pem --operator-token-file FILE\n"
         "         --database REMINDERS.db --redis HOST:PORT [--redis-password-file FILE]\n"
         "         [--redis-ca CA.pem [--redis-cert CERT.pem --redis-key KEY.pem]]\n"
         "         --instance NAME=PID [--watch name=PID]...\n"
         "         [--watch-rest name=PID]...\n"
         "         [--start-second COMMAND] [--clients 1000] [--therapists 20] [--spread 5000]\n"
         "         [--spread-seconds 10] [--burst 10000] [--failover-burst 10000] [--kill-at-ms N]\n"
         "         [--lease-ms 1000] [--idle-seconds 3] [--settle-load 0.8 [--settle-max 45]] [--slug NAME]\n"
         "Loopback gateways only. The operator token is read from the file, never from the command line.\n"
         "--instance names a running alliance-reminders by its lease name (its `instance` setting) and pid;\n"
         "--start-second runs COMMAND (sh -c) before phase c; it must start another instance on the same\n"
         "database and print NAME=PID on its last line. --failover-burst 0 skips phase c.\n";
}

Result<Options> parse_options(int argc, char** argv) {
  Options o;
  std::string ca, token_file, database;
  std::map<std::string, std::string*, std::less<>> text{
      {"--url", &o.url}, {"--ca", &ca}, {"--operator-token-file", &token_file}, {"--database", &database},
      {"--slug", &o.slug}, {"--start-second", &o.start_second}};
  o.redis.add_to(text);
  auto parsed = parse_flags(
      argc, argv, text,
      {{"--clients", {&o.clients, 1, 5000}}, {"--therapists", {&o.therapists, 1, 200}},
       {"--spread", {&o.spread, 0, 100000}}, {"--spread-seconds", {&o.spread_seconds, 1, 120}},
       {"--burst", {&o.burst, 0, 100000}}, {"--failover-burst", {&o.failover_burst, 0, 100000}},
       {"--kill-at-ms", {&o.kill_at_ms, -1, 60000}}, {"--lease-ms", {&o.lease_ms, 100, 60000}},
       {"--idle-seconds", {&o.idle_seconds, 0, 60}}, {"--settle-max", {&o.settle_max_seconds, 0, 300}}},
      [&](const std::string& key, const std::string& value) -> Status {
        if (key == "--settle-load") {
          try {
            std::size_t used = 0;
            o.settle_load = std::stod(value, &used);
            if (used != value.size() || o.settle_load < 0) throw std::invalid_argument("bad");
          } catch (const std::exception&) {
            return invalid_argument(key, key + ": expected a load average such as 0.8");
          }
          return {};
        }
        if (key == "--instance" || key == "--watch" || key == "--watch-rest") {
          auto w = parse_watched(key, value);
          if (!w) return w.error();
          w->rest = key == "--watch-rest";
          (key == "--instance" ? o.instances : o.watch).push_back(*w);
          return {};
        }
        return invalid_argument(key, key + ": unknown option");
      });
  if (!parsed) return parsed.error();
  o.ca = ca;
  o.operator_token_file = token_file;
  o.database = database;
  if (o.url.empty()) return invalid_argument("--url", "--url is required");
  if (o.ca.empty()) return invalid_argument("--ca", "--ca is required");
  if (o.operator_token_file.empty())
    return invalid_argument("--operator-token-file", "--operator-token-file is required");
  if (o.database.empty()) return invalid_argument("--database", "--database is required");
  if (o.instances.empty()) return invalid_argument("--instance", "--instance is required");
  if (o.failover_burst > 0 && o.start_second.empty())
    return invalid_argument("--start-second", "--start-second is required unless --failover-burst 0");
  if (o.slug.empty()) o.slug = "remindbench" + new_id().substr(0, 8);
  return o;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SysClock::now().time_since_epoch()).count();
}

std::string format_utc(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ------------------------------------------------------------------ statistics and processes

// Samples in microseconds; percentiles by nearest rank over every sample.
struct Latencies {
  std::vector<std::int64_t> us;

  void add(std::int64_t v) { us.push_back(v); }
  void sort() { std::sort(us.begin(), us.end()); }
  double percentile_ms(double p) const {  // call sort() first
    if (us.empty()) return 0;
    auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(us.size()) + 0.999999);
    rank = std::clamp<std::size_t>(rank, 1, us.size());
    return static_cast<double>(us[rank - 1]) / 1000.0;
  }
  double min_ms() const { return us.empty() ? 0 : static_cast<double>(us.front()) / 1000.0; }
};

std::string line_of(const Latencies& l) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  (min %.2f ms)",
                l.percentile_ms(50), l.percentile_ms(90), l.percentile_ms(99), l.percentile_ms(100), l.min_ms());
  return buf;
}

// Every process's CPU seconds by pid (with its name), and the CPU pressure stall time from
// /proc/pressure/cpu (how long some runnable task waited for a CPU). /proc/stat is not
// used: its tick-sampled totals were off by several CPU-seconds either way here.
struct MachineCpu {
  std::map<int, std::pair<std::string, double>> processes;
  double waited = -1;  // PSI "some" total, seconds; -1 without PSI
};

MachineCpu machine_cpu() {
  MachineCpu m;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::stoi(name);
    const double cpu = cpu_seconds(pid);
    if (cpu < 0) continue;
    std::ifstream comm("/proc/" + name + "/comm");
    std::string command;
    std::getline(comm, command);
    m.processes[pid] = {command, cpu};
  }
  std::ifstream psi("/proc/pressure/cpu");
  std::string line;
  while (std::getline(psi, line)) {
    auto at = line.find("total=");
    if (line.rfind("some ", 0) == 0 && at != std::string::npos) m.waited = std::stod(line.substr(at + 6)) / 1e6;
  }
  return m;
}

struct CpuSnapshot {
  std::vector<double> watched;
  double self = 0;
  MachineCpu machine;
  Clock::time_point at;
};

// Every process whose CPU a phase reports: the reminders instances first.
std::vector<Watched> watched_processes(const Options& o, const std::vector<Watched>& instances) {
  std::vector<Watched> out;
  for (const auto& i : instances)
    out.push_back({instances.size() > 1 ? "reminders[" + i.name + "]" : "reminders", i.pid});
  out.insert(out.end(), o.watch.begin(), o.watch.end());
  return out;
}

CpuSnapshot cpu_snapshot(const std::vector<Watched>& procs) {
  CpuSnapshot s;
  for (const auto& w : procs) s.watched.push_back(cpu_seconds(w.pid));
  s.self = self_cpu_seconds();
  s.machine = machine_cpu();
  s.at = Clock::now();
  return s;
}

std::string cpu_line(const std::vector<Watched>& procs, const CpuSnapshot& before, const CpuSnapshot& after,
                     std::size_t reminders) {
  std::string out = "  CPU during the phase, per reminder:";
  auto one = [&](const std::string& name, double used) {
    char buf[200];
    if (used < 0) {
      std::snprintf(buf, sizeof buf, " %s GONE;", name.c_str());
    } else {
      std::snprintf(buf, sizeof buf, " %s %.2f s (%.0f us);", name.c_str(), used,
                    reminders ? used * 1e6 / static_cast<double>(reminders) : 0.0);
    }
    out += buf;
  };
  double ours = after.self - before.self, rest = 0;
  std::string rest_names;
  for (std::size_t i = 0; i < procs.size(); ++i) {
    const double a = after.watched[i], b = before.watched[i];
    const double used = (a < 0 || b < 0) ? -1 : a - b;
    if (used >= 0) ours += used;
    if (!procs[i].rest) {
      one(procs[i].name, used);
    } else {
      rest += std::max(0.0, used);
      rest_names += (rest_names.empty() ? "" : ", ") + procs[i].name;
    }
  }
  one("bench", after.self - before.self);
  if (!rest_names.empty()) one("the rest (" + rest_names + ")", rest);
  out.pop_back();
  // Whatever else ran meanwhile (other people's builds): the figures' real condition.
  // Processes that started and ended inside the phase are missed, hence "at least".
  std::set<int> mine = {static_cast<int>(getpid())};
  for (const auto& w : procs) mine.insert(w.pid);
  double others = 0, top = 0;
  std::string top_name;
  for (const auto& [pid, entry] : after.machine.processes) {
    if (mine.contains(pid)) continue;
    auto b = before.machine.processes.find(pid);
    const double used = entry.second - (b == before.machine.processes.end() ? 0.0 : b->second.second);
    if (used <= 0) continue;
    others += used;
    if (used > top) top = used, top_name = entry.first;
  }
  const double wall = std::chrono::duration<double>(after.at - before.at).count();
  const double waited = after.machine.waited - before.machine.waited;
  char most[120] = "";
  if (!top_name.empty()) std::snprintf(most, sizeof most, " (most: %s %.2f s)", top_name.c_str(), top);
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "\n  machine during the phase (%.1f s): the processes above %.2f CPU-s, every other process at least "
                "%.2f CPU-s%s; CPU pressure: a runnable task waited for a CPU %.0f%% of the time",
                wall, ours, others, most, (before.machine.waited >= 0 && wall > 0) ? 100.0 * waited / wall : -1.0);
  return out + buf;
}

std::string memory_line(const std::vector<Watched>& procs) {
  std::string out = "  memory after:";
  for (const auto& w : procs)
    if (!w.rest) out += " " + w.name + " " + memory_of(w.pid) + ";";
  out.pop_back();
  return out;
}

// ------------------------------------------------------------------ setup through the public API

[[noreturn]] void setup_failed(const std::string& what, const Error& e) {
  // The error message comes from the gateway's error body: a code and a field, no secrets.
  std::fprintf(stderr, "[reminders-bench] setup failed: %s: %s (%s)\n", what.c_str(), e.message.c_str(),
               std::string(code_name(e.code)).c_str());
  std::exit(3);
}

json::value must(Result<json::value> r, const std::string& what) {
  if (!r) setup_failed(what, r.error());
  return std::move(*r);
}

std::string str(const json::value& v, std::string_view key) { return std::string(v.at(key).as_string()); }

// Runs f(client, i) for i in [0, n) on `workers` threads, each with its own
// connection signed in with `tokens`. Returns the failures (the first is kept).
struct Failures {
  std::atomic<int> count{0};
  std::mutex mutex;
  std::string first;
  void add(const std::string& what) {
    if (count++ == 0) {
      std::lock_guard lock(mutex);
      first = what;
    }
  }
};

void parallel_for(const client::Endpoint& ep, const client::Tokens& tokens, std::size_t n, int workers,
                  const std::function<void(client::AllianceClient&, std::size_t)>& f) {
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      client::AllianceClient api(ep);
      api.set_timeout(kRequestTimeout);
      api.set_tokens(tokens);
      for (std::size_t i = next++; i < n; i = next++) f(api, i);
    });
  }
  for (auto& t : pool) t.join();
}

struct Practice {
  std::string slug, practice_id, type_id;
  client::Tokens admin;
  std::vector<std::string> therapist_ids;
  std::vector<std::string> client_ids;     // index = socket index
  std::vector<std::string> client_tokens;  // access tokens, same order
  int appointments = 0;
  std::int64_t first_start_ms = 0;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

Practice bootstrap(const client::Endpoint& ep, const Options& o) {
  std::ifstream in(o.operator_token_file);
  std::string operator_token;
  std::getline(in, operator_token);
  if (operator_token.empty())
    setup_failed("operator token", invalid_argument("--operator-token-file", "file is empty or unreadable"));

  Practice p;
  p.slug = o.slug;
  const std::string domain = "@" + o.slug + ".example";
  const std::string password = bench::random_password();  // every user's; in memory only
  client::AllianceClient anonymous(ep);
  json::value practice = {{"operator_token", operator_token}, {"name", "Reminders Benchmark Practice"},
                          {"slug", o.slug},                   {"admin_email", "admin" + domain},
                          {"admin_password", password},       {"admin_display_name", "Bench Admin"}};
  must(anonymous.call_json("POST", "/v1/practices", &practice, false), "create practice");
  client::AllianceClient admin(ep);
  admin.set_timeout(kRequestTimeout);
  auto t = admin.login(o.slug, "admin" + domain, password);
  if (!t) setup_failed("admin login", t.error());
  p.admin = *t;
  p.practice_id = t->practice_id;

  // Users, in parallel: therapists first, then clients.
  auto started = Clock::now();
  const std::size_t users = static_cast<std::size_t>(o.therapists + o.clients);
  std::vector<std::string> ids(users);
  Failures failures;
  parallel_for(ep, p.admin, users, kSetupThreads, [&](client::AllianceClient& api, std::size_t i) {
    const bool therapist = i < static_cast<std::size_t>(o.therapists);
    const std::string local = therapist ? "therapist" + std::to_string(i)
                                        : "client" + std::to_string(i - static_cast<std::size_t>(o.therapists));
    json::value body = {{"email", local + domain},
                        {"password", password},
                        {"display_name", local},
                        {"role", therapist ? "therapist" : "client"}};
    auto r = api.post_json("/v1/users", body);
    if (!r) return failures.add("create " + local + ": " + r.error().message);
    ids[i] = str(r->at("user"), "id");
  });
  if (failures.count > 0) setup_failed("create users", invalid_argument("", failures.first));
  p.therapist_ids.assign(ids.begin(), ids.begin() + o.therapists);
  p.client_ids.assign(ids.begin() + o.therapists, ids.end());
  const double users_s = seconds_since(started);

  // A 30-minute type on a 5-minute grid, bookable at any notice; everyone open around the clock.
  json::value type = {{"name", "Individual therapy"}, {"duration_minutes", 30}, {"modality", "telehealth"},
                      {"step_minutes", 5},            {"min_notice_minutes", 0}, {"booking_horizon_days", 60},
                      {"client_self_booking", true}};
  p.type_id = str(must(admin.post_json("/v1/appointment-types", type), "create appointment type").at("type"), "id");
  json::array weekly;
  for (int d = 0; d <= 6; ++d) weekly.push_back(json::value{{"weekday", d}, {"start", "00:00"}, {"end", "24:00"}});
  for (const auto& id : p.therapist_ids) {
    json::value availability = {{"time_zone", "UTC"}, {"weekly", weekly}};
    must(admin.call_json("PUT", "/v1/therapists/" + id + "/availability", &availability), "set availability");
  }
  // Five reminders per appointment, no quiet hours (so none is moved or merged).
  json::array offsets;
  for (int m : kOffsets) offsets.push_back(m);
  json::value policy = {{"offsets_minutes", offsets}, {"quiet_start", ""}, {"quiet_end", ""}};
  must(admin.call_json("PUT", "/v1/reminders/policy", &policy), "set reminder policy");

  // Each client signs in once: its access token opens its socket.
  started = Clock::now();
  p.client_tokens.resize(p.client_ids.size());
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  for (int w = 0; w < kSetupThreads; ++w) {
    pool.emplace_back([&] {
      for (std::size_t i = next++; i < p.client_ids.size(); i = next++) {
        client::AllianceClient api(ep);
        api.set_timeout(kRequestTimeout);
        auto tokens = api.login(o.slug, "client" + std::to_string(i) + domain, password);
        if (!tokens) {
          failures.add("login client" + std::to_string(i) + ": " + tokens.error().message);
          continue;
        }
        p.client_tokens[i] = tokens->access_token;
      }
    });
  }
  for (auto& th : pool) th.join();
  if (failures.count > 0) setup_failed("client logins", invalid_argument("", failures.first));
  const double logins_s = seconds_since(started);
  std::fprintf(stderr, "[reminders-bench] %zu users created in %.1f s, %zu clients signed in in %.1f s\n", users,
               users_s, p.client_ids.size(), logins_s);
  std::printf("setup: practice '%s': %d therapists and %d clients created in %.1f s (%d threads, identity's scrypt\n"
              "  as configured), clients signed in in %.1f s\n",
              o.slug.c_str(), o.therapists, o.clients, users_s, kSetupThreads, logins_s);
  return p;
}

// Books `count` appointments: appointment k is therapist k mod T's, at slot k / T
// (30 minutes each, back to back from day 15, 00:00 UTC), for client k mod C. The
// front of the schedule is far enough ahead that all five offsets are planned.
void book_all(const client::Endpoint& ep, Practice& p, int count) {
  const std::int64_t day_ms = 24 * 3600 * 1000LL;
  p.first_start_ms = (now_ms() / day_ms + kFirstDay) * day_ms;
  const auto started = Clock::now();
  Failures failures;
  parallel_for(ep, p.admin, static_cast<std::size_t>(count), kSetupThreads,
               [&](client::AllianceClient& api, std::size_t k) {
                 const auto t = k % p.therapist_ids.size(), slot = k / p.therapist_ids.size();
                 json::value body = {{"idempotency_key", "bench-" + new_id()},
                                     {"therapist_id", p.therapist_ids[t]},
                                     {"client_id", p.client_ids[k % p.client_ids.size()]},
                                     {"type_id", p.type_id},
                                     {"start_time", format_utc(p.first_start_ms + static_cast<std::int64_t>(slot) *
                                                                                      30 * 60 * 1000)}};
                 auto r = api.post_json("/v1/appointments", body);
                 if (!r) failures.add("book " + std::to_string(k) + ": " + r.error().message);
               });
  const double s = seconds_since(started);
  p.appointments = count - failures.count;
  std::fprintf(stderr, "[reminders-bench] %d appointments booked in %.1f s (%d failed)\n", p.appointments, s,
               failures.count.load());
  std::printf("  %d appointments booked in %.1f s (%.0f/s, %d threads): %zu therapists x %d back-to-back 30-min\n"
              "  slots from %s; policy offsets 20160, 10080, 4320, 1440 and 120 min, no quiet hours\n",
              p.appointments, s, s > 0 ? p.appointments / s : 0, kSetupThreads, p.therapist_ids.size(),
              (count + static_cast<int>(p.therapist_ids.size()) - 1) / static_cast<int>(p.therapist_ids.size()),
              format_utc(p.first_start_ms).c_str());
  if (failures.count > 0) {
    std::printf("  %d bookings failed; first: %s\n", failures.count.load(), failures.first.c_str());
    if (failures.count > count / 100) setup_failed("bookings", invalid_argument("", failures.first));
  }
}

// ------------------------------------------------------------------ the reminders database and Redis

struct Planned {
  std::string id;
  std::uint32_t client = 0;
};

std::int64_t count_planned(const Options& o, const std::string& practice_id) {
  auto c = store::Connection::open(o.database, {.read_only = true});
  return store::query_one(*c, "SELECT COUNT(*) FROM reminders WHERE practice_id = ?1 AND state = 'planned'",
                          [](store::Statement& s) { return s.column_int(0); }, practice_id)
      .value_or(0);
}

// Waits until the service has planned `want` reminders for the practice (or they stop
// coming), then returns them by client.
std::vector<std::vector<Planned>> planned_by_client(const Options& o, const Practice& p, std::int64_t want) {
  const auto started = Clock::now();
  std::int64_t have = 0, last = -1;
  auto last_change = Clock::now();
  while (Clock::now() - started < 90s) {
    have = count_planned(o, p.practice_id);
    if (have >= want) break;
    if (have != last) {
      last = have;
      last_change = Clock::now();
    } else if (Clock::now() - last_change > 10s) {
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  std::fprintf(stderr, "[reminders-bench] %" PRId64 " of %" PRId64 " reminders planned after %.1f s\n", have, want,
               seconds_since(started));
  std::printf("  %" PRId64 " reminders planned (of %" PRId64 " expected) %.1f s after the last booking\n", have, want,
              seconds_since(started));
  std::unordered_map<std::string, std::uint32_t> index;
  for (std::size_t i = 0; i < p.client_ids.size(); ++i) index[p.client_ids[i]] = static_cast<std::uint32_t>(i);
  std::vector<std::vector<Planned>> out(p.client_ids.size());
  auto c = store::Connection::open(o.database, {.read_only = true});
  auto rows = store::query_all(
      *c, "SELECT id, client_id FROM reminders WHERE practice_id = ?1 AND state = 'planned' ORDER BY due_ms, id",
      [](store::Statement& s) { return std::pair<std::string, std::string>{s.column_text(0), s.column_text(1)}; },
      p.practice_id);
  for (auto& [id, client] : rows) {
    auto it = index.find(client);
    if (it != index.end()) out[it->second].push_back(Planned{std::move(id), it->second});
  }
  return out;
}

// Takes `n` reminders round-robin over the clients (client k mod C first), so
// consecutive ones belong to different clients; fewer if they run out.
std::vector<Planned> take_round_robin(std::vector<std::vector<Planned>>& by_client, std::size_t n) {
  std::vector<Planned> out;
  bool any = true;
  while (out.size() < n && any) {
    any = false;
    for (auto& list : by_client) {
      if (out.size() >= n) break;
      if (list.empty()) continue;
      out.push_back(std::move(list.back()));
      list.pop_back();
      any = true;
    }
  }
  return out;
}

// Moves the reminders' due instants in one transaction, as the integration tests do.
void move_due(const Options& o, const std::vector<Planned>& reminders, const std::vector<std::int64_t>& due_ms) {
  auto c = store::Connection::open(o.database, {});
  c->exec("BEGIN IMMEDIATE");
  for (std::size_t i = 0; i < reminders.size(); ++i)
    store::execute(*c, "UPDATE reminders SET due_ms = ?2 WHERE id = ?1 AND state = 'planned'", reminders[i].id,
                   due_ms[i]);
  c->exec("COMMIT");
}

// Publishes as the reminders service does, with the same client library and settings
// (its ACL user, TLS), on a private io_context run only while a command waits.
class Redis {
 public:
  explicit Redis(const Options& o) : client_(io_.get_executor(), o.redis.options("reminders", "reminders-bench")) {
    client_.start();
    if (!run(client_.wait_connected(std::chrono::seconds(5))))
      throw std::runtime_error("--redis: cannot connect to " + o.redis.address + " (see the log line above)");
  }
  Redis(const Redis&) = delete;
  Redis& operator=(const Redis&) = delete;

  // Wakes every instance: they scan for due reminders at once.
  void wake() {
    auto r = run(client_.command({"PUBLISH", "reminders:wake", "bench"}));
    if (!r || r->is_error()) throw std::runtime_error("redis: PUBLISH failed");
  }

 private:
  template <class T>
  T run(asio::awaitable<T> aw) {
    std::optional<T> out;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(aw)); },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    io_.restart();
    while (!out) io_.run_one();
    return std::move(*out);
  }

  asio::io_context io_;
  redis::Client client_;
};

// ------------------------------------------------------------------ a phase

struct Arrival {
  std::int64_t first_us = 0;
  int frames = 0;
};

struct PhaseResult {
  std::size_t expected = 0, received = 0, lost = 0;
  std::uint64_t frames = 0, duplicates = 0, shown_twice = 0, wrong_socket = 0, malformed = 0, other = 0;
  Latencies lateness;  // first arrival - due, us
  std::int64_t first_us = 0, last_us = 0;
  double load_start = 0, load_end = 0;
  std::string cpu, memory;
  std::unordered_map<std::string, Arrival> arrivals;  // by reminder id
  std::vector<std::pair<std::int64_t, std::int64_t>> sent_and_received;  // every frame of the phase: (sent ms, at us)
};

// What every device of the run remembers: the SDK's de-duplicating inbox per client,
// and how often each reminder was shown.
struct Devices {
  std::vector<std::unique_ptr<client::ReminderInbox>> inboxes;
  std::unordered_map<std::string, int> shown;

  explicit Devices(std::size_t clients) {
    for (std::size_t i = 0; i < clients; ++i)
      inboxes.push_back(
          std::make_unique<client::ReminderInbox>([this](const client::ReminderDue& r) { ++shown[r.reminder_id]; }));
  }
};

// Parses the phase's frames after the fact and fills in the figures.
void analyse(std::vector<Frame> frames, const std::vector<Planned>& reminders, const std::vector<std::int64_t>& due_ms,
             Devices& devices, PhaseResult& r) {
  std::unordered_map<std::string, std::size_t> index;  // reminder id -> position in the phase
  for (std::size_t i = 0; i < reminders.size(); ++i) index[reminders[i].id] = i;
  r.expected = reminders.size();
  for (auto& f : frames) {
    boost::system::error_code ec;
    auto v = json::parse(f.text, ec);
    auto frame = ec ? Result<client::PushFrame>(invalid_argument("", "not JSON")) : client::push_frame_from_json(v);
    if (!frame) {
      ++r.malformed;
      continue;
    }
    if (frame->type != client::kReminderDueType) {
      ++r.other;
      continue;
    }
    auto it = index.find(frame->id);
    if (it == index.end()) {
      ++r.other;  // not one of this phase's (e.g. a late frame of an earlier phase)
      continue;
    }
    ++r.frames;
    const auto& planned = reminders[it->second];
    if (planned.client != f.socket) {
      ++r.wrong_socket;
      continue;
    }
    auto inbox = devices.inboxes[f.socket]->feed_json(v);
    if (!inbox || inbox->reminder_id != frame->id) {
      ++r.malformed;
      continue;
    }
    r.sent_and_received.emplace_back(frame->sent_unix_ms, f.at_us);
    auto& a = r.arrivals[frame->id];
    if (a.frames++ > 0) {
      ++r.duplicates;
      continue;
    }
    a.first_us = f.at_us;
    r.lateness.add(f.at_us - due_ms[it->second] * 1000);
  }
  r.received = r.arrivals.size();
  r.lost = r.expected - r.received;
  for (const auto& p : reminders) {
    auto s = devices.shown.find(p.id);
    if (s != devices.shown.end() && s->second > 1) ++r.shown_twice;
  }
  r.first_us = r.last_us = 0;
  for (const auto& [id, a] : r.arrivals) {
    if (r.first_us == 0 || a.first_us < r.first_us) r.first_us = a.first_us;
    r.last_us = std::max(r.last_us, a.first_us);
  }
  r.lateness.sort();
}

void print_counts(const PhaseResult& r) {
  std::printf("  received %zu/%zu, lost %zu; frames on the wire %" PRIu64 ", raw duplicates %" PRIu64
              "; shown twice after the client's de-duplication (SDK ReminderInbox) %" PRIu64
              "; to a wrong client %" PRIu64 ", malformed %" PRIu64 "\n",
              r.received, r.expected, r.lost, r.frames, r.duplicates, r.shown_twice, r.wrong_socket, r.malformed);
}

void print_load_and_cpu(const PhaseResult& r) {
  std::printf("  load average (1 min): %.2f at the start, %.2f at the end\n", r.load_start, r.load_end);
  std::printf("%s\n%s\n", r.cpu.c_str(), r.memory.c_str());
}

struct Run {
  const Options& o;
  SocketFleet& fleet;
  Redis& redis;
  Devices& devices;
  std::vector<Watched> instances;
  bool failed = false;

  // Moves the phase's reminders, wakes the service, waits until every one has arrived
  // (or `deadline_ms`), then for `settle` more (late duplicates), and analyses.
  // `during` runs once the reminders were moved (phase c's watcher).
  // Waits (bounded) for the 1-minute load to come down, e.g. after the set-up's password
  // hashing and bookings, so a phase does not start on the run's own load.
  void settle_load() {
    if (o.settle_load <= 0) return;
    const auto started = Clock::now();
    double load = load_1min();
    while (load > o.settle_load && Clock::now() - started < std::chrono::seconds(o.settle_max_seconds)) {
      std::this_thread::sleep_for(1s);
      load = load_1min();
    }
    std::fprintf(stderr, "[reminders-bench] waited %.0f s for the 1-minute load to come down to %.2f: it is %.2f\n",
                 seconds_since(started), o.settle_load, load);
  }

  PhaseResult phase(const std::vector<Planned>& reminders, const std::vector<std::int64_t>& due_ms,
                    std::int64_t deadline_ms, std::chrono::milliseconds settle,
                    const std::function<void()>& during = {}, std::int64_t not_before_ms = 0) {
    PhaseResult r;
    const auto procs = watched_processes(o, instances);
    r.load_start = load_1min();
    (void)fleet.take();  // anything before the phase is not ours
    const auto base = fleet.distinct_ids();
    const auto before = cpu_snapshot(procs);
    move_due(o, reminders, due_ms);
    redis.wake();
    if (during) during();
    while (now_ms() < deadline_ms) {
      if (fleet.distinct_ids() >= base + reminders.size() && now_ms() >= not_before_ms) break;
      std::this_thread::sleep_for(1ms);
    }
    std::this_thread::sleep_for(settle);
    const auto after = cpu_snapshot(procs);
    r.load_end = load_1min();
    r.cpu = cpu_line(procs, before, after, reminders.size());
    r.memory = memory_line(procs);
    analyse(fleet.take(), reminders, due_ms, devices, r);
    failed |= r.lost > 0 || r.shown_twice > 0 || r.wrong_socket > 0 || r.malformed > 0;
    return r;
  }
};

// ------------------------------------------------------------------ phase c helpers

// Who holds the leases of the reminders due at `due_ms`: owner -> count.
std::map<std::string, std::int64_t> lease_holders(const Options& o, std::int64_t due_ms) {
  auto c = store::Connection::open(o.database, {.read_only = true});
  auto rows = store::query_all(
      *c,
      "SELECT lease_owner, COUNT(*) FROM reminders WHERE due_ms = ?1 AND lease_until_ms > 0 GROUP BY lease_owner",
      [](store::Statement& s) { return std::pair<std::string, std::int64_t>{s.column_text(0), s.column_int(1)}; },
      due_ms);
  return {rows.begin(), rows.end()};
}

std::string describe_database_after(const Options& o, std::int64_t due_ms) {
  auto c = store::Connection::open(o.database, {.read_only = true});
  std::string out = "  in the database afterwards: states";
  auto states = store::query_all(
      *c, "SELECT state, COUNT(*) FROM reminders WHERE due_ms = ?1 GROUP BY state",
      [](store::Statement& s) { return std::pair<std::string, std::int64_t>{s.column_text(0), s.column_int(1)}; },
      due_ms);
  for (const auto& [state, n] : states) out += " " + state + " " + std::to_string(n) + ",";
  out += " deliveries recorded by instance";
  auto by = store::query_all(
      *c,
      "SELECT d.instance, COUNT(*), MIN(d.at_ms) FROM deliveries d JOIN reminders r ON r.id = d.reminder_id "
      "WHERE r.due_ms = ?1 GROUP BY d.instance",
      [](store::Statement& s) {
        return std::tuple<std::string, std::int64_t, std::int64_t>{s.column_text(0), s.column_int(1), s.column_int(2)};
      },
      due_ms);
  if (by.empty()) out += " none,";
  for (const auto& [instance, n, first] : by)
    out += " " + instance + " " + std::to_string(n) + " (first " + std::to_string(first - due_ms) + " ms after due),";
  out.pop_back();
  return out;
}

// Runs the --start-second command; its last line of output names the new instance.
Watched start_second(const Options& o) {
  FILE* pipe = popen(o.start_second.c_str(), "r");
  if (!pipe) throw std::runtime_error("--start-second: cannot run the command");
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, pipe)) out += buf;
  const int rc = pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  auto nl = out.rfind('\n');
  auto last = nl == std::string::npos ? out : out.substr(nl + 1);
  auto w = parse_watched("--start-second", last);
  if (rc != 0 || !w) throw std::runtime_error("--start-second: the command failed or printed no NAME=PID: " + last);
  return *w;
}

// ------------------------------------------------------------------ main

int run(const Options& o) {
  auto ep = client::parse_gateway_url(o.url, o.ca);
  if (!ep) {
    std::fprintf(stderr, "alliance-reminders-bench: %s\n", ep.error().message.c_str());
    return 2;
  }
  if (!is_loopback(ep->host)) {
    std::fprintf(stderr, "alliance-reminders-bench: refusing a non-loopback gateway (%s)\n", ep->host.c_str());
    return 2;
  }
  const std::size_t needed = static_cast<std::size_t>(o.spread + o.burst + o.failover_burst);
  const int appointments = static_cast<int>((needed + kOffsets.size() - 1) / kOffsets.size());
  const std::size_t per_therapist = static_cast<std::size_t>((appointments + o.therapists - 1) / o.therapists);
  if (per_therapist > 48 * 40)
    setup_failed("plan", invalid_argument("--therapists", "too few therapists for that many appointments"));

  const auto setup_start = Clock::now();
  std::fprintf(stderr, "[reminders-bench] setting up practice '%s': %d therapists, %d clients, %d appointments\n",
               o.slug.c_str(), o.therapists, o.clients, appointments);
  Practice p = bootstrap(*ep, o);
  book_all(*ep, p, appointments);
  auto by_client = planned_by_client(o, p, static_cast<std::int64_t>(p.appointments) * kOffsets.size());

  std::fprintf(stderr, "[reminders-bench] opening %zu WebSockets\n", p.client_tokens.size());
  SocketFleet fleet(*ep);
  auto opened = fleet.open(p.client_tokens, 64, 10s);
  std::printf("  %d/%zu authenticated WebSockets ready (session.ready) in %.1f s, one io_context thread",
              opened.ready, p.client_tokens.size(), opened.seconds);
  for (const auto& [kind, n] : opened.errors) std::printf("; %s x %d", kind.c_str(), n);
  std::printf("\n  setup took %.1f s\n\n", seconds_since(setup_start));
  std::fflush(stdout);
  if (opened.failed > 0) setup_failed("open sockets", make_error(Code::kUnavailable, "some sockets failed"));

  Redis redis(o);
  Devices devices(p.client_ids.size());
  Run run{o, fleet, redis, devices, {o.instances.front()}};
  std::string result;
  char buf[512];

  // What holding the sockets costs with nothing due (the gateway's pings, the service's rescans).
  run.settle_load();
  if (o.idle_seconds > 0) {
    const auto procs = watched_processes(o, run.instances);
    const double load = load_1min();
    const auto before = cpu_snapshot(procs);
    std::this_thread::sleep_for(std::chrono::seconds(o.idle_seconds));
    const auto after = cpu_snapshot(procs);
    std::printf("idle, %zu sockets open and nothing due, %d s (load %.2f -> %.2f): CPU per second:",
                p.client_ids.size(), o.idle_seconds, load, load_1min());
    for (std::size_t i = 0; i < procs.size(); ++i)
      std::printf("%s %s %.1f ms", i ? "," : "", procs[i].name.c_str(),
                  (after.watched[i] - before.watched[i]) * 1000.0 / o.idle_seconds);
    std::printf(", bench %.1f ms\n\n", (after.self - before.self) * 1000.0 / o.idle_seconds);
    std::fflush(stdout);
  }

  // a) spread evenly over S seconds.
  if (o.spread > 0) {
    auto reminders = take_round_robin(by_client, static_cast<std::size_t>(o.spread));
    const auto t0 = now_ms() + kLeadMs;
    const std::int64_t span = o.spread_seconds * 1000LL;
    std::vector<std::int64_t> due(reminders.size());
    for (std::size_t i = 0; i < due.size(); ++i)
      due[i] = t0 + static_cast<std::int64_t>(i) * span / static_cast<std::int64_t>(due.size());
    std::fprintf(stderr, "[reminders-bench] a) %zu reminders due over %d s\n", reminders.size(), o.spread_seconds);
    auto r = run.phase(reminders, due, due.back() + 10000, 1000ms);
    std::printf("a) %zu reminders due evenly over %d s (one every %.2f ms, consecutive ones to different clients),\n"
                "   one reminders instance; lateness = due instant -> frame read from the client's socket:\n",
                reminders.size(), o.spread_seconds, static_cast<double>(span) / static_cast<double>(due.size()));
    std::printf("  lateness  %s\n", line_of(r.lateness).c_str());
    print_counts(r);
    print_load_and_cpu(r);
    std::printf("\n");
    std::fflush(stdout);
    std::snprintf(buf, sizeof buf,
                  " a_p50_ms=%.2f a_p99_ms=%.2f a_max_ms=%.2f a_lost=%zu a_twice=%" PRIu64 " a_dups=%" PRIu64
                  " a_load=%.2f",
                  r.lateness.percentile_ms(50), r.lateness.percentile_ms(99), r.lateness.percentile_ms(100), r.lost,
                  r.shown_twice, r.duplicates, std::max(r.load_start, r.load_end));
    result += buf;
  }

  // b) a burst at one instant.
  double b_last_ms = -1;
  if (o.burst > 0) {
    auto reminders = take_round_robin(by_client, static_cast<std::size_t>(o.burst));
    run.settle_load();
    const auto t = now_ms() + kLeadMs;
    std::vector<std::int64_t> due(reminders.size(), t);
    std::fprintf(stderr, "[reminders-bench] b) %zu reminders due at one instant\n", reminders.size());
    auto r = run.phase(reminders, due, t + 10000, 1000ms);
    b_last_ms = r.received ? static_cast<double>(r.last_us - t * 1000) / 1000.0 : -1;
    std::printf("b) %zu reminders due at the same instant (%zu per client), one reminders instance:\n",
                reminders.size(), (reminders.size() + p.client_ids.size() - 1) / p.client_ids.size());
    std::printf("  the last received %.1f ms after the due instant (the first %.1f ms)\n", b_last_ms,
                r.received ? static_cast<double>(r.first_us - t * 1000) / 1000.0 : -1.0);
    std::printf("  lateness  %s\n", line_of(r.lateness).c_str());
    print_counts(r);
    print_load_and_cpu(r);
    std::printf("\n");
    std::fflush(stdout);
    std::snprintf(buf, sizeof buf,
                  " b_last_ms=%.1f b_p50_ms=%.2f b_p99_ms=%.2f b_lost=%zu b_twice=%" PRIu64 " b_dups=%" PRIu64
                  " b_load=%.2f",
                  b_last_ms, r.lateness.percentile_ms(50), r.lateness.percentile_ms(99), r.lost, r.shown_twice,
                  r.duplicates, std::max(r.load_start, r.load_end));
    result += buf;
  }

  // c) the burst again with two instances; the lease holder is killed in the middle.
  if (o.failover_burst > 0) {
    auto reminders = take_round_robin(by_client, static_cast<std::size_t>(o.failover_burst));
    run.settle_load();
    std::fprintf(stderr, "[reminders-bench] c) starting a second reminders instance\n");
    auto second = start_second(o);
    run.instances.push_back(second);
    std::this_thread::sleep_for(1s);  // let it subscribe and make its first scan
    const auto t = now_ms() + kLeadMs;
    std::int64_t kill_after = 50;  // without phase b
    if (o.kill_at_ms >= 0) {
      kill_after = o.kill_at_ms;
    } else if (b_last_ms > 0) {
      kill_after = std::max<std::int64_t>(1, static_cast<std::int64_t>(b_last_ms / 2));
    }
    std::vector<std::int64_t> due(reminders.size(), t);
    std::map<std::string, std::int64_t> holders;
    std::string killed_name;
    std::atomic<std::int64_t> killed_at_us{0};
    auto watch_and_kill = [&] {
      // The leases are taken `lookahead` (2 s) before the instant; wait for them all.
      while (now_ms() < t) {
        holders = lease_holders(o, t);
        std::int64_t held = 0;
        for (const auto& [owner, n] : holders) held += n;
        if (held >= static_cast<std::int64_t>(reminders.size())) break;
        std::this_thread::sleep_for(20ms);
      }
      std::int64_t most = 0;
      for (const auto& [owner, n] : holders)
        if (n > most) most = n, killed_name = owner;
      const Watched* victim = nullptr;
      for (const auto& i : run.instances)
        if (i.name == killed_name) victim = &i;
      if (!victim) {
        std::fprintf(stderr, "[reminders-bench] c) the leases are held by '%s', not a known instance\n",
                     killed_name.c_str());
        return;
      }
      const int pid = victim->pid;
      fleet.at(SysClock::time_point(std::chrono::milliseconds(t + kill_after)), [pid, &killed_at_us] {
        ::kill(pid, SIGKILL);
        killed_at_us =
            std::chrono::duration_cast<std::chrono::microseconds>(SysClock::now().time_since_epoch()).count();
      });
    };
    std::fprintf(stderr,
                 "[reminders-bench] c) %zu reminders due at one instant, two instances, the lease holder "
                 "killed %" PRId64 " ms after the instant\n",
                 reminders.size(), kill_after);
    // Wait past the lease (the survivor takes over then) and for resends of pushes whose
    // delivery the killed instance never recorded.
    auto r = run.phase(reminders, due, t + 20000, 2000ms, watch_and_kill, t + kill_after + o.lease_ms + 2000);
    std::printf("c) %zu reminders due at the same instant, two reminders instances on one database; leases held by",
                reminders.size());
    for (const auto& [owner, n] : holders) std::printf(" %s (%" PRId64 ")", owner.c_str(), n);
    const std::int64_t kill_us = killed_at_us.load();
    if (kill_us == 0) {
      std::printf("; NOT KILLED (see stderr)\n");
      run.failed = true;
    } else {
      std::printf(";\n  %s killed with SIGKILL %.1f ms after the due instant (planned %" PRId64 " ms: %s)\n",
                  killed_name.c_str(), static_cast<double>(kill_us - t * 1000) / 1000.0, kill_after,
                  o.kill_at_ms >= 0 ? "--kill-at-ms" : "half of b)'s time to the last frame");
    }
    // Frames are told apart by sent_unix_ms: the survivor renders its pushes after the kill.
    std::int64_t survivor_first_us = 0, survivor_frames = 0, before_kill = 0;
    for (const auto& [sent_ms, at_us] : r.sent_and_received) {
      if (kill_us && sent_ms * 1000 >= kill_us) {
        ++survivor_frames;
        if (survivor_first_us == 0 || at_us < survivor_first_us) survivor_first_us = at_us;
      }
    }
    for (const auto& [id, a] : r.arrivals)
      if (kill_us && a.first_us < kill_us) ++before_kill;
    const double takeover_due = survivor_first_us ? static_cast<double>(survivor_first_us - t * 1000) / 1000.0 : -1;
    const double takeover_kill = survivor_first_us ? static_cast<double>(survivor_first_us - kill_us) / 1000.0 : -1;
    const double last_ms = r.received ? static_cast<double>(r.last_us - t * 1000) / 1000.0 : -1;
    std::printf("  received before the kill: %" PRId64 "; frames pushed by the survivor: %" PRId64 "\n", before_kill,
                survivor_frames);
    if (survivor_first_us) {
      std::printf("  takeover: the survivor's first delivery %.1f ms after the due instant, %.1f ms after the kill\n",
                  takeover_due, takeover_kill);
    } else {
      std::printf("  takeover: no frame from the survivor\n");
    }
    std::printf("  every reminder received (first copy) by %.1f ms after the due instant\n", last_ms);
    std::printf("  lateness  %s\n", line_of(r.lateness).c_str());
    print_counts(r);
    std::printf("%s\n", describe_database_after(o, t).c_str());
    print_load_and_cpu(r);
    std::printf("\n");
    std::snprintf(buf, sizeof buf,
                  " c_lost=%zu c_twice=%" PRIu64 " c_dups=%" PRIu64 " c_takeover_after_due_ms=%.1f"
                  " c_takeover_after_kill_ms=%.1f c_last_ms=%.1f c_load=%.2f",
                  r.lost, r.shown_twice, r.duplicates, takeover_due, takeover_kill, last_ms,
                  std::max(r.load_start, r.load_end));
    result += buf;
    if (!survivor_first_us && r.lost > 0) run.failed = true;
  }

  const int ended = fleet.ended();
  if (ended > 0) {
    std::printf("%d sockets were closed during the run\n", ended);
    run.failed = true;
  }
  fleet.close();
  std::printf("RESULT%s sockets_ended=%d failed=%d\n", result.c_str(), ended, run.failed ? 1 : 0);
  return run.failed ? 1 : 0;
}

}  // namespace
}  // namespace alliance::bench

int main(int argc, char** argv) {
  auto o = alliance::bench::parse_options(argc, argv);
  if (!o) {
    if (o.error().message != "help")
      std::fprintf(stderr, "alliance-reminders-bench: %s\n\n", o.error().message.c_str());
    std::fputs(alliance::bench::usage().c_str(), stderr);
    return 2;
  }
  try {
    return alliance::bench::run(*o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "alliance-reminders-bench: %s\n", e.what());
    return 3;
  }
}
