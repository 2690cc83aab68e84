// alliance-push-bench: push fan-out through the gateway, for bench/push.sh.
// Through a running gateway (loopback only) it sets up a practice with U client users
// and signs each in once; it opens K authenticated WebSockets per user (U x K sockets,
// all held by one io_context thread in bench_sockets, which hands each frame over
// without copying it), then publishes pushes on Redis exactly as the services do
// (alliance::redis::publish_push: a PushFrame on push:user:<id>), user after user in
// turn, so each push reaches that user's K sockets. It measures
//   idle:       the gateway's VmRSS per idle authenticated socket (and MemAvailable);
//   fan-out:    N pushes, closed loop with at most W pushes not yet received: delivered
//               messages per second and the gateway's CPU (utime + stime from
//               /proc/PID/stat) per delivered message, the headline figure (R rounds,
//               the best one reported);
//   rate:       R pushes per second, open loop, for S seconds: publish -> socket latency
//               (the publish instant is in the push's id, read on arrival, one system
//               clock) p50/p99/max and the gateway's CPU per delivered message.
// The 1-minute load is printed with every phase. Figures on stdout, progress on stderr,
// last line "RESULT k=v ...". Exit 0 only if every push reached every socket of its
// user and no socket was closed.
#include <atomic>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "alliance/client/alliance_client.hpp"
#include "alliance/client/endpoint.hpp"
#include "alliance/core/asio.hpp"
#include "alliance/push/v1/push.pb.h"
#include "alliance/redis/client.hpp"
#include "alliance/redis/push.hpp"
#include "bench_support.hpp"
#include "redis_flags.hpp"
#include "histogram.hpp"
#include "sockets.hpp"

