// Appends to a fresh audit.db in a temp folder and prints records/s: awaited one at a
// time (a commit each), in batches of 100 (what the AppendAudit sender does), and
// through record() as concurrent handlers do (queued, one group commit per flush).
// Prints the 1-minute load beside the figures, as the other benchmarks do.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "audit_log.hpp"

namespace {

using namespace alliance;
using Clock = std::chrono::steady_clock;

audit::Record sample(int i) {
  audit::Record r;
  r.practice_id = "practice";
  r.actor_user_id = "frontdesk";
  r.actor_role = "front_desk";
  r.session_id = "session";
  r.source_address = "192.0.2.1";
  r.service = "scheduling";
  r.action = "appointment.read";
  r.object_type = "appointment";
  r.object_id = "a" + std::to_string(i);
  r.subject_user_id = "client";
  r.outcome = "ok";
  return r;
}

std::string load1() {
  std::ifstream in("/proc/loadavg");
  std::string l;
  in >> l;
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  const auto dir = std::filesystem::temp_directory_path() / ("alliance-audit-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  asio::io_context io(1);
  auto log = identity::AuditLog::open(io.get_executor(), {.database = dir / "audit.db"},
                                      crypto::Ed25519PrivateKey::generate());
  if (!log) {
    std::fprintf(stderr, "%s\n", log.error().message.c_str());
    return 1;
  }
  auto& a = **log;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const int single = n / 20;
        auto t0 = Clock::now();
        for (int i = 0; i < single; ++i) {
          std::vector<audit::Record> one{sample(i)};
          co_await a.append(std::move(one));
        }
        const double s1 = std::chrono::duration<double>(Clock::now() - t0).count();
        std::printf("audit append, one record per commit: %.0f records/s (%d records)\n", single / s1, single);

        t0 = Clock::now();
        for (int i = 0; i < n; i += 100) {
          std::vector<audit::Record> batch;
          for (int j = 0; j < 100; ++j) batch.push_back(sample(i + j));
          co_await a.append(std::move(batch));
        }
        const double s2 = std::chrono::duration<double>(Clock::now() - t0).count();
        std::printf("audit append, batches of 100 (AppendAudit): %.0f records/s (%d records)\n", n / s2, n);

        t0 = Clock::now();
        for (int i = 0; i < n; ++i) a.record(sample(i));
        co_await a.drain();
        const double s3 = std::chrono::duration<double>(Clock::now() - t0).count();
        std::printf("audit record() burst, queued and group-committed: %.0f records/s (%d records)\n", n / s3, n);
        std::printf("1-minute load: %s\n", load1().c_str());
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  log->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
