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
};

std::string usage() {
  return "usage: alliance-push-bench --url https://127.0.0.1:PORT --ca CA.pem --operator-token-file FILE\n"
         "         --redis HOST:PORT --redis-password-file FILE --gateway-pid PID [--redis-pid PID]\n"
         "         [--redis-ca CA.pem [--redis-cert CERT.pem --redis-key KEY.pem]]\n"
         "         [--sockets 10000] [--sockets-per-user 1] [--pushes 200000] [--window 2000] [--rounds 3]\n"
         "         [--rate 5000] [--rate-seconds 10] [--slug NAME]\n"
         "Loopback only. Publishes as the Redis ACL user `messaging` (its password read from the file).\n"
         "--pushes 0 skips the fan-out phase, --rate 0 the fixed-rate phase.\n";
}

Result<Options> parse_options(int argc, char** argv) {
  Options o;
  std::string ca, token_file;
  std::map<std::string, std::string*, std::less<>> text{
      {"--url", &o.url}, {"--ca", &ca}, {"--operator-token-file", &token_file}, {"--slug", &o.slug}};
  o.redis.add_to(text);
  auto parsed = parse_flags(
      argc, argv, text,
      {{"--sockets", {&o.sockets, 1, 50000}}, {"--sockets-per-user", {&o.per_user, 1, 100}},
       {"--pushes", {&o.pushes, 0, 10000000}}, {"--window", {&o.window, 1, 100000}},
       {"--rounds", {&o.rounds, 1, 20}},
       {"--rate", {&o.rate, 0, 200000}}, {"--rate-seconds", {&o.rate_seconds, 1, 300}},
       {"--gateway-pid", {&o.gateway_pid, 1, 1 << 30}}, {"--redis-pid", {&o.redis_pid, 1, 1 << 30}}});
  if (!parsed) return parsed.error();
  o.ca = ca;
  o.operator_token_file = token_file;
  if (o.url.empty()) return invalid_argument("--url", "--url: required");
  if (o.ca.empty()) return invalid_argument("--ca", "--ca: required");
  if (o.operator_token_file.empty()) return invalid_argument("--operator-token-file", "--operator-token-file: required");
  if (o.redis.password_file.empty()) return invalid_argument("--redis-password-file", "--redis-password-file: required");
  if (o.gateway_pid == 0) return invalid_argument("--gateway-pid", "--gateway-pid: required");
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

Phase run_phase(const Options& o, Publisher& pub, Receiver& rx, int phase, int count, int rate) {
  Phase out;
  out.expected = static_cast<std::uint64_t>(count) * static_cast<std::uint64_t>(o.per_user);
  const std::uint64_t base = rx.delivered();
  const double g0 = cpu_seconds(o.gateway_pid), r0 = o.redis_pid ? cpu_seconds(o.redis_pid) : 0,
               b0 = self_cpu_seconds();
  const auto t0 = Clock::now();
  out.publish_failed = pub.run(phase, count, rate, o.window, o.per_user);
  out.delivered = wait_delivered(rx, base, out.expected);
  out.seconds = seconds_since(t0);
  out.gateway_cpu = cpu_seconds(o.gateway_pid) - g0;
  out.redis_cpu = o.redis_pid ? cpu_seconds(o.redis_pid) - r0 : 0;
  out.bench_cpu = self_cpu_seconds() - b0;
  out.load = load_1min();
  return out;
}

void print_phase(const char* name, const Phase& p) {
  const double n = static_cast<double>(std::max<std::uint64_t>(p.delivered, 1));
  std::printf("  %s: %" PRIu64 " of %" PRIu64 " delivered in %.2f s = %.0f msg/s; publish failures %d; 1-min load %.2f\n",
              name, p.delivered, p.expected, p.seconds, p.per_second(), p.publish_failed, p.load);
  std::printf("    CPU per delivered message: gateway %.2f us (%.2f CPU-s, %.0f%% of one core), redis %.2f us,\n"
              "    this benchmark (sockets + publisher) %.2f us\n",
              p.gateway_us(), p.gateway_cpu, p.seconds > 0 ? 100 * p.gateway_cpu / p.seconds : 0,
              p.redis_cpu * 1e6 / n, p.bench_cpu * 1e6 / n);
}

int run(const Options& o) {
  auto ep = client::parse_gateway_url(o.url, o.ca);
  if (!ep) setup_failed("--url", ep.error());
  if (!is_loopback(ep->host)) setup_failed("--url", invalid_argument("--url", "loopback gateways only"));
  const int users = o.sockets / o.per_user;
  std::printf("push fan-out: %d sockets = %d users x %d sockets each; gateway pid %d\n", o.sockets, users, o.per_user,
              o.gateway_pid);
  const Users u = bootstrap(*ep, o, users);
  std::vector<std::string> tokens;  // socket i is user i / per_user's
  for (const auto& t : u.tokens)
    for (int k = 0; k < o.per_user; ++k) tokens.push_back(t);

  Receiver rx;
  SocketFleet fleet(*ep, [&rx](std::uint32_t s, std::int64_t at, std::string_view text) { rx.on_frame(s, at, text); });
  const long rss0 = rss_kib(o.gateway_pid), avail0 = mem_available_kib();
  std::fprintf(stderr, "[push-bench] opening %d sockets\n", o.sockets);
  auto opened = fleet.open(tokens, 64, 20s);
  std::this_thread::sleep_for(2s);  // let the last sessions' first writes settle
  const long rss1 = rss_kib(o.gateway_pid), avail1 = mem_available_kib();
  const double ready = std::max(opened.ready, 1);
  std::printf("  idle: %d of %d sockets ready in %.1f s (%d failed); gateway VmRSS %ld -> %ld KiB = %.1f KiB per "
              "socket;\n    machine MemAvailable down %.1f KiB per socket (both ends' kernel socket memory and the\n"
              "    benchmark's own sockets included); 1-min load %.2f\n",
              opened.ready, o.sockets, opened.seconds, opened.failed, rss0, rss1, (rss1 - rss0) / ready,
              (avail0 - avail1) / ready, load_1min());
  for (const auto& [kind, n] : opened.errors) std::printf("    open error %s: %d\n", kind.c_str(), n);
  if (opened.failed > 0) setup_failed("open sockets", make_error(Code::kUnavailable, "some sockets failed"));
  const double rss_per_socket = (rss1 - rss0) / ready;

  Publisher pub(o, u.ids, rx);
  if (!pub.wait_connected()) setup_failed("redis", make_error(Code::kUnavailable, "cannot connect as messaging"));
  // Warm-up: one push to every user, so every socket has written once.
  run_phase(o, pub, rx, 0, users, 0);

  bool ok = true;
  Phase fan, at_rate;
  // The fan-out runs `rounds` times and the round with the least gateway CPU per message
  // is the figure: on a shared machine the others show what other work added.
  for (int round = 1; o.pushes > 0 && round <= o.rounds; ++round) {
    std::fprintf(stderr, "[push-bench] fan-out round %d of %d: %d pushes, window %d\n", round, o.rounds, o.pushes,
                 o.window);
    Phase p = run_phase(o, pub, rx, 1, o.pushes, 0);
    print_phase(("fan-out (closed loop), round " + std::to_string(round)).c_str(), p);
    ok = ok && p.delivered == p.expected && p.publish_failed == 0;
    if (round == 1 || p.gateway_us() < fan.gateway_us()) fan = p;
  }
  if (o.rounds > 1 && o.pushes > 0)
    std::printf("  fan-out, the best of %d rounds: %.0f msg/s, gateway %.2f us per delivered message (load %.2f)\n",
                o.rounds, fan.per_second(), fan.gateway_us(), fan.load);
  loadgen::LatencyHistogram lat;
  if (o.rate > 0) {
    std::fprintf(stderr, "[push-bench] %d pushes/s for %d s\n", o.rate, o.rate_seconds);
    rx.measure(2);
    at_rate = run_phase(o, pub, rx, 2, o.rate * o.rate_seconds, o.rate);
    lat = rx.latency();
    print_phase("fixed rate (open loop)", at_rate);
    auto ms = [](std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; };
    std::printf("    publish -> socket at %d pushes/s (%d msg/s): p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms;"
                " %d published > 1 ms late\n",
                o.rate, o.rate * o.per_user, ms(lat.percentile(50)), ms(lat.percentile(90)), ms(lat.percentile(99)),
                ms(lat.max()), pub.late());
    ok = ok && at_rate.delivered == at_rate.expected && at_rate.publish_failed == 0;
  }
  const int ended = fleet.ended();
  if (ended > 0) std::printf("  %d sockets were closed by the gateway during the run\n", ended);
  fleet.close();
  ok = ok && ended == 0;
  auto us = [](std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e3; };
  std::printf("RESULT sockets=%d ready=%d rss_per_socket_kib=%.1f fanout_msgs_per_s=%.0f fanout_gateway_us=%.2f"
              " fanout_load=%.2f rate_p50_us=%.0f rate_p99_us=%.0f rate_gateway_us=%.2f rate_load=%.2f"
              " missing=%" PRIu64 " ended=%d ok=%d\n",
              o.sockets, opened.ready, rss_per_socket, fan.per_second(), fan.gateway_us(), fan.load,
              us(lat.percentile(50)), us(lat.percentile(99)), at_rate.gateway_us(), at_rate.load,
              (fan.expected - fan.delivered) + (at_rate.expected - at_rate.delivered), ended, ok ? 1 : 0);
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