namespace alliance::bench {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kRequestTimeout = 30s;
constexpr int kSetupThreads = 8;
constexpr int kPublishers = 32;       // publish_push calls in flight at once
constexpr auto kStall = 10s;          // no delivery for this long ends a phase as failed

struct Options {
  std::string url;
  std::filesystem::path ca, operator_token_file;
  RedisFlags redis;  // logs in as the messaging ACL user
  std::string slug = "pushbench";
  int sockets = 10000;
  int per_user = 1;
  int pushes = 200000;
  int window = 2000;
  int rounds = 3;
  int rate = 5000;
  int rate_seconds = 10;
  int gateway_pid = 0, redis_pid = 0;
  // Comparison: the same users, sockets, pushes and phases against a peer push server
  // (bench/peers/) after the gateway, on the same Redis.
  std::string peer_url, peer_name = "peer";
  int peer_pid = 0;
  // Run by the shell around each fan-out round: `CMD begin SERVER ROUND` before it and
  // `CMD end SERVER ROUND DELIVERED` after it (bench/push.sh's callgrind mode counts the
  // gateway's instructions with it). Its output goes to this program's stdout.
  std::string phase_command;
};

std::string usage() {
  return "usage: alliance-push-bench --url https://127.0.0.1:PORT --ca CA.pem --operator-token-file FILE\n"
         "         --redis HOST:PORT --redis-password-file FILE --gateway-pid PID [--redis-pid PID]\n"
         "         [--redis-ca CA.pem [--redis-cert CERT.pem --redis-key KEY.pem]]\n"
         "         [--sockets 10000] [--sockets-per-user 1] [--pushes 200000] [--window 2000] [--rounds 3]\n"
         "         [--rate 5000] [--rate-seconds 10] [--slug NAME]\n"
         "         [--peer-url https://127.0.0.1:PORT --peer-pid PID [--peer-name node]]\n"
         "         [--phase-command CMD]   (run as CMD begin SERVER ROUND / CMD end SERVER ROUND DELIVERED\n"
         "                                  around each fan-out round)\n"
         "Loopback only. Publishes as the Redis ACL user `messaging` (its password read from the file).\n"
         "--pushes 0 skips the fan-out phase, --rate 0 the fixed-rate phase. With --peer-url the same phases\n"
         "run again against that push server (sockets on its GET /v1/ws, the users' tokens, CPU of --peer-pid)\n"
         "and both are printed with the ratio.\n";
}

Result<Options> parse_options(int argc, char** argv) {
  Options o;
  std::string ca, token_file;
  std::map<std::string, std::string*, std::less<>> text{
      {"--url", &o.url}, {"--ca", &ca}, {"--operator-token-file", &token_file}, {"--slug", &o.slug},
      {"--peer-url", &o.peer_url}, {"--peer-name", &o.peer_name}, {"--phase-command", &o.phase_command}};
  o.redis.add_to(text);
  auto parsed = parse_flags(
      argc, argv, text,
      {{"--sockets", {&o.sockets, 1, 50000}}, {"--sockets-per-user", {&o.per_user, 1, 100}},
       {"--pushes", {&o.pushes, 0, 10000000}}, {"--window", {&o.window, 1, 100000}},
       {"--rounds", {&o.rounds, 1, 20}},
       {"--rate", {&o.rate, 0, 200000}}, {"--rate-seconds", {&o.rate_seconds, 1, 300}},
       {"--gateway-pid", {&o.gateway_pid, 1, 1 << 30}}, {"--redis-pid", {&o.redis_pid, 1, 1 << 30}},
       {"--peer-pid", {&o.peer_pid, 1, 1 << 30}}});
  if (!parsed) return parsed.error();
  o.ca = ca;
  o.operator_token_file = token_file;
  if (o.url.empty()) return invalid_argument("--url", "--url: required");
  if (o.ca.empty()) return invalid_argument("--ca", "--ca: required");
  if (o.operator_token_file.empty()) return invalid_argument("--operator-token-file", "--operator-token-file: required");
  if (o.redis.password_file.empty()) return invalid_argument("--redis-password-file", "--redis-password-file: required");
  if (o.gateway_pid == 0) return invalid_argument("--gateway-pid", "--gateway-pid: required");
  if (!o.peer_url.empty() && o.peer_pid == 0) return invalid_argument("--peer-pid", "--peer-pid: required with --peer-url");
  if (o.sockets % o.per_user != 0)
    return invalid_argument("--sockets-per-user", "--sockets-per-user: must divide --sockets");
  return o;
}

[[noreturn]] void setup_failed(const std::string& what, const Error& e) {
  // The error message comes from the gateway's error body: a code and a field, no secrets.
  std::fprintf(stderr, "[push-bench] setup failed: %s: %s (%s)\n", what.c_str(), e.message.c_str(),
               std::string(code_name(e.code)).c_str());
  std::exit(3);
}

std::string read_first_line(const std::filesystem::path& file, const std::string& option) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  if (line.empty()) setup_failed(option, invalid_argument(option, "file is empty or unreadable"));
  return line;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One practice, `users` clients each signed in once; returns their ids and access tokens.
struct Users {
  std::vector<std::string> ids, tokens;
};

Users bootstrap(const client::Endpoint& ep, const Options& o, int users) {
  const std::string domain = "@" + o.slug + ".example";
  const std::string password = random_password();  // every user's; in memory only
  client::AllianceClient anonymous(ep);
  anonymous.set_timeout(kRequestTimeout);
  json::value practice = {{"operator_token", read_first_line(o.operator_token_file, "--operator-token-file")},
                          {"name", "Push Benchmark Practice"},
                          {"slug", o.slug},
                          {"admin_email", "admin" + domain},
                          {"admin_password", password},
                          {"admin_display_name", "Bench Admin"}};
  if (auto r = anonymous.call_json("POST", "/v1/practices", &practice, false); !r) setup_failed("create practice", r.error());
  client::AllianceClient admin(ep);
  admin.set_timeout(kRequestTimeout);
  auto admin_tokens = admin.login(o.slug, "admin" + domain, password);
  if (!admin_tokens) setup_failed("admin login", admin_tokens.error());

  Users out;
  out.ids.resize(static_cast<std::size_t>(users));
  out.tokens.resize(out.ids.size());
  std::atomic<std::size_t> next{0};
  std::atomic<int> failures{0};
  std::mutex first_mutex;
  std::string first_failure;
  auto fail = [&](const std::string& what) {
    if (failures++ == 0) {
      std::lock_guard lock(first_mutex);
      first_failure = what;
    }
  };
  const auto started = Clock::now();
  std::vector<std::thread> pool;
  for (int w = 0; w < kSetupThreads; ++w) {
    pool.emplace_back([&] {
      client::AllianceClient api(ep);
      api.set_timeout(kRequestTimeout);
      api.set_tokens(*admin_tokens);
      client::AllianceClient user(ep);  // signs each user in on one connection
      user.set_timeout(kRequestTimeout);
      for (std::size_t i = next++; i < out.ids.size(); i = next++) {
        const std::string email = "client" + std::to_string(i) + domain;
        json::value body = {{"email", email}, {"password", password}, {"display_name", "Client " + std::to_string(i)},
                            {"role", "client"}};
        auto r = api.post_json("/v1/users", body);
        if (!r) {
          fail("create client" + std::to_string(i) + ": " + r.error().message);
          continue;
        }
        out.ids[i] = std::string(r->at("user").at("id").as_string());
        auto tokens = user.login(o.slug, email, password);
        if (!tokens) {
          fail("login client" + std::to_string(i) + ": " + tokens.error().message);
          continue;
        }
        out.tokens[i] = tokens->access_token;
      }
    });
  }
  for (auto& t : pool) t.join();
  if (failures > 0) setup_failed("users", invalid_argument("", first_failure));
  std::printf("setup: %d client users created and signed in in %.1f s (%d threads)\n", users, seconds_since(started),
              kSetupThreads);
  return out;
}

// What the socket thread sees: every frame counted, and the publish -> socket latency of
// the pushes of the phase being measured. A push's id is "<publish instant, us>-<phase>-<k>".
class Receiver {
 public:
  void on_frame(std::uint32_t, std::int64_t at_us, std::string_view text) {
    constexpr std::string_view prefix = R"({"id":")";
    if (text.substr(0, prefix.size()) != prefix) return;
    const char* p = text.data() + prefix.size();
    const char* end = text.data() + text.size();
    std::int64_t sent_us = 0;
    auto [after, ec] = std::from_chars(p, end, sent_us);
    if (ec != std::errc() || after + 2 >= end || *after != '-') return;
    const int phase = after[1] - '0';
    if (phase == phase_.load(std::memory_order_relaxed)) {
      std::lock_guard lock(mutex_);
      latency_.record(std::chrono::microseconds(std::max<std::int64_t>(at_us - sent_us, 0)));
    }
    delivered_.fetch_add(1, std::memory_order_release);
  }

