// alliance-messaging-bench: the messaging benchmark behind bench/messaging.sh.
// Through a running gateway (loopback only) it bootstraps a practice with P
// client-therapist pairs (each client on its therapist's care team), logs in one
// session per sending device and registers its keys, then measures:
//   a) durable messages accepted per second and the acknowledgement latency
//      (POST .../messages -> 201) with N concurrent senders, closed loop, for each
//      N in --senders. Each sender is its own session, device and HTTPS connection;
//      sender i is the client (i even) or the therapist (i odd) of pair (i/2) % P.
//      Every message is sealed with the SDK (Messenger::seal). By default each sender
//      is a thread with the blocking SDK that seals every message just before its timed
//      request (the sealing time is reported separately). With --seal-ahead K, every
//      request is sealed and made into whole HTTP bytes before the phase, and one thread
//      sends them all over N keep-alive TLS connections (ClosedLoopSenders,
//      async_sender.hpp), checking each answer's status, message id and seq without a
//      JSON parse: the client then costs little next to the servers. K is a first guess:
//      if a sender runs out, the phase is run again with enough for the rate seen;
//   b) send -> recipient socket: at a steady offered rate (open loop), clients of
//      the first S pairs send to their therapists, whose own devices hold a
//      WebSocket in this process; latency from just before the HTTP send to the
//      moment the push frame of that message is read from the recipient's socket
//      (same steady clock). Every pushed message is then opened on the recipient's
//      device and checked.
// With --watch name=PID it prints each process's CPU time per message (the servers'
// together next to this client's own, from getrusage over the same measured seconds)
// and its VmRSS/VmHWM after each phase. With --perf-control FIFO (one per `perf stat
// --delay=-1 --control fifo:FIFO` the caller started) it writes "enable" to each FIFO when
// an a) phase's measured seconds start and "disable" when they end, so those counters
// see only the measured seconds of a). Set-up, sealing and b) use the blocking SDK
// (one thread per connection).
// Figures on stdout, progress on stderr, last line "RESULT k=v ...". Exit 0 only
// if nothing failed.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "alliance/client/client.hpp"
#include "alliance/client/device.hpp"
#include "alliance/client/messenger.hpp"
#include "alliance/core/ids.hpp"
#include "async_sender.hpp"
#include "bench_support.hpp"

namespace alliance::bench {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kRequestTimeout = 30s;  // per request; a slower answer counts as an error
constexpr auto kPushGrace = 5s;        // how long to wait for the last pushes after sending stops

struct Options {
  std::string url;
  std::filesystem::path ca;
  std::filesystem::path operator_token_file;
  std::string slug = "msgbench";
  std::vector<int> senders = {1, 8, 32, 64};
  int pairs = 16;
  int seconds = 5;
  int warmup_seconds = 1;
  int message_bytes = 200;
  int push_rate = 200;
  int push_seconds = 10;
  int push_pairs = 8;
  // Messages each sender seals before the accepted-rate phase starts (0 = seal each one
  // just before its request); more if a sender uses them up. Sealing costs the client
  // ~1 ms of CPU per message on the same two cores as the servers; sealing ahead (and
  // sending from one thread) measures what the servers can take.
  int seal_ahead = 0;
  std::vector<Watched> watch;
  std::vector<std::string> perf_controls;  // FIFOs of `perf stat --control`
};

std::string usage() {
  return "usage: alliance-messaging-bench --url https://127.0.0.1:PORT --ca CA.pem --operator-token-file FILE\n"
         "         [--slug msgbench] [--senders 1,8,32,64] [--pairs 16] [--seconds 5] [--warmup 1]\n"
         "         [--message-bytes 200] [--push-rate 200] [--push-seconds 10] [--push-pairs 8]\n"
         "         [--seal-ahead K] [--watch name=PID]... [--perf-control FIFO]...\n"
         "Loopback gateways only. The operator token is read from the file, never from the command line.\n";
}

Result<Options> parse_options(int argc, char** argv) {
  Options o;
  struct IntOpt {
    int* value;
    int min, max;
  };
  std::map<std::string, IntOpt, std::less<>> ints = {
      {"--pairs", {&o.pairs, 1, 200}},
      {"--seconds", {&o.seconds, 1, 120}},
      {"--warmup", {&o.warmup_seconds, 0, 30}},
      {"--message-bytes", {&o.message_bytes, 1, 60000}},
      {"--push-rate", {&o.push_rate, 1, 20000}},
      {"--push-seconds", {&o.push_seconds, 1, 120}},
      {"--push-pairs", {&o.push_pairs, 1, 200}},
      {"--seal-ahead", {&o.seal_ahead, 0, 100000}},
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
    } else if (key == "--senders") {
      o.senders.clear();
      std::stringstream ss(value);
      std::string item;
      while (std::getline(ss, item, ',')) {
        auto n = parse_int(key, item, 1, 512);
        if (!n) return n.error();
        o.senders.push_back(*n);
      }
      if (o.senders.empty()) return invalid_argument(key, key + ": needs at least one count");
    } else if (key == "--watch") {
      auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0) return invalid_argument(key, key + ": expected name=PID");
      auto pid = parse_int(key, value.substr(eq + 1), 1, 1 << 30);
      if (!pid) return pid.error();
      o.watch.push_back({value.substr(0, eq), *pid});
    } else if (key == "--perf-control") {
      if (value.empty()) return invalid_argument(key, key + ": expected the path of a FIFO");
      o.perf_controls.push_back(value);
    } else if (auto it = ints.find(key); it != ints.end()) {
      auto v = parse_int(key, value, it->second.min, it->second.max);
      if (!v) return v.error();
      *it->second.value = *v;
    } else {
      return invalid_argument(key, key + ": unknown option");
    }
  }
  if (o.url.empty()) return invalid_argument("--url", "--url is required");
  if (o.ca.empty()) return invalid_argument("--ca", "--ca is required");
  if (o.operator_token_file.empty())
    return invalid_argument("--operator-token-file", "--operator-token-file is required");
  if (o.push_pairs > o.pairs) return invalid_argument("--push-pairs", "--push-pairs: must not exceed --pairs");
  return o;
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
  double mean_ms() const {
    if (us.empty()) return 0;
    double sum = 0;
    for (auto v : us) sum += v;
    return sum / static_cast<double>(us.size()) / 1000.0;
  }
};

