// Fills a fresh identity.db (sealed names and emails, a test KEK) with one practice of
// N clients (default 5,000), then runs client searches by name prefix through the
// store as the service does (open every client of the practice, fold case, filter,
// page) and prints per search: mean, p50 and p99 wall time, CPU time, and the
// 1-minute load beside the figures. A/B in the same run: the same read without
// opening the sealed fields (rows only), to show what sealing adds.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "alliance/core/ids.hpp"
#include "alliance/store/query.hpp"
#include "identity_store.hpp"

namespace {

using namespace alliance;
using Clock = std::chrono::steady_clock;

std::string load1() {
  std::ifstream in("/proc/loadavg");
  std::string l;
  in >> l;
  return l;
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Figures {
  double mean_ms, p50_ms, p99_ms, cpu_ms;
};

Figures summarize(std::vector<double> ms, double cpu_s) {
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (double v : ms) sum += v;
  return {sum / static_cast<double>(ms.size()), ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)],
          cpu_s * 1000 / static_cast<double>(ms.size())};
}

const char* kFirst[] = {"Émilie", "Marguerite", "Jonas", "Aïcha", "Björn", "Maya", "Sam", "Lucía", "Noah", "Zoë"};
const char* kLast[] = {"Anderson", "Brun", "Oyelaran", "Müller", "Nguyen", "Okafor", "Silva", "Kowalski"};

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 5000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 200;
  const auto dir = std::filesystem::temp_directory_path() / ("alliance-search-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto opened = identity::IdentityStore::open(dir / "identity.db", store::KekPair{std::string(32, 'b')});
  if (!opened) {
    std::fprintf(stderr, "%s\n", opened.error().message.c_str());
    return 1;
  }
  auto& s = **opened;
  asio::io_context io(1);
  int status = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        identity::Practice p{new_id(), "Bench Practice", "bench", now_unix_ms()};
        identity::User admin{new_id(), p.id, "admin@bench.example", "Admin", identity::Role::kAdmin, now_unix_ms()};
        auto made = co_await s.create_practice(p, admin, "x", store::IdempotentWrite{});
        if (!made) throw std::runtime_error(made.error().message);
        const auto fill0 = Clock::now();
        for (int i = 0; i < n; ++i) {
          identity::User u{new_id(), p.id, "client" + std::to_string(i) + "@bench.example",
                           std::string(kFirst[i % 10]) + " " + kLast[(i / 10) % 8] + " " + std::to_string(i),
                           identity::Role::kClient, now_unix_ms()};
          auto c = co_await s.create_user(u, "x", store::IdempotentWrite{});
          if (!c) throw std::runtime_error(c.error().message);
        }
        std::printf("filled %d clients in %.1f s\n", n,
                    std::chrono::duration<double>(Clock::now() - fill0).count());

        const std::vector<std::string> prefixes = {"émi", "MAR", "oye", "zo", "client12", "nobody"};
        std::vector<double> ms;
        std::size_t found = 0;
        double cpu0 = cpu_seconds();
        for (int r = 0; r < rounds; ++r) {
          identity::ClientSearch q{prefixes[r % prefixes.size()], 25, ""};
          const auto t0 = Clock::now();
          auto page = co_await s.search_clients(p.id, std::nullopt, q);
          ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          if (!page) throw std::runtime_error(page.error().message);
          found += page->size();
        }
        const auto sealed = summarize(ms, cpu_seconds() - cpu0);
        std::printf(
            "client search, %d clients, sealed (open + fold + filter): mean %.2f ms, p50 %.2f ms, p99 %.2f ms, "
            "CPU %.2f ms per search (%zu rows answered; load %s)\n",
            n, sealed.mean_ms, sealed.p50_ms, sealed.p99_ms, sealed.cpu_ms, found, load1().c_str());

        ms.clear();
        cpu0 = cpu_seconds();
        for (int r = 0; r < rounds; ++r) {
          const auto t0 = Clock::now();
          auto rows = co_await s.database().read([id = p.id](store::Connection& c) -> Result<std::size_t> {
            return store::query_all(c, "SELECT id, email, display_name FROM users WHERE practice_id = ?1 AND role = 'client'",
                                    [](store::Statement& st) { return st.column_blob(2).size(); }, id)
                .size();
          });
          ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          if (!rows) throw std::runtime_error(rows.error().message);
        }
        const auto plain = summarize(ms, cpu_seconds() - cpu0);
        std::printf(
            "same rows read without opening them: mean %.2f ms, p50 %.2f ms, p99 %.2f ms, CPU %.2f ms per read "
            "(load %s)\n",
            plain.mean_ms, plain.p50_ms, plain.p99_ms, plain.cpu_ms, load1().c_str());
        std::printf("sealed search / plain read, CPU per op: %.1fx; 1-minute load: %s\n", sealed.cpu_ms / plain.cpu_ms,
                    load1().c_str());
      },
      [&](std::exception_ptr e) {
        try {
          if (e) std::rethrow_exception(e);
        } catch (const std::exception& x) {
          std::fprintf(stderr, "failed: %s\n", x.what());
          status = 1;
        }
      });
  io.run();
  opened->reset();
  std::filesystem::remove_all(dir);
  return status;
}