  std::uint64_t delivered() const { return delivered_.load(std::memory_order_acquire); }
  // Starts recording the latency of `phase`'s pushes only.
  void measure(int phase) {
    std::lock_guard lock(mutex_);
    latency_ = loadgen::LatencyHistogram();
    phase_ = phase;
  }
  loadgen::LatencyHistogram latency() {
    std::lock_guard lock(mutex_);
    return latency_;
  }

 private:
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<int> phase_{-1};
  std::mutex mutex_;
  loadgen::LatencyHistogram latency_;
};

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The services' publish path: a redis::Client on an io_context of its own, run by the
// calling thread only while a phase publishes (between phases nothing is published).
class Publisher {
 public:
  Publisher(const Options& o, const std::vector<std::string>& user_ids, Receiver& receiver)
      : user_ids_(user_ids), receiver_(receiver), redis_(ctx_.get_executor(), o.redis.options("messaging", "push-bench")) {
    redis_.start();
  }

  // Publishes `count` pushes of `phase`, push k to user k mod U. With `rate` > 0 push k is
  // due at start + k / rate (open loop); otherwise at most `window` pushes are published
  // and not yet received on every socket (closed loop). Blocks; returns publish failures.
  int run(int phase, int count, int rate, int window, int per_user) {
    next_ = 0;
    failed_ = 0;
    late_ = 0;
    start_ = Clock::now();
    const std::uint64_t base = receiver_.delivered();
    int running = kPublishers;
    for (int w = 0; w < kPublishers; ++w) {
      asio::co_spawn(ctx_, worker(phase, count, rate, window, per_user, base), [this, &running](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
        if (--running == 0) ctx_.stop();  // the Redis connection keeps the context busy otherwise
      });
    }
    ctx_.restart();
    ctx_.run();
    return failed_;
  }
  int late() const { return late_; }