std::string line_of(const Latencies& l) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms", l.percentile_ms(50),
                l.percentile_ms(90), l.percentile_ms(99), l.percentile_ms(100));
  return buf;
}

// ------------------------------------------------------------------ watched processes

// CPU used by each watched process (and this one) between two snapshots.
struct CpuSnapshot {
  std::vector<double> watched;
  std::vector<double> written;  // bytes to storage, per watched process
  double self = 0;
  Clock::time_point at;
};

CpuSnapshot cpu_snapshot(const Options& o) {
  CpuSnapshot s;
  for (const auto& w : o.watch) {
    s.watched.push_back(cpu_seconds(w.pid));
    s.written.push_back(written_bytes(w.pid));
  }
  s.self = self_cpu_seconds();
  s.at = Clock::now();
  return s;
}

// Tells every `perf stat --control` FIFO to start or stop counting ("enable", "disable").
void perf_control(const Options& o, const char* command) {
  for (const auto& fifo : o.perf_controls) {
    int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    bool ok = fd >= 0;
    if (ok) {
      const std::string line = std::string(command) + "\n";
      ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
      ::close(fd);
    }
    if (!ok) std::fprintf(stderr, "[messaging-bench] perf control %s: cannot write \"%s\"\n", fifo.c_str(), command);
  }
}

// CPU per message over a phase: the servers together (every watched process but identity,
// which is given apart as bench/README does), identity, and this benchmark client.
struct CpuPerMessage {
  double servers_us = 0, identity_us = 0, client_us = 0;
};

// Prints each process's CPU over the phase and, per message, the servers' next to this
// client's; then the watched processes' memory.
CpuPerMessage print_cpu(const Options& o, const CpuSnapshot& before, const CpuSnapshot& after,
                        std::uint64_t messages) {
  const double wall = std::chrono::duration<double>(after.at - before.at).count();
  auto per_message = [&](double used) { return messages ? used * 1e6 / static_cast<double>(messages) : 0.0; };
  CpuPerMessage cpu;
  std::string servers;
  std::string out = "  CPU during the phase (" + std::to_string(static_cast<int>(wall + 0.5)) + " s wall, " +
                    std::to_string(messages) + " messages):";
  auto one = [&](const std::string& name, double used) {
    char buf[160];
    if (used < 0) {
      std::snprintf(buf, sizeof buf, " %s GONE;", name.c_str());
    } else {
      std::snprintf(buf, sizeof buf, " %s %.2f s (%.0f us/msg);", name.c_str(), used, per_message(used));
    }
    out += buf;
  };
  for (std::size_t i = 0; i < o.watch.size(); ++i) {
    const double a = after.watched[i], b = before.watched[i];
    const double used = (a < 0 || b < 0) ? -1 : a - b;
    one(o.watch[i].name, used);
    if (used < 0) continue;
    if (o.watch[i].name == "identity") {
      cpu.identity_us = per_message(used);
    } else {
      cpu.servers_us += per_message(used);
      servers += (servers.empty() ? "" : " + ") + o.watch[i].name;
    }
  }
  cpu.client_us = per_message(after.self - before.self);
  one("bench", after.self - before.self);
  out.pop_back();
  std::printf("%s\n", out.c_str());
  if (!o.watch.empty()) {
    std::printf("  CPU per message: servers %.0f us (%s), identity %.0f us; this benchmark client %.0f us\n",
                cpu.servers_us, servers.c_str(), cpu.identity_us, cpu.client_us);
    // What each process wrote to its files (messaging's store: WAL, then checkpoints).
    std::string written;
    for (std::size_t i = 0; i < o.watch.size(); ++i) {
      const double bytes = after.written[i] - before.written[i];
      if (after.written[i] < 0 || before.written[i] < 0 || bytes <= 0 || messages == 0) continue;
      char buf[160];
      std::snprintf(buf, sizeof buf, " %s %.1f MB (%.1f KB/msg);", o.watch[i].name.c_str(), bytes / 1e6,
                    bytes / 1e3 / static_cast<double>(messages));
      written += buf;
    }
    if (!written.empty()) {
      written.pop_back();
      std::printf("  written to storage during the phase:%s\n", written.c_str());
    }
    std::string mem = "  memory after the phase:";
    for (const auto& w : o.watch) mem += " " + w.name + " " + memory_of(w.pid) + ";";
    mem.pop_back();
    std::printf("%s\n", mem.c_str());
  }
  return cpu;
}

