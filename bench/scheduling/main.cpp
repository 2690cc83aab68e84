// alliance-scheduling-bench: the scheduling benchmark behind bench/scheduling.sh.
// Through a running gateway (loopback only) it bootstraps a practice (admin,
// two therapists, front desk, clients, one appointment type, availability every day
// 00:00-24:00 UTC), then measures:
//   a) slot search over 4 weeks: closed loop, C connections, fixed duration: the
//      compact answer, the long one, and the compact one on a calendar with every
//      third hour booked (the second therapist's);
//   b) bookings on distinct slots by the front desk (unique idempotency keys);
//   c) the same fresh slot booked by R threads at once (own connections, released
//      together by a barrier), repeated N rounds: exactly one 201 every round.
// Uses only the blocking client SDK: one HttpsClient per thread (it is not
// thread-safe). Prints figures on stdout, progress on stderr, and a last line
// "RESULT k=v ...". Exit 0 only if nothing failed and no round double-booked.
#include <algorithm>
#include <atomic>
#include <barrier>
#include <boost/json.hpp>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "alliance/client/client.hpp"
#include "alliance/core/ids.hpp"
#include "bench_support.hpp"

namespace alliance::bench {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kClients = 10;           // client users the front desk books for
constexpr int kHorizonDays = 700;      // booking horizon of the type (max 730)
constexpr int kSearchDays = 28;        // the measured slot search: 4 weeks
constexpr int kMaxSearchDays = 42;     // the server's limit per search
constexpr auto kRequestTimeout = 30s;  // per request; a slower answer counts as an error

struct Options {
  std::string url;
  std::filesystem::path ca;
  std::filesystem::path operator_token_file;
  std::string slug = "schedbench";
  int search_connections = 8;
  int search_seconds = 10;
  int book_threads = 8;
  int book_seconds = 10;
  int view_seconds = 5;
  int warmup_seconds = 1;
  int race_rounds = 20;
  int racers = 100;
  // name=PID of the server processes whose CPU each measured phase reports per operation.
  std::vector<std::pair<std::string, int>> cpu_pids;
};

std::string usage() {
  return "usage: alliance-scheduling-bench --url https://127.0.0.1:PORT --ca CA.pem --operator-token-file FILE\n"
         "         [--slug schedbench] [--search-connections 8] [--search-seconds 10]\n"
         "         [--book-threads 8] [--book-seconds 10] [--view-seconds 5] [--warmup 1] [--race-rounds 20]\n"
         "         [--racers 100]\n"
         "         [--cpu-pids gateway=PID,scheduling=PID,...]  (CPU per operation of those processes)\n"
         "Loopback gateways only. The operator token is read from the file, never from the command line.\n";
}

Result<Options> parse_options(int argc, char** argv) {
  Options o;
  struct IntOpt {
    int* value;
    int min, max;
  };
  std::map<std::string, IntOpt, std::less<>> ints = {
      {"--search-connections", {&o.search_connections, 1, 256}},
      {"--search-seconds", {&o.search_seconds, 1, 120}},
      {"--book-threads", {&o.book_threads, 1, 256}},
      {"--book-seconds", {&o.book_seconds, 1, 120}},
      {"--view-seconds", {&o.view_seconds, 1, 120}},
      {"--warmup", {&o.warmup_seconds, 0, 30}},
      {"--race-rounds", {&o.race_rounds, 1, 100}},
      {"--racers", {&o.racers, 2, 500}},
  };
  for (int i = 1; i < argc; ++i) {
    std::string key = argv[i];
    if (key == "--help" || key == "-h") return invalid_argument("", "help");
    if (i + 1 >= argc) return invalid_argument(key, key + ": needs a value");
    std::string value = argv[++i];
    if (key == "--url") {
      o.url = value;
    } else if (key == "--ca") {
      o.ca = value;
    } else if (key == "--operator-token-file") {
      o.operator_token_file = value;
    } else if (key == "--slug") {
      o.slug = value;
    } else if (key == "--cpu-pids") {
      for (std::size_t at = 0; at < value.size();) {
        const std::size_t comma = std::min(value.find(',', at), value.size());
        const std::string item = value.substr(at, comma - at);
        const std::size_t eq = item.find('=');
        int pid = 0;
        if (eq == std::string::npos || eq == 0 ||
            std::sscanf(item.c_str() + eq + 1, "%d", &pid) != 1 || pid <= 0)
          return invalid_argument(key, key + ": expected name=PID[,name=PID...]");
        o.cpu_pids.emplace_back(item.substr(0, eq), pid);
        at = comma + 1;
      }
    } else if (auto it = ints.find(key); it != ints.end()) {
      int v = 0;
      try {
        std::size_t used = 0;
        v = std::stoi(value, &used);
        if (used != value.size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        return invalid_argument(key, key + ": not a number");
      }
      if (v < it->second.min || v > it->second.max)
        return invalid_argument(key, key + ": must be between " + std::to_string(it->second.min) + " and " +
                                         std::to_string(it->second.max));
      *it->second.value = v;
    } else {
      return invalid_argument(key, key + ": unknown option");
    }
  }
  if (o.url.empty()) return invalid_argument("--url", "--url is required");
  if (o.ca.empty()) return invalid_argument("--ca", "--ca is required");
  if (o.operator_token_file.empty())
    return invalid_argument("--operator-token-file", "--operator-token-file is required");
  return o;
}

// ------------------------------------------------------------------ time

std::string format_utc(std::chrono::sys_seconds t) {
  std::time_t tt = static_cast<std::time_t>(t.time_since_epoch().count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "2026-11-27T14:00:00Z" (what the server answers) -> instant; nullopt otherwise.
std::optional<std::chrono::sys_seconds> parse_utc(const std::string& s) {
  std::tm tm{};
  char z = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &z) != 7 ||
      z != 'Z')
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::sys_seconds(std::chrono::seconds(timegm(&tm)));
}

std::chrono::sys_seconds midnight_utc_in(int days) {
  return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()) + std::chrono::days(days);
}

// ------------------------------------------------------------------ statistics

// Latencies in microseconds; percentiles by nearest rank over every sample.
struct Latencies {
  std::vector<std::uint32_t> us;