  bool wait_connected() {
    bool up = false;
    asio::co_spawn(ctx_, redis_.wait_connected(5s), [&](std::exception_ptr, bool ok) {
      up = ok;
      ctx_.stop();
    });
    ctx_.restart();
    ctx_.run();
    return up;
  }

 private:
  asio::awaitable<void> worker(int phase, int count, int rate, int window, int per_user, std::uint64_t base) {
    asio::steady_timer timer(ctx_);
    push::v1::PushFrame frame;
    frame.set_type("bench.push");
    push::v1::Notice notice;
    for (int k = next_++; k < count; k = next_++) {
      if (rate > 0) {
        const auto due = start_ + std::chrono::microseconds(static_cast<std::int64_t>(k) * 1000000 / rate);
        if (Clock::now() < due) {
          timer.expires_at(due);
          co_await timer.async_wait(use_tuple);
        } else if (Clock::now() - due > 1ms) {
          ++late_;
        }
      } else {
        // Closed loop: wait while `window` pushes are still on their way to a socket.
        const std::uint64_t owed = static_cast<std::uint64_t>(k - window) * static_cast<std::uint64_t>(per_user);
        while (k >= window && receiver_.delivered() - base < owed) {
          timer.expires_after(100us);
          co_await timer.async_wait(use_tuple);
        }
      }
      const std::string& user = user_ids_[static_cast<std::size_t>(k) % user_ids_.size()];
      const std::int64_t sent = now_us();
      frame.set_id(std::to_string(sent) + "-" + std::to_string(phase) + "-" + std::to_string(k));
      frame.set_sent_unix_ms(sent / 1000);
      notice.set_text("push " + std::to_string(k) + " of the fan-out benchmark");
      frame.mutable_body()->PackFrom(notice);
      auto st = co_await redis::publish_push(redis_, user, frame);
      if (!st) ++failed_;
    }
  }

  const std::vector<std::string>& user_ids_;
  Receiver& receiver_;
  asio::io_context ctx_{1};
  redis::Client redis_;
  int next_ = 0, failed_ = 0, late_ = 0;
  Clock::time_point start_;
};

// Waits until `expected` deliveries since `base`, or no progress for kStall. Returns the delivered count.
std::uint64_t wait_delivered(const Receiver& r, std::uint64_t base, std::uint64_t expected) {
  std::uint64_t last = r.delivered() - base;
  auto progress = Clock::now();
  while (last < expected && Clock::now() - progress < kStall) {
    std::this_thread::sleep_for(1ms);
    if (auto now = r.delivered() - base; now != last) {
      last = now;
      progress = Clock::now();
    }
  }
  return last;
}

struct Phase {
  std::uint64_t expected = 0, delivered = 0;
  int publish_failed = 0;
  double seconds = 0, gateway_cpu = 0, redis_cpu = 0, bench_cpu = 0, load = 0;
  double gateway_us() const { return delivered ? gateway_cpu * 1e6 / static_cast<double>(delivered) : -1; }
  double per_second() const { return seconds > 0 ? static_cast<double>(delivered) / seconds : 0; }
};

Phase run_phase(const Options& o, int server_pid, Publisher& pub, Receiver& rx, int phase, int count, int rate) {
  Phase out;
  out.expected = static_cast<std::uint64_t>(count) * static_cast<std::uint64_t>(o.per_user);
  const std::uint64_t base = rx.delivered();
  const double g0 = cpu_seconds(server_pid), r0 = o.redis_pid ? cpu_seconds(o.redis_pid) : 0,
               b0 = self_cpu_seconds();
  const auto t0 = Clock::now();
  out.publish_failed = pub.run(phase, count, rate, o.window, o.per_user);
  out.delivered = wait_delivered(rx, base, out.expected);
  out.seconds = seconds_since(t0);
  out.gateway_cpu = cpu_seconds(server_pid) - g0;
  out.redis_cpu = o.redis_pid ? cpu_seconds(o.redis_pid) - r0 : 0;
  out.bench_cpu = self_cpu_seconds() - b0;
  out.load = load_1min();
  return out;
}