// ------------------------------------------------------------------ setup

[[noreturn]] void setup_failed(const std::string& what, const Error& e) {
  // The error message comes from the gateway's error body: a code and a field, no secrets.
  std::fprintf(stderr, "[messaging-bench] setup failed: %s: %s (%s)\n", what.c_str(), e.message.c_str(),
               std::string(code_name(e.code)).c_str());
  std::exit(3);
}

json::value must(Result<json::value> r, const std::string& what) {
  if (!r) setup_failed(what, r.error());
  return std::move(*r);
}

struct Pair {
  std::string client_id, therapist_id;
  std::string client_email, therapist_email;
  std::string conversation_id;
};

// One signed-in device: its session (own HTTPS connection), keys and Messenger.
struct Member {
  std::unique_ptr<client::AllianceClient> api;
  std::unique_ptr<client::Messenger> messenger;
  std::size_t pair = 0;
  bool is_client = true;
  std::string conversation_id;
};

struct Practice {
  std::vector<Pair> pairs;
  std::map<std::string, std::string> passwords;  // by email; in memory only
};

Practice bootstrap(const client::Endpoint& ep, const Options& o) {
  std::ifstream in(o.operator_token_file);
  std::string operator_token;
  std::getline(in, operator_token);
  if (operator_token.empty())
    setup_failed("operator token", invalid_argument("--operator-token-file", "file is empty or unreadable"));

  Practice p;
  const std::string domain = "@" + o.slug + ".example";
  auto password_of = [&](const std::string& email) -> const std::string& {
    auto& pw = p.passwords[email];
    if (pw.empty()) pw = bench::random_password();
    return pw;
  };

  client::AllianceClient anonymous(ep);
  json::value practice = {{"operator_token", operator_token},
                          {"name", "Messaging Benchmark Practice"},
                          {"slug", o.slug},
                          {"admin_email", "admin" + domain},
                          {"admin_password", password_of("admin" + domain)},
                          {"admin_display_name", "Bench Admin"}};
  must(anonymous.call_json("POST", "/v1/practices", &practice, false), "create practice");

  client::AllianceClient admin(ep);
  if (auto t = admin.login(o.slug, "admin" + domain, password_of("admin" + domain)); !t)
    setup_failed("admin login", t.error());
  auto create_user = [&](const std::string& email, const std::string& role) {
    json::value body = {{"email", email}, {"password", password_of(email)}, {"display_name", email}, {"role", role}};
    return std::string(must(admin.post_json("/v1/users", body), "create " + role).at("user").at("id").as_string());
  };
  for (int i = 0; i < o.pairs; ++i) {
    Pair pair;
    pair.client_email = "client" + std::to_string(i) + domain;
    pair.therapist_email = "therapist" + std::to_string(i) + domain;
    pair.client_id = create_user(pair.client_email, "client");
    pair.therapist_id = create_user(pair.therapist_email, "therapist");
    json::value link = {{"client_id", pair.client_id}, {"therapist_id", pair.therapist_id}};
    must(admin.post_json("/v1/care-team", link), "care team");
    p.pairs.push_back(std::move(pair));
  }
  return p;
}

// Logs in a new session as the pair's client or therapist and registers its device.
Member make_member(const client::Endpoint& ep, const Options& o, const Practice& p, std::size_t pair, bool is_client,
                   const std::string& name) {
  Member m;
  m.pair = pair;
  m.is_client = is_client;
  m.api = std::make_unique<client::AllianceClient>(ep);
  m.api->set_timeout(kRequestTimeout);
  const auto& email = is_client ? p.pairs[pair].client_email : p.pairs[pair].therapist_email;
  if (auto t = m.api->login(o.slug, email, p.passwords.at(email)); !t) setup_failed("login " + name, t.error());
  auto d = client::register_device(*m.api, name);
  if (!d) setup_failed("register device " + name, d.error());
  m.messenger = std::make_unique<client::Messenger>(*m.api, std::move(*d));
  return m;
}

// Runs f(i) for i in [0, n) on `workers` threads.
void parallel_for(std::size_t n, int workers, const std::function<void(std::size_t)>& f) {
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      for (std::size_t i = next++; i < n; i = next++) f(i);
    });
  }
  for (auto& t : pool) t.join();
}

std::string filler(std::size_t bytes) {
  static const std::string text =
      "Thank you for the session today. I tried the breathing exercise twice and it helped a little. ";
  std::string out;
  while (out.size() < bytes) out += text;
  out.resize(bytes);
  return out;
}

// ------------------------------------------------------------------ one timed send

struct Sent {
  int status = 0;  // 0: transport error
  std::string error;
  std::int64_t seq = 0;
};

// POSTs an already sealed and serialized request on the member's own connection.
Sent post_sealed(Member& m, const client::SealedRequest& req, const std::string& body) {
  Sent out;
  auto r = m.api->http().request("POST", "/v1/conversations/" + client::url_encode(req.conversation_id) + "/messages",
                                 body, m.api->tokens().access_token, kRequestTimeout);
  if (!r) {
    out.error = r.error().message;
    return out;
  }
  out.status = r->status;
  if (r->status != 201) {
    out.error = "HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 300);
    return out;
  }
  boost::system::error_code ec;
  json::value v = json::parse(r->body, ec);
  const json::value* msg = (!ec && v.is_object()) ? v.as_object().if_contains("message") : nullptr;
  auto wire = msg ? client::wire_message_from_json(*msg) : Result<client::WireMessage>(invalid_argument("", ""));
  if (!wire || wire->message_id != req.message_id || wire->seq <= 0) {
    out.status = 0;
    out.error = "201 without this message in its answer";
    return out;
  }
  out.seq = wire->seq;
  return out;
}