  void add(Clock::duration d) {
    us.push_back(static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count()));
  }
  void merge(const Latencies& other) { us.insert(us.end(), other.us.begin(), other.us.end()); }
  void sort() { std::sort(us.begin(), us.end()); }
  double percentile_ms(double p) const {  // call sort() first
    if (us.empty()) return 0;
    auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(us.size()) + 0.999999);
    rank = std::clamp<std::size_t>(rank, 1, us.size());
    return us[rank - 1] / 1000.0;
  }
};

double load_1min() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  in >> load;
  return load;
}

// CPU seconds (user + system) used so far by a process (0 = this one); -1 if unreadable.
double cpu_seconds(int pid) {
  const std::string path = pid == 0 ? "/proc/self/stat" : "/proc/" + std::to_string(pid) + "/stat";
  std::ifstream in(path);
  std::string stat;
  std::getline(in, stat);
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  // Fields after the command name: state is field 3; utime and stime are 14 and 15.
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU used by each named process (and the benchmark itself) over one phase.
struct CpuMeter {
  std::vector<std::pair<std::string, int>> pids;  // the benchmark itself is added as "bench"
  std::vector<double> start;

  explicit CpuMeter(const std::vector<std::pair<std::string, int>>& servers) : pids(servers) {
    pids.emplace_back("bench client", 0);
    for (const auto& [name, pid] : pids) start.push_back(cpu_seconds(pid));
  }
  // "gateway 412 us, scheduling 120 us, ... per search" over `ops` operations.
  std::string per_op(std::uint64_t ops, const char* what) const {
    if (ops == 0) return "";
    std::string out;
    double servers = 0;
    char buf[96];
    for (std::size_t i = 0; i < pids.size(); ++i) {
      const double used = cpu_seconds(pids[i].second) - start[i];
      const double us = used * 1e6 / static_cast<double>(ops);
      if (pids[i].second != 0) servers += us;
      std::snprintf(buf, sizeof buf, "%s%s %.0f us", out.empty() ? "" : ", ", pids[i].first.c_str(), us);
      out += buf;
    }
    std::snprintf(buf, sizeof buf, " (servers together %.0f us) per %s", servers, what);
    return out + buf;
  }
};

std::string describe_statuses(const std::map<int, std::uint64_t>& by_status) {
  std::string out;
  for (const auto& [status, n] : by_status)
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " x " +
           (status == 0 ? std::string("transport error") : "HTTP " + std::to_string(status));
  return out.empty() ? "none" : out;
}

// ------------------------------------------------------------------ setup

std::string str(const json::value& v, std::string_view key) { return std::string(v.at(key).as_string()); }

[[noreturn]] void setup_failed(const std::string& what, const Error& e) {
  // The error message comes from the gateway's error body: a code and a field, no secrets.
  std::fprintf(stderr, "[scheduling-bench] setup failed: %s: %s (%s)\n", what.c_str(), e.message.c_str(),
               std::string(code_name(e.code)).c_str());
  std::exit(3);
}

json::value must(Result<json::value> r, const std::string& what) {
  if (!r) setup_failed(what, r.error());
  return std::move(*r);
}

struct Practice {
  std::string therapist_id, type_id;
  std::string busy_therapist_id;  // same hours, every third hour of the searched weeks booked
  std::vector<std::string> client_ids;
  client::Tokens desk;  // the front desk's tokens: every measured call is the front desk's
};

Practice bootstrap(const client::Endpoint& ep, const Options& o) {
  std::ifstream in(o.operator_token_file);
  std::string operator_token;
  std::getline(in, operator_token);
  if (operator_token.empty())
    setup_failed("operator token", invalid_argument("--operator-token-file", "file is empty or unreadable"));

  // Fresh random passwords, kept in memory only.
  const std::string domain = "@" + o.slug + ".example";
  std::map<std::string, std::string> passwords;
  auto password_of = [&](const std::string& email) -> const std::string& {
    auto& p = passwords[email];
    if (p.empty()) p = bench::random_password();
    return p;
  };

  client::AllianceClient anonymous(ep);
  json::value practice = {{"operator_token", operator_token},
                          {"name", "Scheduling Benchmark Practice"},
                          {"slug", o.slug},
                          {"admin_email", "admin" + domain},
                          {"admin_password", password_of("admin" + domain)},
                          {"admin_display_name", "Bench Admin"}};
  must(anonymous.call_json("POST", "/v1/practices", &practice, false), "create practice");

  client::AllianceClient admin(ep);
  if (auto t = admin.login(o.slug, "admin" + domain, password_of("admin" + domain)); !t)
    setup_failed("admin login", t.error());
  auto create_user = [&](const std::string& local, const std::string& role) {
    json::value body = {
        {"email", local + domain}, {"password", password_of(local + domain)}, {"display_name", local}, {"role", role}};
    return str(must(admin.post_json("/v1/users", body), "create " + role).at("user"), "id");
  };
  Practice p;
  p.therapist_id = create_user("therapist", "therapist");
  p.busy_therapist_id = create_user("therapist2", "therapist");
  create_user("desk", "front_desk");
  for (int i = 0; i < kClients; ++i) {
    p.client_ids.push_back(create_user("client" + std::to_string(i), "client"));
    json::value link = {{"client_id", p.client_ids.back()}, {"therapist_id", p.therapist_id}};
    must(admin.post_json("/v1/care-team", link), "care team");
  }

  json::value type = {{"name", "Individual therapy"}, {"duration_minutes", 50},
                      {"modality", "telehealth"},     {"buffer_before_minutes", 10},
                      {"buffer_after_minutes", 10},   {"step_minutes", 60},
                      {"min_notice_minutes", 0},      {"booking_horizon_days", kHorizonDays},
                      {"client_self_booking", false}};
  p.type_id = str(must(admin.post_json("/v1/appointment-types", type), "create appointment type").at("type"), "id");

  json::array weekly;
  for (int d = 0; d <= 6; ++d) weekly.push_back(json::value{{"weekday", d}, {"start", "00:00"}, {"end", "24:00"}});
  json::value availability = {{"time_zone", "UTC"}, {"weekly", weekly}};
  for (const auto& t : {p.therapist_id, p.busy_therapist_id})
    must(admin.call_json("PUT", "/v1/therapists/" + t + "/availability", &availability), "set availability");

  client::AllianceClient desk(ep);
  auto t = desk.login(o.slug, "desk" + domain, password_of("desk" + domain));
  if (!t) setup_failed("front desk login", t.error());
  p.desk = *t;
  return p;
}

// `shape`: "slots" (one object per slot) or "slot-runs" (the compact answer).
std::string slots_target(const Practice& p, std::chrono::sys_seconds from, std::chrono::sys_seconds to,
                         const char* shape = "slots", const std::string& therapist = {}) {
  return "/v1/therapists/" + (therapist.empty() ? p.therapist_id : therapist) + "/" + shape +
         "?type_id=" + p.type_id +
         "&from=" + client::url_encode(format_utc(from)) + "&to=" + client::url_encode(format_utc(to));
}

// Every open slot from tomorrow 00:00 UTC to the booking horizon, 42 days per search.
std::vector<std::string> all_open_slots(client::AllianceClient& desk, const Practice& p) {
  std::vector<std::string> out;
  for (int day = 1; day < kHorizonDays; day += kMaxSearchDays) {
    auto r =
        must(desk.get_json(slots_target(p, midnight_utc_in(day), midnight_utc_in(day + kMaxSearchDays))), "list slots");
    for (const auto& s : r.at("slots").as_array()) out.push_back(str(s, "start_time"));
  }
  return out;
}

// ------------------------------------------------------------------ closed loop

struct LoopResult {
  std::uint64_t ok = 0;
  std::map<int, std::uint64_t> failures;  // status (0 = transport error) -> count
  std::string first_failure;              // status and body of the first failure (ids and codes only)
  Latencies latency;                      // successful requests started after the warm-up
  double measured_s = 0;                  // from the end of warm-up to the last answer
  int connections_opened = 0;
  bool ran_out = false;  // the work ran out before the duration did
  std::uint64_t warmup_answers = 0;  // answers to requests sent during the warm-up
};

// One step of a closed loop: sends one request on `http` and returns its status
// (0 for a transport failure) and body, or nullopt when there is no work left.
struct Answer {
  int status = 0;
  std::string body;
};
using Step = std::function<std::optional<Answer>(client::HttpsClient&)>;

// `threads` threads, each with its own connection (opened before the clock starts),
// run `step` back to back for warm-up + duration; a request counts if it started
// after the warm-up. A step is successful when its status is `ok_status`.
LoopResult closed_loop(const client::Endpoint& ep, int threads, std::chrono::seconds warmup,
                       std::chrono::seconds duration, int ok_status, const Step& step) {
  std::vector<LoopResult> per(static_cast<std::size_t>(threads));
  std::vector<Clock::time_point> last_end(static_cast<std::size_t>(threads));
  std::latch connected(threads + 1);
  Clock::time_point start;
  std::atomic<bool> go{false};
  std::atomic<bool> ran_out{false};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      auto& mine = per[static_cast<std::size_t>(i)];
      client::HttpsClient http(ep);
      auto warm = http.request("GET", "/healthz", {}, {}, kRequestTimeout);
      if (!warm) ++mine.failures[0];
      connected.arrive_and_wait();
      while (!go.load()) std::this_thread::yield();
      const auto measure_from = start + warmup, until = measure_from + duration;
      for (;;) {
        const auto sent = Clock::now();
        if (sent >= until) break;
        auto answer = step(http);
        const auto done = Clock::now();
        if (!answer) {
          ran_out = true;
          break;
        }
        if (sent < measure_from) {
          ++mine.warmup_answers;
          continue;
        }
        last_end[static_cast<std::size_t>(i)] = done;
        if (answer->status == ok_status) {
          ++mine.ok;
          mine.latency.add(done - sent);
        } else {
          if (mine.failures.empty())
            mine.first_failure = "HTTP " + std::to_string(answer->status) + ": " + answer->body.substr(0, 300);
          ++mine.failures[answer->status];
        }
      }
      mine.connections_opened = http.connections_opened();
    });
  }
  connected.arrive_and_wait();
  start = Clock::now();
  go = true;
  for (auto& t : pool) t.join();

  LoopResult total;
  Clock::time_point end = start + warmup;
  for (std::size_t i = 0; i < per.size(); ++i) {
    total.ok += per[i].ok;
    for (auto [status, n] : per[i].failures) total.failures[status] += n;
    if (total.first_failure.empty()) total.first_failure = per[i].first_failure;
    total.latency.merge(per[i].latency);
    total.connections_opened += per[i].connections_opened;
    total.warmup_answers += per[i].warmup_answers;
    end = std::max(end, last_end[i]);
  }
  total.latency.sort();
  total.measured_s = std::chrono::duration<double>(end - (start + warmup)).count();
  total.ran_out = ran_out;
  return total;
}