// `o.phase_command` with `args`, if given; its failure fails the run (what it measures is missing).
void phase_command(const Options& o, const std::string& args) {
  if (o.phase_command.empty()) return;
  std::fflush(stdout);
  const std::string line = o.phase_command + " " + args;
  if (std::system(line.c_str()) != 0)
    setup_failed("--phase-command", make_error(Code::kInternal, "the phase command failed: " + line));
}

void print_phase(const std::string& server, const char* name, const Phase& p) {
  const double n = static_cast<double>(std::max<std::uint64_t>(p.delivered, 1));
  std::printf("  %s: %" PRIu64 " of %" PRIu64 " delivered in %.2f s = %.0f msg/s; publish failures %d; 1-min load %.2f\n",
              name, p.delivered, p.expected, p.seconds, p.per_second(), p.publish_failed, p.load);
  std::printf("    CPU per delivered message: %s %.2f us (%.2f CPU-s, %.0f%% of one core), redis %.2f us,\n"
              "    this benchmark (sockets + publisher) %.2f us\n",
              server.c_str(), p.gateway_us(), p.gateway_cpu, p.seconds > 0 ? 100 * p.gateway_cpu / p.seconds : 0,
              p.redis_cpu * 1e6 / n, p.bench_cpu * 1e6 / n);
}

// A push server under test: the gateway, or a peer doing the same job.
struct Server {
  std::string name;  // "gateway", "node"
  client::Endpoint ws;
  int pid = 0;
};

struct Measured {
  int ready = 0, ended = 0;
  double rss_per_socket = 0, available_per_socket = 0;
  Phase fan, at_rate;
  loadgen::LatencyHistogram latency;
  bool ok = true;
};

double ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