// ------------------------------------------------------------------ a) accepted messages

struct AcceptResult {
  std::uint64_t ok = 0;
  std::map<int, std::uint64_t> failures;  // status (0 = transport/answer error, -1 = sealing) -> count
  std::string first_failure;
  Latencies ack, seal;
  double measured_s = 0;
  std::size_t keys_per_message = 0;
  Clock::time_point last_end;  // of the sender's last measured request
  // Sealed ahead: the requests each sender had made before the phase, and why that many.
  std::size_t sealed_per_sender = 0;
  std::string resized;
};

// Counts one answer of a sender if its request was sent from `measure_from` on.
void count_answer(AcceptResult& mine, Clock::time_point measure_from, Clock::time_point sent, Clock::time_point done,
                  int status, const std::string& error) {
  if (sent < measure_from) return;
  mine.last_end = done;
  if (status == 201) {
    ++mine.ok;
    mine.ack.add(done - sent);
  } else {
    if (mine.first_failure.empty()) mine.first_failure = error;
    ++mine.failures[status];
  }
}

// The senders' figures together, over the measured seconds from `measure_from` to the last answer.
AcceptResult merged(const std::vector<AcceptResult>& per, Clock::time_point measure_from) {
  AcceptResult total;
  Clock::time_point end = measure_from;
  for (const auto& p : per) {
    total.ok += p.ok;
    for (auto [status, k] : p.failures) total.failures[status] += k;
    if (total.first_failure.empty()) total.first_failure = p.first_failure;
    total.ack.merge(p.ack);
    total.seal.merge(p.seal);
    total.keys_per_message = std::max(total.keys_per_message, p.keys_per_message);
    end = std::max(end, p.last_end);
  }
  total.ack.sort();
  total.seal.sort();
  total.measured_s = std::chrono::duration<double>(end - measure_from).count();
  return total;
}

// Sealing in the loop (the "with sealing" figure): each sender its own thread and SDK
// connection, every message sealed with Messenger::seal just before its timed request.
// `measured_from` is taken when the measured seconds start (after the warm-up), so the
// servers' CPU is counted over the same window as the messages.
AcceptResult accept_run_sealing(std::vector<Member>& senders, int n, const Options& o, const std::string& plaintext,
                                CpuSnapshot& measured_from) {
  const auto count = static_cast<std::size_t>(n);
  std::vector<AcceptResult> per(count);
  std::latch ready(n + 1);
  std::atomic<bool> go{false};
  Clock::time_point start;
  const auto warmup = std::chrono::seconds(o.warmup_seconds), duration = std::chrono::seconds(o.seconds);
  std::vector<std::thread> pool;
  for (std::size_t i = 0; i < count; ++i) {
    pool.emplace_back([&, i] {
      auto& mine = per[i];
      auto& m = senders[i];
      ready.arrive_and_wait();
      while (!go.load()) std::this_thread::yield();
      const auto measure_from = start + warmup, until = measure_from + duration;
      while (Clock::now() < until) {
        const auto seal_start = Clock::now();
        auto sealed = m.messenger->seal(m.conversation_id, plaintext);
        if (!sealed) {
          if (mine.first_failure.empty()) mine.first_failure = "seal: " + sealed.error().message;
          ++mine.failures[-1];
          break;
        }
        const std::string body = json::serialize(sealed->body());
        const auto sent = Clock::now();
        auto answer = post_sealed(m, *sealed, body);
        const auto done = Clock::now();
        count_answer(mine, measure_from, sent, done, answer.status, answer.error);
        if (sent < measure_from) continue;
        mine.keys_per_message = sealed->keys.size();
        if (answer.status == 201) mine.seal.add(sent - seal_start);
      }
    });
  }
  ready.arrive_and_wait();
  start = Clock::now();
  go = true;
  std::this_thread::sleep_until(start + warmup);
  measured_from = cpu_snapshot(o);
  perf_control(o, "enable");
  for (auto& t : pool) t.join();
  perf_control(o, "disable");
  return merged(per, start + warmup);
}

constexpr auto kConnectTimeout = 10s;
constexpr int kMaxResizes = 3;        // phases run again when the sealed-ahead requests ran out
constexpr double kSealMargin = 1.3;   // requests sealed for a resized phase over the rate seen

// Tops up each of the first `n` senders' queues to `per_sender` requests, each sealed with
// the SDK, serialized and made a whole HTTP request before anything is timed. Returns the
// most keys a message carries.
std::size_t prepare_sends(std::vector<Member>& senders, std::size_t n, std::size_t per_sender,
                          const client::Endpoint& ep, const std::string& plaintext,
                          std::vector<std::vector<PreparedSend>>& queues) {
  std::vector<std::size_t> keys(n);
  parallel_for(n, 4, [&](std::size_t i) {
    auto& m = senders[i];
    const std::string target = "/v1/conversations/" + client::url_encode(m.conversation_id) + "/messages";
    auto& queue = queues[i];
    queue.reserve(per_sender);
    while (queue.size() < per_sender) {
      auto sealed = m.messenger->seal(m.conversation_id, plaintext);
      if (!sealed) setup_failed("seal ahead", sealed.error());
      keys[i] = sealed->keys.size();
      queue.push_back(prepare_post(ep, target, m.api->tokens().access_token, json::serialize(sealed->body()),
                                   sealed->message_id));
    }
  });
  return *std::max_element(keys.begin(), keys.end());
}