std::optional<Answer> send(client::HttpsClient& http, std::string_view method, const std::string& target,
                           const std::string& body, const std::string& bearer) {
  auto r = http.request(method, target, body, bearer, kRequestTimeout);
  if (!r) return Answer{0, r.error().message};
  return Answer{r->status, std::move(r->body)};
}

void print_loop(const LoopResult& r, const char* what) {
  double rate = r.measured_s > 0 ? static_cast<double>(r.ok) / r.measured_s : 0;
  std::printf("  %.0f %s/s (%" PRIu64 " in %.2f s)\n", rate, what, r.ok, r.measured_s);
  std::printf("  latency p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", r.latency.percentile_ms(50),
              r.latency.percentile_ms(90), r.latency.percentile_ms(99), r.latency.percentile_ms(100));
  std::printf("  failures: %s; connections opened: %d\n", describe_statuses(r.failures).c_str(), r.connections_opened);
  if (!r.first_failure.empty()) std::printf("  first failure: %s\n", r.first_failure.c_str());
}

// ------------------------------------------------------------------ the same slot at once

struct RoundResult {
  std::string slot;
  int created = 0, conflicts = 0, conflicts_without_reason = 0;
  std::map<int, std::uint64_t> other;  // other statuses (0 = transport error)
  int stored = -1;                     // booked appointments found at the slot afterwards
  double slowest_ms = 0;               // from release to the last answer
};

