#include "alliance/core/runtime.hpp"

#include <sched.h>
#include <sys/stat.h>

#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <fstream>

#include "alliance/core/log.hpp"

namespace alliance {

void keep_new_files_private() { ::umask(077); }

unsigned usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  int n = CPU_COUNT(&set);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

std::size_t io_threads(const Config& config) {
  return static_cast<std::size_t>(config.integer("threads", usable_cores(), 1, 256));
}

namespace {

volatile std::sig_atomic_t stop_signal_came_early = 0;

extern "C" void note_stop_signal(int) { stop_signal_came_early = 1; }

}  // namespace

StopSignals::StopSignals() {
  struct sigaction action {};
  action.sa_handler = note_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

asio::awaitable<void> StopSignals::wait() const {
  asio::signal_set signals(co_await asio::this_coro::executor, SIGINT, SIGTERM);
  if (stop_signal_came_early) co_return;  // before the set above was listening
  co_await signals.async_wait(use_tuple);
}

void write_ready_file(const StopSignals& /*stops*/, const std::filesystem::path& path,
                      const std::map<std::string, long long>& values) {
  if (path.empty()) return;
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "{";
    bool first = true;
    for (auto& [k, v] : values) {
      out << (first ? "" : ",") << "\"" << k << "\":" << v;
      first = false;
    }
    out << "}\n";
  }
  std::filesystem::rename(tmp, path);
}

std::function<void(std::exception_ptr)> log_escaped(std::string what) {
  return [what = std::move(what)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      log::error(what, {{"reason", x.what()}});
    } catch (...) {
      log::error(what, {{"reason", "unknown exception"}});
    }
  };
}

}  // namespace alliance