// Sealed ahead (what the servers can take): every request made whole before the phase and
// sent by ClosedLoopSenders from one thread over n keep-alive TLS connections (same
// sessions, devices and conversations as the SDK's), so the timed loop only writes bytes
// and reads answers. If a sender uses up its requests before the end, nothing is sealed
// while measured: the phase is run again, with its warm-up, once every sender has enough
// for the fastest sender's rate with a margin (kMaxResizes times at most; then the senders
// that ran out count as failures).
AcceptResult accept_run_sealed_ahead(std::vector<Member>& senders, int n, const Options& o,
                                     const client::Endpoint& ep, const std::string& plaintext,
                                     CpuSnapshot& measured_from) {
  const auto count = static_cast<std::size_t>(n);
  const auto warmup = std::chrono::seconds(o.warmup_seconds), duration = std::chrono::seconds(o.seconds);
  std::vector<std::vector<PreparedSend>> queues(count);
  auto per_sender = static_cast<std::size_t>(o.seal_ahead);
  std::string resized;
  for (int attempt = 0;; ++attempt) {
    std::fprintf(stderr, "[messaging-bench] a) sealing ahead: %zu requests for each of %d senders\n", per_sender, n);
    const std::size_t keys = prepare_sends(senders, count, per_sender, ep, plaintext, queues);
    ClosedLoopSenders connections(ep);
    if (auto failed = connections.connect(count, kConnectTimeout); !failed.empty())
      setup_failed("connect the senders", make_error(Code::kUnavailable, failed));
    std::vector<AcceptResult> per(count);
    const auto start = Clock::now(), measure_from = start + warmup;
    SendersRun run;
    std::thread runner([&] {
      run = connections.run(queues, measure_from + duration, kRequestTimeout,
                            [&](std::size_t i, Clock::time_point sent, Clock::time_point done, const Answer& a) {
                              count_answer(per[i], measure_from, sent, done, a.status, a.error);
                            });
    });
    std::this_thread::sleep_until(measure_from);
    measured_from = cpu_snapshot(o);
    perf_control(o, "enable");
    runner.join();
    perf_control(o, "disable");
    connections.close();

    double rate = 0;  // requests per second of the fastest sender that ran out
    std::size_t ran_out = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (!run.ran_out[i]) continue;
      ++ran_out;
      const double s = std::chrono::duration<double>(*run.ran_out[i] - start).count();
      rate = std::max(rate, static_cast<double>(run.sent[i]) / std::max(s, 1e-3));
    }
    if (ran_out == 0 || attempt == kMaxResizes) {
      AcceptResult total = merged(per, measure_from);
      total.keys_per_message = keys;
      total.sealed_per_sender = per_sender;
      total.resized = resized;
      if (ran_out > 0) {
        total.failures[-1] += ran_out;
        if (total.first_failure.empty())
          total.first_failure = std::to_string(ran_out) + " senders used up their sealed-ahead requests";
      }
      return total;
    }
    const double phase_s = o.warmup_seconds + o.seconds;
    const auto needed = static_cast<std::size_t>(rate * phase_s * kSealMargin);
    const std::size_t next = std::max(needed, per_sender + per_sender / 2);
    std::fprintf(stderr,
                 "[messaging-bench] a) %zu of %d senders used up their %zu sealed requests (up to %.0f msg/s each);"
                 " sealing up to %zu each and running the phase again\n",
                 ran_out, n, per_sender, rate, next);
    char why[160];
    std::snprintf(why, sizeof why, " (resized from %d: senders ran out at up to %.0f msg/s each)", o.seal_ahead,
                  rate);
    resized = why;
    for (std::size_t i = 0; i < count; ++i)
      queues[i].erase(queues[i].begin(), queues[i].begin() + static_cast<std::ptrdiff_t>(run.sent[i]));
    per_sender = next;
  }
}

void print_accept(const AcceptResult& r, int n) {
  const double rate = r.measured_s > 0 ? static_cast<double>(r.ok) / r.measured_s : 0;
  std::uint64_t failed = 0;
  for (auto [s, k] : r.failures) failed += k;
  std::printf("N=%-3d %7.0f msg/s  ack %s  (%" PRIu64 " ok in %.2f s, %" PRIu64 " failed)\n", n, rate,
              line_of(r.ack).c_str(), r.ok, r.measured_s, failed);
  if (!r.seal.us.empty())
    std::printf("      sealing (before the timed request): mean %.3f ms  p50 %.3f ms  p99 %.3f ms, %zu keys each\n",
                r.seal.mean_ms(), r.seal.percentile_ms(50), r.seal.percentile_ms(99), r.keys_per_message);
  if (r.sealed_per_sender > 0)
    std::printf("      sealed ahead: %zu requests per sender (up to %zu keys each), sent from one thread over %d\n"
                "      keep-alive TLS connection%s%s\n",
                r.sealed_per_sender, r.keys_per_message, n, n == 1 ? "" : "s", r.resized.c_str());
  if (!r.first_failure.empty()) std::printf("      first failure: %s\n", r.first_failure.c_str());
}