// Opens every user's sockets on `server`, measures them idle, then the fan-out rounds and
// the fixed rate; closes them. `o.sockets` sockets, socket i is user i / per_user's.
Measured measure(const Options& o, const Server& server, const Users& u) {
  std::vector<std::string> tokens;
  for (const auto& t : u.tokens)
    for (int k = 0; k < o.per_user; ++k) tokens.push_back(t);
  Measured m;
  Receiver rx;
  SocketFleet fleet(server.ws, [&rx](std::uint32_t s, std::int64_t at, std::string_view text) { rx.on_frame(s, at, text); });
  const long rss0 = rss_kib(server.pid), avail0 = mem_available_kib();
  const CgroupMemory cg0 = cgroup_memory();
  std::fprintf(stderr, "[push-bench] %s: opening %d sockets\n", server.name.c_str(), o.sockets);
  auto opened = fleet.open(tokens, 64, 20s);
  std::this_thread::sleep_for(2s);  // let the last sessions' first writes settle
  const long rss1 = rss_kib(server.pid), avail1 = mem_available_kib();
  const CgroupMemory cg1 = cgroup_memory();
  const double ready = std::max(opened.ready, 1);
  m.ready = opened.ready;
  m.rss_per_socket = (rss1 - rss0) / ready;
  m.available_per_socket = (avail0 - avail1) / ready;
  std::printf("  %s idle: %d of %d sockets ready in %.1f s (%d failed); %s VmRSS %ld -> %ld KiB = %.1f KiB per "
              "socket;\n    machine MemAvailable down %.1f KiB per socket (both ends' kernel socket memory and the\n"
              "    benchmark's own sockets included, and whatever else the machine did meanwhile); 1-min load %.2f\n",
              server.name.c_str(), opened.ready, o.sockets, opened.seconds, opened.failed, server.name.c_str(), rss0,
              rss1, m.rss_per_socket, m.available_per_socket, load_1min());
  if (cg0.total_kib >= 0 && cg1.total_kib >= 0)
    std::printf("    memory cgroup (every process in it): +%.1f KiB per socket, of it kernel objects +%.1f KiB,"
                " socket buffers +%.1f KiB\n",
                (cg1.total_kib - cg0.total_kib) / ready,
                cg0.kernel_kib >= 0 ? (cg1.kernel_kib - cg0.kernel_kib) / ready : 0.0,
                cg0.sockets_kib >= 0 ? (cg1.sockets_kib - cg0.sockets_kib) / ready : 0.0);
  for (const auto& [kind, n] : opened.errors) std::printf("    open error %s: %d\n", kind.c_str(), n);
  if (opened.failed > 0) setup_failed("open sockets", make_error(Code::kUnavailable, "some sockets failed"));

  Publisher pub(o, u.ids, rx);
  if (!pub.wait_connected()) setup_failed("redis", make_error(Code::kUnavailable, "cannot connect as messaging"));
  // Warm-up: one push to every user, so every socket has written once.
  run_phase(o, server.pid, pub, rx, 0, static_cast<int>(u.ids.size()), 0);

  // The fan-out runs `rounds` times and the round with the least CPU per message is the
  // figure: on a shared machine the others show what other work added.
  for (int round = 1; o.pushes > 0 && round <= o.rounds; ++round) {
    std::fprintf(stderr, "[push-bench] %s: fan-out round %d of %d: %d pushes, window %d\n", server.name.c_str(), round,
                 o.rounds, o.pushes, o.window);
    const std::string phase = server.name + " " + std::to_string(round);
    phase_command(o, "begin " + phase);
    Phase p = run_phase(o, server.pid, pub, rx, 1, o.pushes, 0);
    phase_command(o, "end " + phase + " " + std::to_string(p.delivered));
    print_phase(server.name, ("fan-out (closed loop), round " + std::to_string(round)).c_str(), p);
    m.ok = m.ok && p.delivered == p.expected && p.publish_failed == 0;
    if (round == 1 || p.gateway_us() < m.fan.gateway_us()) m.fan = p;
  }
  if (o.rounds > 1 && o.pushes > 0)
    std::printf("  %s fan-out, the best of %d rounds: %.0f msg/s, %.2f us of its CPU per delivered message (load %.2f)\n",
                server.name.c_str(), o.rounds, m.fan.per_second(), m.fan.gateway_us(), m.fan.load);
  if (o.rate > 0) {
    std::fprintf(stderr, "[push-bench] %s: %d pushes/s for %d s\n", server.name.c_str(), o.rate, o.rate_seconds);
    rx.measure(2);
    m.at_rate = run_phase(o, server.pid, pub, rx, 2, o.rate * o.rate_seconds, o.rate);
    m.latency = rx.latency();
    print_phase(server.name, "fixed rate (open loop)", m.at_rate);
    std::printf("    publish -> socket at %d pushes/s (%d msg/s): p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms;"
                " %d published > 1 ms late\n",
                o.rate, o.rate * o.per_user, ms(m.latency.percentile(50)), ms(m.latency.percentile(90)),
                ms(m.latency.percentile(99)), ms(m.latency.max()), pub.late());
    m.ok = m.ok && m.at_rate.delivered == m.at_rate.expected && m.at_rate.publish_failed == 0;
  }
  m.ended = fleet.ended();
  if (m.ended > 0) std::printf("  %d sockets were closed by %s during the run\n", m.ended, server.name.c_str());
  fleet.close();
  m.ok = m.ok && m.ended == 0;
  return m;
}

void print_result(const char* tag, const Options& o, const Measured& m) {
  auto us = [](std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e3; };
  std::printf("%s sockets=%d ready=%d rss_per_socket_kib=%.1f fanout_msgs_per_s=%.0f fanout_gateway_us=%.2f"
              " fanout_load=%.2f rate_p50_us=%.0f rate_p99_us=%.0f rate_gateway_us=%.2f rate_load=%.2f"
              " missing=%" PRIu64 " ended=%d ok=%d\n",
              tag, o.sockets, m.ready, m.rss_per_socket, m.fan.per_second(), m.fan.gateway_us(), m.fan.load,
              us(m.latency.percentile(50)), us(m.latency.percentile(99)), m.at_rate.gateway_us(), m.at_rate.load,
              (m.fan.expected - m.fan.delivered) + (m.at_rate.expected - m.at_rate.delivered), m.ended, m.ok ? 1 : 0);
}

