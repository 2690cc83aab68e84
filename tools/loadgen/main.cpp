// alliance-loadgen: loopback HTTPS and WSS load for the gateway benchmark
// (bench/gateway.sh). Prints human-readable figures, then one "RESULT k=v ..." line.
#include <sys/resource.h>

#include <cinttypes>
#include <cstdio>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include "load.hpp"
#include "options.hpp"

namespace {

using namespace alliance::loadgen;

// Raises the soft open-files limit to the hard one; returns the new soft limit.
rlim_t raise_nofile_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit want = lim;
    want.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) lim = want;
  }
  return lim.rlim_cur;
}

double us(std::chrono::nanoseconds ns) { return static_cast<double>(ns.count()) / 1000.0; }

std::string join_errors(const std::map<std::string, std::uint64_t>& errors) {
  std::string out;
  for (const auto& [kind, n] : errors) out += (out.empty() ? "" : ",") + kind + "=" + std::to_string(n);
  return out.empty() ? "none" : out;
}

int fail_usage(const alliance::Error& e) {
  std::fprintf(stderr, "alliance-loadgen: %s\n\n%s", e.message.c_str(), usage().c_str());
  return 2;
}

int run_http_mode(const std::vector<std::string>& args) {
  auto o = parse_http_options(args);
  if (!o) return fail_usage(o.error());
  bool open_loop = o->rate > 0;
  std::printf("http: %s, %d connections, %d thread(s), %s %s, %.1f s measured after %.1f s warm-up\n",
              open_loop ? ("open loop at " + std::to_string(static_cast<long long>(o->rate)) + " req/s").c_str()
                        : "closed loop",
              o->connections, o->threads, "GET", o->path.c_str(),
              std::chrono::duration<double>(o->duration).count(), std::chrono::duration<double>(o->warmup).count());
  std::fflush(stdout);
  auto r = run_http(*o);
  double secs = r.measured.count();
  double rps = static_cast<double>(r.ok) / secs;
  const auto& h = r.latency;
  std::printf("  connections opened: %d (reconnects included)\n", r.connections_opened);
  std::printf("  responses: %" PRIu64 " ok (200), %" PRIu64 " other status; transport errors: %" PRIu64 "\n", r.ok,
              r.non_200, r.transport_errors);
  std::printf("  throughput: %.0f req/s (200 responses)%s\n", rps,
              open_loop ? (", target " + std::to_string(static_cast<long long>(o->rate))).c_str() : "");
  std::printf("  latency%s: p50 %.0f us  p90 %.0f us  p99 %.0f us  p99.9 %.0f us  max %.0f us  mean %.0f us\n",
              open_loop ? " (from intended send time)" : "", us(h.percentile(50)), us(h.percentile(90)),
              us(h.percentile(99)), us(h.percentile(99.9)), us(h.max()), us(h.mean()));
  if (open_loop) std::printf("  sent more than 1 ms late: %" PRIu64 "\n", r.late_sends);
  std::printf("  errors: %s\n", join_errors(r.errors).c_str());
  std::printf("RESULT mode=http loop=%s connections=%d rps=%.0f ok=%" PRIu64 " non200=%" PRIu64
              " transport_errors=%" PRIu64 " p50_us=%.0f p90_us=%.0f p99_us=%.0f p999_us=%.0f max_us=%.0f"
              " late=%" PRIu64 "\n",
              open_loop ? "open" : "closed", o->connections, rps, r.ok, r.non_200, r.transport_errors,
              us(h.percentile(50)), us(h.percentile(90)), us(h.percentile(99)), us(h.percentile(99.9)), us(h.max()),
              r.late_sends);
  return (r.ok > 0 && r.transport_errors == 0 && r.non_200 == 0) ? 0 : 1;
}

int run_ws_mode(const std::vector<std::string>& args, rlim_t nofile) {
  auto o = parse_ws_options(args);
  if (!o) return fail_usage(o.error());
  if (static_cast<rlim_t>(o->connections) + 64 > nofile)
    std::fprintf(stderr, "alliance-loadgen: warning: %d connections but only %llu file descriptors allowed\n",
                 o->connections, static_cast<unsigned long long>(nofile));
  std::printf("ws: %d connections to %s, %d thread(s), %d handshakes in flight per thread, %zu source address(es)\n",
              o->connections, o->path.c_str(), o->threads, o->concurrency,
              std::max<std::size_t>(1, o->source_ips.size()));
  std::fflush(stdout);
  auto r = run_ws(*o, [&](const WsReport& ready) {
    double secs = ready.connect_phase.count();
    std::printf("  ready: %d of %d in %.2f s (%.0f connections/s), failed: %d\n", ready.ready, o->connections, secs,
                secs > 0 ? ready.ready / secs : 0.0, ready.failed);
    std::printf("  setup (connect -> session.ready): p50 %.0f us  p99 %.0f us  max %.0f us\n",
                us(ready.setup.percentile(50)), us(ready.setup.percentile(99)), us(ready.setup.max()));
    std::printf("  errors: %s\n", join_errors(ready.errors).c_str());
    std::printf("  holding for %.1f s\n", std::chrono::duration<double>(o->hold).count());
    std::fflush(stdout);
    if (!o->ready_file.empty()) {
      auto tmp = o->ready_file;
      tmp += ".tmp";
      std::ofstream(tmp) << "{\"ready\":" << ready.ready << ",\"failed\":" << ready.failed << "}\n";
      std::filesystem::rename(tmp, o->ready_file);
    }
  });
  double secs = r.connect_phase.count();
  std::printf("  after hold: %d closed by the server or network early (%s), %" PRIu64 " frames received\n",
              r.closed_during_hold, join_errors(r.hold_errors).c_str(), r.frames_during_hold);
  std::printf("RESULT mode=ws connections=%d ready=%d failed=%d connect_s=%.2f rate=%.0f setup_p50_us=%.0f"
              " setup_p99_us=%.0f closed_early=%d\n",
              o->connections, r.ready, r.failed, secs, secs > 0 ? r.ready / secs : 0.0, us(r.setup.percentile(50)),
              us(r.setup.percentile(99)), r.closed_during_hold);
  return (r.failed == 0 && r.closed_during_hold == 0) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::fputs(usage().c_str(), args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string mode = args[0];
  args.erase(args.begin());
  rlim_t nofile = raise_nofile_limit();
  try {
    if (mode == "http") return run_http_mode(args);
    if (mode == "ws") return run_ws_mode(args, nofile);
  } catch (const std::exception& e) {  // start-up misconfiguration (an unreadable --ca, ...)
    std::fprintf(stderr, "alliance-loadgen: %s\n", e.what());
    return 2;
  }
  std::fprintf(stderr, "alliance-loadgen: unknown mode '%s'\n\n%s", mode.c_str(), usage().c_str());
  return 2;
}