// ------------------------------------------------------------------ b) send -> recipient socket

struct PushResult {
  std::uint64_t offered = 0, accepted = 0, measured = 0, delivered = 0, missing = 0, duplicates = 0, unreadable = 0;
  std::uint64_t send_failures = 0;
  std::string first_failure;
  Latencies push, ack;
  double offered_rate = 0, send_span_s = 0;
  double behind_ms_max = 0;  // how late a sender started its latest message (client-side lag)
};

struct InFlight {
  Clock::time_point sent;
  bool measured = false;  // sent after the warm-up
  bool seen = false;
  std::size_t recipient = 0;
};

PushResult push_run(std::vector<Member>& push_senders, std::vector<Member>& recipients, const Options& o,
                    const std::string& plaintext) {
  const std::size_t s_count = push_senders.size();
  std::vector<std::unique_ptr<client::WebSocket>> sockets;
  for (auto& r : recipients) {
    auto s = r.api->open_push_socket(10s);
    if (!s) setup_failed("open push socket", s.error());
    sockets.push_back(std::move(*s));
  }

  std::mutex mu;
  std::map<std::string, InFlight> in_flight;  // by message id
  std::vector<std::vector<std::string>> frames(recipients.size());  // our messages' frames, for opening after
  PushResult out;
  std::atomic<bool> sending_done{false};
  std::atomic<std::uint64_t> outstanding{0};
  Clock::time_point stop_reading = Clock::time_point::max();
  std::mutex stop_mu;

  std::vector<std::thread> readers;
  for (std::size_t r = 0; r < recipients.size(); ++r) {
    readers.emplace_back([&, r] {
      auto& socket = *sockets[r];
      for (;;) {
        {
          std::lock_guard lock(stop_mu);
          if (Clock::now() >= stop_reading) break;
        }
        if (sending_done && outstanding == 0) break;
        auto text = socket.read_text(50ms);
        const auto arrived = Clock::now();
        if (!text) {
          if (socket.closed()) break;
          continue;
        }
        auto frame = client::push_frame_from_text(*text);
        if (!frame || frame->type != "message.new" || !frame->body.is_object()) continue;
        const auto* id = frame->body.as_object().if_contains("message_id");
        if (!id || !id->is_string()) continue;
        std::lock_guard lock(mu);
        auto it = in_flight.find(std::string(id->as_string()));
        if (it == in_flight.end() || it->second.recipient != r) continue;
        if (it->second.seen) {
          ++out.duplicates;
          continue;
        }
        it->second.seen = true;
        --outstanding;
        ++out.delivered;
        if (it->second.measured) {
          out.push.add(arrived - it->second.sent);
          ++out.measured;
        }
        frames[r].push_back(std::move(*text));
      }
    });
  }

  const double rate = o.push_rate;
  const auto warmup = std::chrono::seconds(o.warmup_seconds);
  const double total_s = o.warmup_seconds + o.push_seconds;
  const auto start = Clock::now() + 100ms;
  std::vector<PushResult> per(s_count);
  std::vector<std::thread> senders;
  for (std::size_t s = 0; s < s_count; ++s) {
    senders.emplace_back([&, s] {
      auto& m = push_senders[s];
      auto& mine = per[s];
      for (std::uint64_t k = 0;; ++k) {
        const double at_s = (static_cast<double>(s) + static_cast<double>(k) * static_cast<double>(s_count)) / rate;
        if (at_s >= total_s) break;
        const auto intended = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at_s));
        // Sealed ahead of its send time, as an app seals before it sends.
        auto sealed = m.messenger->seal(m.conversation_id, plaintext);
        if (!sealed) {
          ++mine.send_failures;
          if (mine.first_failure.empty()) mine.first_failure = "seal: " + sealed.error().message;
          break;
        }
        const std::string body = json::serialize(sealed->body());
        std::this_thread::sleep_until(intended);
        ++mine.offered;
        const auto sent = Clock::now();
        mine.behind_ms_max = std::max(mine.behind_ms_max, std::chrono::duration<double, std::milli>(sent - intended).count());
        {
          std::lock_guard lock(mu);
          in_flight[sealed->message_id] = InFlight{sent, intended >= start + warmup, false, s};
          ++outstanding;
        }
        auto answer = post_sealed(m, *sealed, body);
        const auto done = Clock::now();
        if (answer.status == 201) {
          ++mine.accepted;
          if (intended >= start + warmup) mine.ack.add(done - sent);
        } else {
          ++mine.send_failures;
          if (mine.first_failure.empty()) mine.first_failure = answer.error;
          std::lock_guard lock(mu);
          auto it = in_flight.find(sealed->message_id);
          if (it != in_flight.end() && !it->second.seen) {
            in_flight.erase(it);
            --outstanding;
          }
        }
      }
    });
  }
  for (auto& t : senders) t.join();
  const auto send_end = Clock::now();
  {
    std::lock_guard lock(stop_mu);
    stop_reading = send_end + kPushGrace;
  }
  sending_done = true;
  for (auto& t : readers) t.join();

  for (auto& p : per) {
    out.offered += p.offered;
    out.accepted += p.accepted;
    out.send_failures += p.send_failures;
    if (out.first_failure.empty()) out.first_failure = p.first_failure;
    out.ack.merge(p.ack);
    out.behind_ms_max = std::max(out.behind_ms_max, p.behind_ms_max);
  }
  {
    std::lock_guard lock(mu);
    for (const auto& [id, f] : in_flight)
      if (!f.seen) ++out.missing;
  }
  out.push.sort();
  out.ack.sort();
  out.send_span_s = std::chrono::duration<double>(send_end - start).count();
  out.offered_rate = rate;

  // Every pushed message must open on the recipient's device: the sender's keys as
  // the recipient would have verified them, and the plaintext as sent.
  for (std::size_t r = 0; r < recipients.size(); ++r) {
    const auto& sender = push_senders[r].messenger->device();
    client::PeerDevice peer;
    peer.id = sender.id;
    peer.user_id = sender.user_id;
    peer.signing_public = sender.keys.signing_public;
    peer.agreement_public = sender.keys.agreement_public;
    peer.agreement_signature = sender.keys.agreement_signature;
    for (const auto& text : frames[r]) {
      auto frame = client::push_frame_from_text(text);
      auto wire = frame ? client::wire_message_from_json(frame->body) : Result<client::WireMessage>(frame.error());
      if (!wire) {
        ++out.unreadable;
        continue;
      }
      auto opened = client::open_wire_message(*wire, recipients[r].messenger->device(), &peer);
      if (!opened.readable() || opened.plaintext != plaintext) ++out.unreadable;
    }
  }
  for (auto& s : sockets) s->close();
  return out;
}