// Side by side, with peer / gateway for each figure (above 1: the gateway does better,
// except for msg/s where above 1 means the peer delivers more).
void print_comparison(const Options& o, const Measured& g, const Measured& p) {
  auto ratio = [](double peer, double gateway) { return gateway > 0 ? peer / gateway : 0.0; };
  std::printf("\n  side by side (same users, sockets, pushes and load generator, one after the other):\n");
  std::printf("    %-44s %12s %12s %14s\n", "", "gateway", o.peer_name.c_str(), "peer/gateway");
  auto row = [&](const char* what, double gw, double peer, const char* fmt) {
    char a[32], b[32];
    std::snprintf(a, sizeof a, fmt, gw);
    std::snprintf(b, sizeof b, fmt, peer);
    std::printf("    %-44s %12s %12s %13.2fx\n", what, a, b, ratio(peer, gw));
  };
  row("fan-out: CPU per delivered message, us", g.fan.gateway_us(), p.fan.gateway_us(), "%.2f");
  row("fan-out: delivered msg/s", g.fan.per_second(), p.fan.per_second(), "%.0f");
  if (o.rate > 0) {
    row("fixed rate: CPU per message, us", g.at_rate.gateway_us(), p.at_rate.gateway_us(), "%.2f");
    row("fixed rate: p50 ms", ms(g.latency.percentile(50)), ms(p.latency.percentile(50)), "%.2f");
    row("fixed rate: p99 ms", ms(g.latency.percentile(99)), ms(p.latency.percentile(99)), "%.2f");
  }
  row("idle: server RSS per socket, KiB", g.rss_per_socket, p.rss_per_socket, "%.1f");
  row("idle: MemAvailable drop per socket, KiB", g.available_per_socket, p.available_per_socket, "%.1f");
  std::printf("    1-min load: gateway fan-out %.2f, rate %.2f; %s fan-out %.2f, rate %.2f\n", g.fan.load,
              g.at_rate.load, o.peer_name.c_str(), p.fan.load, p.at_rate.load);
}

int run(const Options& o) {
  auto ep = client::parse_gateway_url(o.url, o.ca);
  if (!ep) setup_failed("--url", ep.error());
  if (!is_loopback(ep->host)) setup_failed("--url", invalid_argument("--url", "loopback gateways only"));
  std::vector<Server> servers{{"gateway", *ep, o.gateway_pid}};
  if (!o.peer_url.empty()) {
    auto peer = client::parse_gateway_url(o.peer_url, o.ca);
    if (!peer) setup_failed("--peer-url", peer.error());
    if (!is_loopback(peer->host)) setup_failed("--peer-url", invalid_argument("--peer-url", "loopback only"));
    servers.push_back({o.peer_name, *peer, o.peer_pid});
  }
  const int users = o.sockets / o.per_user;
  std::printf("push fan-out: %d sockets = %d users x %d sockets each; gateway pid %d%s\n", o.sockets, users,
              o.per_user, o.gateway_pid, o.peer_url.empty() ? "" : (", then " + o.peer_name + " pid " +
                                                                    std::to_string(o.peer_pid)).c_str());
  const Users u = bootstrap(*ep, o, users);
  std::vector<Measured> results;
  for (const auto& server : servers) results.push_back(measure(o, server, u));
  if (results.size() > 1) print_comparison(o, results[0], results[1]);
  if (results.size() > 1) print_result("RESULT_PEER", o, results[1]);
  print_result("RESULT", o, results[0]);
  bool ok = true;
  for (const auto& m : results) ok = ok && m.ok;
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace alliance::bench

int main(int argc, char** argv) {
  auto o = alliance::bench::parse_options(argc, argv);
  if (!o) {
    std::fprintf(stderr, "%s%s", o.error().message == "help" ? "" : ("alliance-push-bench: " + o.error().message + "\n\n").c_str(),
                 alliance::bench::usage().c_str());
    return o.error().message == "help" ? 0 : 2;
  }
  try {
    return alliance::bench::run(*o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "alliance-push-bench: %s\n", e.what());
    return 2;
  }
}