// `racers` threads with their own warmed-up connections; each round the main thread
// names a fresh slot and releases all of them at once through a barrier.
std::vector<RoundResult> race(const client::Endpoint& ep, const Practice& p, const std::vector<std::string>& slots,
                              int racers, client::AllianceClient& desk) {
  const auto n = static_cast<std::size_t>(racers);
  std::vector<int> status(n);
  std::vector<std::string> body(n);
  std::vector<Clock::duration> took(n);
  std::barrier<> sync(racers + 1);
  std::size_t round = 0;
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  for (std::size_t i = 0; i < n; ++i) {
    pool.emplace_back([&, i] {
      client::HttpsClient http(ep);
      (void)http.request("GET", "/healthz", {}, {}, kRequestTimeout);  // TLS up before the first round
      for (;;) {
        sync.arrive_and_wait();  // released together
        if (stop) return;
        json::value req = {{"idempotency_key", new_id()},
                           {"therapist_id", p.therapist_id},
                           {"client_id", p.client_ids[(i + round) % p.client_ids.size()]},
                           {"type_id", p.type_id},
                           {"start_time", slots[round]}};
        const auto sent = Clock::now();
        auto a = send(http, "POST", "/v1/appointments", json::serialize(req), p.desk.access_token);
        took[i] = Clock::now() - sent;
        status[i] = a->status;
        body[i] = std::move(a->body);
        sync.arrive_and_wait();  // all answered
      }
    });
  }
  std::vector<RoundResult> results;
  for (round = 0; round < slots.size(); ++round) {
    sync.arrive_and_wait();
    sync.arrive_and_wait();
    RoundResult r;
    r.slot = slots[round];
    for (std::size_t i = 0; i < n; ++i) {
      if (status[i] == 201) {
        ++r.created;
      } else if (status[i] == 409) {
        ++r.conflicts;
        if (body[i].find("overlaps another appointment") == std::string::npos) ++r.conflicts_without_reason;
      } else {
        ++r.other[status[i]];
      }
      r.slowest_ms = std::max(r.slowest_ms, std::chrono::duration<double, std::milli>(took[i]).count());
    }
    // What is stored, not only what was answered: booked appointments starting at the slot.
    auto at = parse_utc(r.slot);
    if (at) {
      auto list = desk.get_json("/v1/appointments?therapist_id=" + p.therapist_id +
                                "&from=" + client::url_encode(format_utc(*at - std::chrono::hours(1))) +
                                "&to=" + client::url_encode(format_utc(*at + std::chrono::hours(1))));
      if (list) {
        r.stored = 0;
        for (const auto& a : list->at("appointments").as_array())
          if (str(a, "start_time") == r.slot && str(a, "status") != "cancelled") ++r.stored;
      }
    }
    results.push_back(std::move(r));
  }
  stop = true;
  sync.arrive_and_wait();
  for (auto& t : pool) t.join();
  return results;
}