// ------------------------------------------------------------------ main

int run(const Options& o) {
  auto ep = client::parse_gateway_url(o.url, o.ca);
  if (!ep) {
    std::fprintf(stderr, "alliance-messaging-bench: %s\n", ep.error().message.c_str());
    return 2;
  }
  if (!is_loopback(ep->host)) {
    std::fprintf(stderr, "alliance-messaging-bench: refusing a non-loopback gateway (%s)\n", ep->host.c_str());
    return 2;
  }
  bool failed = false;
  const int max_senders = *std::max_element(o.senders.begin(), o.senders.end());
  const std::string plaintext = filler(static_cast<std::size_t>(o.message_bytes));

  std::fprintf(stderr, "[messaging-bench] bootstrapping practice '%s' with %d client-therapist pairs\n",
               o.slug.c_str(), o.pairs);
  const auto setup_start = Clock::now();
  const Practice p = bootstrap(*ep, o);

  // Every device exists before anything is measured, so the recipient lists are
  // stable (no stale-device re-wrap inside a timed request).
  struct Plan {
    std::size_t pair;
    bool is_client;
    std::string name;
  };
  std::vector<Plan> plans;
  for (int i = 0; i < max_senders; ++i)
    plans.push_back({static_cast<std::size_t>(i / 2 % o.pairs), i % 2 == 0, "sender " + std::to_string(i)});
  for (int j = 0; j < o.push_pairs; ++j) plans.push_back({static_cast<std::size_t>(j), true, "push sender " + std::to_string(j)});
  for (int j = 0; j < o.push_pairs; ++j)
    plans.push_back({static_cast<std::size_t>(j), false, "push recipient " + std::to_string(j)});
  std::vector<Member> members(plans.size());
  std::fprintf(stderr, "[messaging-bench] logging in and registering %zu devices\n", plans.size());
  parallel_for(plans.size(), 4, [&](std::size_t i) {
    members[i] = make_member(*ep, o, p, plans[i].pair, plans[i].is_client, plans[i].name);
  });
  std::vector<Pair> pairs = p.pairs;
  for (auto& m : members) {
    auto& pair = pairs[m.pair];
    if (pair.conversation_id.empty()) {
      auto c = m.messenger->open_conversation(pair.client_id, pair.therapist_id);
      if (!c) setup_failed("open conversation", c.error());
      pair.conversation_id = c->id;
    }
    m.conversation_id = pair.conversation_id;
  }
  // Warm-up outside every timed phase: each device fetches and verifies its recipients
  // and sends one message.
  std::atomic<int> warm_failures{0};
  parallel_for(members.size(), 4, [&](std::size_t i) {
    auto& m = members[i];
    if (i >= static_cast<std::size_t>(max_senders + o.push_pairs)) return;  // push recipients only receive
    auto r = m.messenger->send(m.conversation_id, plaintext);
    if (!r) {
      std::fprintf(stderr, "[messaging-bench] warm-up send failed: %s\n", r.error().message.c_str());
      ++warm_failures;
    }
  });
  if (warm_failures > 0) return 3;
  std::vector<Member> senders(std::make_move_iterator(members.begin()),
                              std::make_move_iterator(members.begin() + max_senders));
  std::vector<Member> push_senders(std::make_move_iterator(members.begin() + max_senders),
                                   std::make_move_iterator(members.begin() + max_senders + o.push_pairs));
  std::vector<Member> recipients(std::make_move_iterator(members.begin() + max_senders + o.push_pairs),
                                 std::make_move_iterator(members.end()));
  const double setup_s = std::chrono::duration<double>(Clock::now() - setup_start).count();

  std::size_t max_devices = 0;
  {
    auto list = push_senders.front().messenger->recipients(push_senders.front().conversation_id);
    if (list) max_devices = list->devices.size();
  }
  std::printf("practice: %d client-therapist pairs (one conversation each); %d sending devices (sender i is the\n"
              "  client (i even) or therapist (i odd) of pair (i/2) mod %d), plus %d push senders (clients) and %d\n"
              "  online push recipients (their therapists) on the first %d pairs: up to %zu devices per conversation;\n"
              "  every device its own session and HTTPS connection; setup took %.1f s\n",
              o.pairs, max_senders, o.pairs, o.push_pairs, o.push_pairs, o.push_pairs, max_devices, setup_s);
  std::printf("message: %d bytes of plaintext, sealed with the SDK (Messenger::seal: AES-256-GCM once, Ed25519\n"
              "  signature, the content key wrapped with HPKE X25519 per recipient device), POST over TLS\n\n",
              o.message_bytes);
  std::fflush(stdout);

  // a) durable messages accepted, N concurrent senders.
  std::printf("a) messages accepted (POST /v1/conversations/{id}/messages -> 201, stored durably), closed loop,\n"
              "   %d s per N after %d s warm-up; ack = HTTP send to full answer:\n",
              o.seconds, o.warmup_seconds);
  std::string result_line;
  for (int n : o.senders) {
    std::fprintf(stderr, "[messaging-bench] a) %d senders, %d s\n", n, o.seconds);
    CpuSnapshot before;
    auto r = o.seal_ahead > 0 ? accept_run_sealed_ahead(senders, n, o, *ep, plaintext, before)
                              : accept_run_sealing(senders, n, o, plaintext, before);
    const auto after = cpu_snapshot(o);
    print_accept(r, n);
    const auto cpu = print_cpu(o, before, after, r.ok);
    std::fflush(stdout);
    failed |= !r.failures.empty();
    std::uint64_t failures = 0;
    for (auto [s, k] : r.failures) failures += k;
    char buf[320];
    std::snprintf(buf, sizeof buf,
                  " n%d_rps=%.0f n%d_p50_ms=%.2f n%d_p99_ms=%.2f n%d_failures=%" PRIu64
                  " n%d_servers_us=%.0f n%d_identity_us=%.0f n%d_client_us=%.0f",
                  n, r.measured_s > 0 ? static_cast<double>(r.ok) / r.measured_s : 0, n, r.ack.percentile_ms(50), n,
                  r.ack.percentile_ms(99), n, failures, n, cpu.servers_us, n, cpu.identity_us, n, cpu.client_us);
    result_line += buf;
  }

  // b) send -> recipient socket at a steady rate.
  std::fprintf(stderr, "[messaging-bench] b) pushes: %d msg/s from %d senders, %d s\n", o.push_rate, o.push_pairs,
               o.push_seconds);
  const auto before = cpu_snapshot(o);
  auto pr = push_run(push_senders, recipients, o, plaintext);
  const auto after = cpu_snapshot(o);
  std::printf("\nb) send -> recipient's socket, open loop at %d msg/s offered (%d senders, each to its own online\n"
              "   recipient), %d s after %d s warm-up; from just before the HTTP send to the push frame read\n"
              "   from the recipient's WebSocket in this process (same steady clock):\n",
              o.push_rate, o.push_pairs, o.push_seconds, o.warmup_seconds);
  std::printf("  push  %s  (%" PRIu64 " measured)\n", line_of(pr.push).c_str(), pr.measured);
  std::printf("  ack   %s\n", line_of(pr.ack).c_str());
  std::printf("  offered %" PRIu64 ", accepted %" PRIu64 ", pushed %" PRIu64 ", missing after %lld s: %" PRIu64
              ", duplicates %" PRIu64 ", not opened correctly on the recipient's device: %" PRIu64
              ", send failures %" PRIu64 "\n",
              pr.offered, pr.accepted, pr.delivered, static_cast<long long>(kPushGrace.count()), pr.missing,
              pr.duplicates, pr.unreadable, pr.send_failures);
  std::printf("  achieved %.0f msg/s; latest send start behind schedule: %.1f ms\n",
              pr.send_span_s > 0 ? static_cast<double>(pr.offered) / pr.send_span_s : 0, pr.behind_ms_max);
  if (!pr.first_failure.empty()) std::printf("  first failure: %s\n", pr.first_failure.c_str());
  print_cpu(o, before, after, pr.accepted);
  failed |= pr.missing > 0 || pr.unreadable > 0 || pr.send_failures > 0 || pr.duplicates > 0;

  std::printf("\nRESULT%s push_p50_ms=%.2f push_p99_ms=%.2f push_missing=%" PRIu64 " push_unreadable=%" PRIu64
              " failed=%d\n",
              result_line.c_str(), pr.push.percentile_ms(50), pr.push.percentile_ms(99), pr.missing, pr.unreadable,
              failed ? 1 : 0);
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace alliance::bench

int main(int argc, char** argv) {
  auto o = alliance::bench::parse_options(argc, argv);
  if (!o) {
    if (o.error().message != "help") std::fprintf(stderr, "alliance-messaging-bench: %s\n\n", o.error().message.c_str());
    std::fputs(alliance::bench::usage().c_str(), stderr);
    return 2;
  }
  try {
    return alliance::bench::run(*o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "alliance-messaging-bench: %s\n", e.what());
    return 3;
  }
}