// ------------------------------------------------------------------ main

int run(const Options& o) {
  auto ep = client::parse_gateway_url(o.url, o.ca);
  if (!ep) {
    std::fprintf(stderr, "alliance-scheduling-bench: %s\n", ep.error().message.c_str());
    return 2;
  }
  if (!is_loopback(ep->host)) {
    std::fprintf(stderr, "alliance-scheduling-bench: refusing a non-loopback gateway (%s)\n", ep->host.c_str());
    return 2;
  }
  bool failed = false;

  std::fprintf(stderr, "[scheduling-bench] bootstrapping practice '%s'\n", o.slug.c_str());
  const Practice p = bootstrap(*ep, o);
  client::AllianceClient desk(*ep);
  desk.set_tokens(p.desk);
  desk.set_timeout(kRequestTimeout);
  auto slots = all_open_slots(desk, p);
  const std::size_t race_count = static_cast<std::size_t>(o.race_rounds);
  std::fprintf(stderr, "[scheduling-bench] %zu open slots over the next %d days\n", slots.size(), kHorizonDays);
  if (slots.size() < race_count + 100) {
    std::fprintf(stderr, "[scheduling-bench] error: too few open slots (%zu)\n", slots.size());
    return 3;
  }
  // The first slots are kept fresh for the same-slot rounds; bookings take the rest.
  std::vector<std::string> race_slots(slots.begin(), slots.begin() + static_cast<std::ptrdiff_t>(race_count));
  std::vector<std::string> book_slots(slots.begin() + static_cast<std::ptrdiff_t>(race_count), slots.end());

  std::printf(
      "practice: 2 therapists (availability every day 00:00-24:00 UTC; the second with every third hour of the\n"
      "searched 4 weeks booked), 1 front desk, %d clients\n",
      kClients);
  std::printf("type: 50 min, buffers 10/10 min, hourly grid, no minimum notice, horizon %d days -> %zu open slots\n",
              kHorizonDays, slots.size());
  std::printf("every measured call is the front desk's, over HTTPS (TLS) through the gateway\n\n");
  std::fflush(stdout);

  // a) slot search over 4 weeks, on the still empty calendar: the compact answer, then
  // (A/B, back to back) the long one with an object per slot.
  // The second therapist's calendar is cut up: every third hour of the searched weeks
  // booked, so the compact answer holds a run per two open hours.
  {
    const auto busy = slots_target(p, midnight_utc_in(1), midnight_utc_in(1 + kSearchDays), "slots",
                                   p.busy_therapist_id);
    const auto open = must(desk.get_json(busy), "busy therapist's slots").at("slots").as_array();
    for (std::size_t i = 0; i < open.size(); i += 3) {
      json::value req = {{"idempotency_key", new_id()},
                         {"therapist_id", p.busy_therapist_id},
                         {"client_id", p.client_ids[i % p.client_ids.size()]},
                         {"type_id", p.type_id},
                         {"start_time", str(open[i], "start_time")}};
      must(desk.post_json("/v1/appointments", req), "book the busy therapist's calendar");
    }
  }
  struct Shape {
    const char* route;
    const char* label;
    const char* items;
    std::string therapist;
  };
  const Shape shapes[] = {{"slot-runs", "compact answer (GET .../slot-runs)", "runs", p.therapist_id},
                          {"slots", "long answer (GET .../slots)", "slots", p.therapist_id},
                          {"slot-runs", "compact answer, every third hour booked", "runs", p.busy_therapist_id}};
  LoopResult searched;
  double search_rps[3] = {0, 0, 0};
  for (int k = 0; k < 3; ++k) {
    const Shape& shape = shapes[k];
    const std::string search =
        slots_target(p, midnight_utc_in(1), midnight_utc_in(1 + kSearchDays), shape.route, shape.therapist);
    auto sample = must(desk.get_json(search), "search sample");
    const auto items = sample.at(shape.items).as_array().size();
    std::fprintf(stderr, "[scheduling-bench] a) slot search, %s: %d connections, %d s\n", shape.route,
                 o.search_connections, o.search_seconds);
    const double load_before = load_1min();
    CpuMeter cpu(o.cpu_pids);
    auto result = closed_loop(
        *ep, o.search_connections, std::chrono::seconds(o.warmup_seconds), std::chrono::seconds(o.search_seconds),
        200, [&](client::HttpsClient& http) { return send(http, "GET", search, {}, p.desk.access_token); });
    std::printf(
        "a%d) slot search, 4 weeks, %s: %zu %s, %zu bytes per answer; closed loop,\n"
        "   %d connections, %d s after %d s warm-up; 1-min load %.2f before, %.2f after:\n",
        k + 1, shape.label, items, shape.items, json::serialize(sample).size(), o.search_connections,
        o.search_seconds, o.warmup_seconds, load_before, load_1min());
    print_loop(result, "searches");
    // Counted over the warm-up too: every search the servers answered in the phase.
    const auto answered = result.ok + result.warmup_answers;
    if (!o.cpu_pids.empty()) std::printf("  CPU: %s\n", cpu.per_op(answered, "search").c_str());
    failed |= !result.failures.empty();
    search_rps[k] = result.measured_s > 0 ? static_cast<double>(result.ok) / result.measured_s : 0;
    if (k == 0) searched = std::move(result);
    if (k == 1 && search_rps[1] > 0)
      std::printf("  compact / long: %.2fx the searches per second\n", search_rps[0] / search_rps[1]);
  }

  // b) bookings on distinct slots, each thread taking the next unbooked slot.
  std::atomic<std::size_t> next{0};
  std::fprintf(stderr, "[scheduling-bench] b) bookings: %d threads, %d s\n", o.book_threads, o.book_seconds);
  CpuMeter book_cpu(o.cpu_pids);
  auto booked =
      closed_loop(*ep, o.book_threads, std::chrono::seconds(o.warmup_seconds), std::chrono::seconds(o.book_seconds),
                  201, [&](client::HttpsClient& http) -> std::optional<Answer> {
                    auto k = next.fetch_add(1);
                    if (k >= book_slots.size()) return std::nullopt;
                    json::value req = {{"idempotency_key", new_id()},
                                       {"therapist_id", p.therapist_id},
                                       {"client_id", p.client_ids[k % p.client_ids.size()]},
                                       {"type_id", p.type_id},
                                       {"start_time", book_slots[k]}};
                    return send(http, "POST", "/v1/appointments", json::serialize(req), p.desk.access_token);
                  });
  const auto booked_total = std::min(next.load(), book_slots.size());
  std::printf(
      "\nb) bookings on distinct slots (POST /v1/appointments by the front desk, unique idempotency keys),\n"
      "   closed loop, %d threads, %d s after %d s warm-up (%zu bookings made in all, calendar grows as it runs):\n",
      o.book_threads, o.book_seconds, o.warmup_seconds, booked_total);
  print_loop(booked, "bookings");
  if (!o.cpu_pids.empty())
    std::printf("  CPU: %s\n", book_cpu.per_op(booked.ok + booked.warmup_answers, "booking").c_str());
  if (booked.ran_out) std::printf("  NOTE: the open slots ran out before the duration did\n");
  failed |= !booked.failures.empty();

  // d) the front desk's week view of both therapists, now full of bookings: each answer
  // shows up to kClients clients per therapist, and each client shown is one audit record.
  const std::string week = format_utc(midnight_utc_in(1)).substr(0, 10);
  const std::string view_target = "/v1/calendar?date=" + week + "&days=7&time_zone=UTC&therapist_ids=" +
                                  p.therapist_id + "," + p.busy_therapist_id;
  auto view_sample = must(desk.get_json(view_target), "calendar view sample");
  std::size_t shown = 0;
  for (const auto& t : view_sample.at("therapists").as_array()) shown += t.at("appointments").as_array().size();
  std::fprintf(stderr, "[scheduling-bench] d) calendar view: %d connections, %d s\n", o.search_connections,
               o.view_seconds);
  const double view_load_before = load_1min();
  CpuMeter view_cpu(o.cpu_pids);
  auto viewed = closed_loop(
      *ep, o.search_connections, std::chrono::seconds(o.warmup_seconds), std::chrono::seconds(o.view_seconds), 200,
      [&](client::HttpsClient& http) { return send(http, "GET", view_target, {}, p.desk.access_token); });
  std::printf(
      "\nd) calendar view (GET /v1/calendar, a week of both therapists: %zu appointments of up to %d clients,\n"
      "   %zu bytes per answer); closed loop, %d connections, %d s after %d s warm-up; 1-min load %.2f before,\n"
      "   %.2f after:\n",
      shown, kClients, json::serialize(view_sample).size(), o.search_connections, o.view_seconds, o.warmup_seconds,
      view_load_before, load_1min());
  print_loop(viewed, "views");
  if (!o.cpu_pids.empty())
    std::printf("  CPU: %s\n", view_cpu.per_op(viewed.ok + viewed.warmup_answers, "view").c_str());
  failed |= !viewed.failures.empty();

  // c) the same fresh slot from `racers` connections at once, `race_rounds` times.
  std::fprintf(stderr, "[scheduling-bench] c) same slot: %d rounds of %d concurrent bookings\n", o.race_rounds,
               o.racers);
  auto rounds = race(*ep, p, race_slots, o.racers, desk);
  std::printf(
      "\nc) the same fresh slot booked by %d threads at once (own connections, released by a barrier),\n"
      "   %d rounds:\n",
      o.racers, o.race_rounds);
  int good_rounds = 0, double_booked = 0;
  double slowest = 0;
  std::vector<double> round_ms;
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    const auto& r = rounds[i];
    const bool ok = r.created == 1 && r.conflicts == o.racers - 1 && r.conflicts_without_reason == 0 && r.stored == 1;
    good_rounds += ok ? 1 : 0;
    if (r.created > 1 || r.stored > 1) ++double_booked;
    slowest = std::max(slowest, r.slowest_ms);
    round_ms.push_back(r.slowest_ms);
    if (!ok)
      std::printf(
          "  round %2zu %s: FAILED: %d x 201, %d x 409 (%d without the overlap reason), other: %s, "
          "stored at the slot: %d\n",
          i + 1, r.slot.c_str(), r.created, r.conflicts, r.conflicts_without_reason, describe_statuses(r.other).c_str(),
          r.stored);
  }
  std::sort(round_ms.begin(), round_ms.end());
  std::printf("  rounds with exactly one 201, %d x 409 \"overlaps another appointment\" and one stored: %d of %zu\n",
              o.racers - 1, good_rounds, rounds.size());
  std::printf("  time from release to the last of the %d answers: median %.1f ms, slowest %.1f ms\n", o.racers,
              round_ms.empty() ? 0 : round_ms[round_ms.size() / 2], slowest);
  if (good_rounds == static_cast<int>(rounds.size())) {
    std::printf("  double bookings: 0\n");
  } else {
    std::printf(
        "  !!!!!!!! SAME-SLOT TEST FAILED: %d of %zu rounds did not end with exactly one booking "
        "(%d with more than one) !!!!!!!!\n",
        static_cast<int>(rounds.size()) - good_rounds, rounds.size(), double_booked);
    failed = true;
  }

  std::printf(
      "\nRESULT search_rps=%.0f search_long_rps=%.0f search_busy_rps=%.0f search_p50_ms=%.2f search_p99_ms=%.2f search_failures=%" PRIu64
      " book_rps=%.0f book_p50_ms=%.2f book_p99_ms=%.2f book_failures=%" PRIu64
      " calendar_rps=%.0f calendar_p99_ms=%.2f race_rounds=%zu race_good_rounds=%d double_bookings=%d\n",
      search_rps[0], search_rps[1], search_rps[2], searched.latency.percentile_ms(50), searched.latency.percentile_ms(99),
      [&] {
        std::uint64_t n = 0;
        for (auto [s, c] : searched.failures) n += c;
        return n;
      }(),
      booked.measured_s > 0 ? static_cast<double>(booked.ok) / booked.measured_s : 0, booked.latency.percentile_ms(50),
      booked.latency.percentile_ms(99),
      [&] {
        std::uint64_t n = 0;
        for (auto [s, c] : booked.failures) n += c;
        return n;
      }(),
      viewed.measured_s > 0 ? static_cast<double>(viewed.ok) / viewed.measured_s : 0, viewed.latency.percentile_ms(99),
      rounds.size(), good_rounds, double_booked);
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace alliance::bench

int main(int argc, char** argv) {
  auto o = alliance::bench::parse_options(argc, argv);
  if (!o) {
    if (o.error().message != "help")
      std::fprintf(stderr, "alliance-scheduling-bench: %s\n\n", o.error().message.c_str());
    std::fputs(alliance::bench::usage().c_str(), stderr);
    return 2;
  }
  try {
    return alliance::bench::run(*o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "alliance-scheduling-bench: %s\n", e.what());
    return 3;
  }
}
