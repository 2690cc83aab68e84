// The only loadgen file that instantiates Beast and TLS stream types (about a
// minute and 2 GB of compiler): the HTTPS and WSS load loops.
#include "load.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "alliance/core/asio.hpp"
#include "push_socket.hpp"

namespace alliance::loadgen {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;
using bench::TlsStream;
using bench::connect_tcp;
using bench::error_kind;

constexpr std::string_view kUserAgent = "alliance-loadgen/0.1";
constexpr std::chrono::milliseconds kReconnectBackoff{50};
constexpr std::chrono::milliseconds kCloseTimeout{3000};
constexpr std::uint64_t kMaxBody = 1 << 20;

void spawn(asio::io_context& ctx, asio::awaitable<void> work) {
  bench::spawn_logged(ctx, std::move(work), "loadgen: a connection coroutine");
}

std::string host_header(const Target& t) {
  bool v6 = t.host.find(':') != std::string::npos;
  return (v6 ? "[" + t.host + "]" : t.host) + ":" + std::to_string(t.port);
}

// ---------------------------------------------------------------------------
// HTTP

struct HttpConnection {
  int index = 0;
  std::string source;
  std::optional<TlsStream> stream;  // empty between a failure and the next connect
  beast::flat_buffer buffer;
};

// One thread's share of the HTTP connections. Everything here runs on ctx_'s thread.
class HttpWorker {
 public:
  HttpWorker(const HttpLoadOptions& options, ssl::context& tls, tcp::endpoint remote)
      : o_(options), tls_(tls), remote_(std::move(remote)) {}

  void add(int index, std::string source) {
    auto c = std::make_unique<HttpConnection>();
    c->index = index;
    c->source = std::move(source);
    connections_.push_back(std::move(c));
  }

  // Phase 1: connect every connection (TLS handshakes are not part of the measurement).
  void connect_all() {
    for (auto& c : connections_) spawn(ctx_, open_initial(*c));
    ctx_.run();
  }

  // Phase 2: load from `start`; records requests intended at or after start + warm-up.
  void load(Clock::time_point start) {
    start_ = start;
    measure_from_ = start + o_.warmup;
    deadline_ = measure_from_ + o_.duration;
    for (auto& c : connections_) spawn(ctx_, drive(*c));
    ctx_.restart();
    ctx_.run();
  }

  HttpReport& report() { return report_; }

 private:
  void count_error(std::string_view step, const error_code& ec) {
    ++report_.transport_errors;
    ++report_.errors[error_kind(step, ec)];
  }

  asio::awaitable<void> open_initial(HttpConnection& c) { co_await open(c); }

  asio::awaitable<bool> open(HttpConnection& c) {
    c.stream.emplace(ctx_, tls_);
    c.buffer.clear();
    auto& lowest = beast::get_lowest_layer(*c.stream);
    lowest.expires_after(o_.timeout);
    if (auto ec = co_await connect_tcp(lowest, remote_, c.source)) {
      count_error("connect", ec);
      c.stream.reset();
      co_return false;
    }
    if (auto failed = co_await bench::tls_handshake(*c.stream, o_.target.host); !failed.empty()) {
      ++report_.transport_errors;
      ++report_.errors[failed];
      c.stream.reset();
      co_return false;
    }
    ++report_.connections_opened;
    co_return true;
  }

  asio::awaitable<void> drive(HttpConnection& c) {
    const bool open_loop = o_.rate > 0;
    // Open loop: connection i sends at start + (i + k * C) / R, so the C connections
    // together send evenly at R per second.
    const auto interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(open_loop ? o_.connections / o_.rate : 0));
    auto intended = start_ + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(open_loop ? c.index / o_.rate : 0));
    asio::steady_timer timer(ctx_);

    http::request<http::empty_body> req{http::verb::get, o_.path, 11};
    req.set(http::field::host, host_header(o_.target));
    req.set(http::field::user_agent, kUserAgent);
    if (!o_.token.empty()) req.set(http::field::authorization, "Bearer " + o_.token);
    req.keep_alive(true);

    for (;;) {
      if (!open_loop) intended = Clock::now();
      if (intended >= deadline_) break;
      if (open_loop && Clock::now() < intended) {
        timer.expires_at(intended);
        co_await timer.async_wait(use_tuple);
      }
      if (!c.stream && !co_await open(c)) {
        timer.expires_after(kReconnectBackoff);
        co_await timer.async_wait(use_tuple);
        continue;  // the same request, now later: an open-loop latency includes the outage
      }
      auto sent = Clock::now();
      if (!open_loop) intended = sent;
      bool measured = intended >= measure_from_;
      if (open_loop && measured && sent - intended > std::chrono::milliseconds(1)) ++report_.late_sends;

      auto& lowest = beast::get_lowest_layer(*c.stream);
      lowest.expires_after(o_.timeout);
      auto [wec, wn] = co_await http::async_write(*c.stream, req, use_tuple);
      if (wec) {
        count_error("write", wec);
        c.stream.reset();
        continue;
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxBody);
      auto [rec, rn] = co_await http::async_read(*c.stream, c.buffer, parser, use_tuple);
      if (rec) {
        count_error("read", rec);
        c.stream.reset();
        if (open_loop) intended += interval;  // this request was sent; its answer is lost
        continue;
      }
      auto done = Clock::now();
      const auto& res = parser.get();
      if (measured) {
        if (res.result() == http::status::ok) {
          ++report_.ok;
          report_.latency.record(done - intended);
        } else {
          ++report_.non_200;
          ++report_.errors["status_" + std::to_string(res.result_int())];
        }
      }
      if (!res.keep_alive()) c.stream.reset();
      if (open_loop) intended += interval;
    }
    if (c.stream) {
      beast::get_lowest_layer(*c.stream).expires_after(std::chrono::seconds(1));
      co_await c.stream->async_shutdown(use_tuple);
    }
  }

  const HttpLoadOptions& o_;
  ssl::context& tls_;
  tcp::endpoint remote_;
  asio::io_context ctx_{1};
  std::vector<std::unique_ptr<HttpConnection>> connections_;
  Clock::time_point start_, measure_from_, deadline_;
  HttpReport report_;
};

void merge_errors(std::map<std::string, std::uint64_t>& into, const std::map<std::string, std::uint64_t>& from) {
  for (const auto& [k, v] : from) into[k] += v;
}

tcp::endpoint remote_endpoint(const Target& t) { return tcp::endpoint(asio::ip::make_address(t.host), t.port); }

template <class Worker>
void run_on_threads(std::vector<std::unique_ptr<Worker>>& workers, void (Worker::*step)()) {
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w, step] { (w.get()->*step)(); });
  for (auto& t : threads) t.join();
}

// ---------------------------------------------------------------------------
// WebSocket

struct WsSession {
  WsSession(asio::io_context& ctx, ssl::context& tls) : ws(ctx, tls) {}
  bench::PushSocket ws;
  beast::flat_buffer buffer;
  bool ended = false;
};

struct WsPlan {
  std::string token;
  std::string source;
};

// Counts finished setups (ready or failed) across workers; the main thread waits on it.
struct SetupCounter {
  std::mutex mutex;
  std::condition_variable cv;
  int finished = 0;

  void add(int n) {
    std::lock_guard lock(mutex);
    finished += n;
    cv.notify_all();
  }
};

// One thread's share of the WebSockets. Everything but the post()ing entry points
// runs on ctx_'s thread; the main thread talks to it only through post().
class WsWorker {
 public:
  WsWorker(const WsLoadOptions& options, ssl::context& tls, tcp::endpoint remote, SetupCounter& counter)
      : o_(options), tls_(tls), remote_(std::move(remote)), counter_(counter) {}

  void add(WsPlan plan) { plans_.push_back(std::move(plan)); }

  // Thread body: opens connections `concurrency` at a time, then serves the held
  // sockets until close_all() has finished (or its timeout ran out).
  void run() {
    sessions_.resize(plans_.size());
    int openers = std::min<int>(o_.concurrency, static_cast<int>(plans_.size()));
    for (int i = 0; i < openers; ++i) spawn(ctx_, opener());
    ctx_.run();
  }

  // Stop starting new connections; the ones not started count as failed.
  void abandon() {
    asio::post(ctx_, [this] {
      auto left = static_cast<int>(plans_.size() - next_);
      report_.failed += left;
      if (left > 0) report_.errors["budget:not_started"] += static_cast<std::uint64_t>(left);
      next_ = plans_.size();
      counter_.add(left);
    });
  }

  WsReport snapshot() {
    std::promise<WsReport> p;
    auto f = p.get_future();
    asio::post(ctx_, [this, &p] { p.set_value(report_); });
    return f.get();
  }

  // Closes every held socket normally and lets run() return.
  void close_all() {
    asio::post(ctx_, [this] {
      closing_ = true;
      for (auto& s : sessions_)
        if (s && !s->ended) spawn(ctx_, close(*s));
      guard_.reset();
      // Whatever has not closed by then is dropped; stopping early once all have.
      stop_timer_.expires_after(kCloseTimeout);
      stop_timer_.async_wait([this](error_code) { ctx_.stop(); });
      if (held_ == 0) stop_timer_.cancel();
    });
  }

  const WsReport& report() const { return report_; }  // after run() has returned

 private:
  void fail(std::string_view step, const error_code& ec) {
    ++report_.failed;
    ++report_.errors[error_kind(step, ec)];
  }

  asio::awaitable<void> opener() {
    while (next_ < plans_.size()) {
      std::size_t i = next_++;
      sessions_[i] = std::make_unique<WsSession>(ctx_, tls_);
      bool ok = co_await open(*sessions_[i], plans_[i]);
      if (ok) {
        spawn(ctx_, hold(*sessions_[i]));
      } else {
        sessions_[i].reset();
      }
      counter_.add(1);
    }
  }

  // TCP + TLS + upgrade with the bearer token + the session.ready frame, all within --timeout.
  asio::awaitable<bool> open(WsSession& s, const WsPlan& plan) {
    auto t0 = Clock::now();
    auto& lowest = beast::get_lowest_layer(s.ws);
    lowest.expires_after(o_.timeout);
    if (auto ec = co_await connect_tcp(lowest, remote_, plan.source)) {
      fail("connect", ec);
      co_return false;
    }
    bench::PushSocketRequest request{o_.target.host, host_header(o_.target), o_.path, plan.token,
                                     std::string(kUserAgent)};
    auto failed = co_await bench::open_push_socket(s.ws, s.buffer, request, o_.timeout);
    if (!failed.empty()) {
      ++report_.failed;
      ++report_.errors[failed];
      co_return false;
    }
    lowest.expires_never();
    ++report_.ready;
    report_.setup.record(Clock::now() - t0);
    co_return true;
  }

  // Keeps a read pending so Beast answers the gateway's pings; counts pushes.
  asio::awaitable<void> hold(WsSession& s) {
    ++held_;
    for (;;) {
      auto [ec, n] = co_await s.ws.async_read(s.buffer, use_tuple);
      if (ec) {
        if (!closing_) {
          ++report_.closed_during_hold;
          ++report_.hold_errors[error_kind("hold", ec)];
        }
        break;
      }
      s.buffer.consume(n);
      ++report_.frames_during_hold;
    }
    s.ended = true;
    if (--held_ == 0 && closing_) stop_timer_.cancel();
  }

  asio::awaitable<void> close(WsSession& s) { co_await bench::close_push_socket(s.ws, kCloseTimeout); }

  const WsLoadOptions& o_;
  ssl::context& tls_;
  tcp::endpoint remote_;
  SetupCounter& counter_;
  asio::io_context ctx_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_{ctx_.get_executor()};
  asio::steady_timer stop_timer_{ctx_};
  std::vector<WsPlan> plans_;
  std::vector<std::unique_ptr<WsSession>> sessions_;
  std::size_t next_ = 0;
  int held_ = 0;  // sockets with a hold() read loop running
  bool closing_ = false;
  WsReport report_;
};

void merge_setup(WsReport& into, const WsReport& from) {
  into.ready += from.ready;
  into.failed += from.failed;
  merge_errors(into.errors, from.errors);
  into.setup.merge(from.setup);
}

}  // namespace

HttpReport run_http(const HttpLoadOptions& o) {
  auto tls = bench::push_client_tls(o.target.ca_file);
  auto remote = remote_endpoint(o.target);
  std::vector<std::unique_ptr<HttpWorker>> workers;
  for (int t = 0; t < o.threads; ++t) workers.push_back(std::make_unique<HttpWorker>(o, *tls, remote));
  for (int i = 0; i < o.connections; ++i) {
    std::string source = o.source_ips.empty() ? "" : o.source_ips[i % o.source_ips.size()];
    workers[i % o.threads]->add(i, std::move(source));
  }
  run_on_threads(workers, &HttpWorker::connect_all);

  // Every worker starts from the same instant, a little ahead so all threads are up.
  auto start = Clock::now() + std::chrono::milliseconds(20);
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w, start] { w->load(start); });
  for (auto& t : threads) t.join();

  HttpReport out;
  for (auto& w : workers) {
    auto& r = w->report();
    out.connections_opened += r.connections_opened;
    out.ok += r.ok;
    out.non_200 += r.non_200;
    out.transport_errors += r.transport_errors;
    out.late_sends += r.late_sends;
    merge_errors(out.errors, r.errors);
    out.latency.merge(r.latency);
  }
  out.measured = o.duration;
  return out;
}

WsReport run_ws(const WsLoadOptions& o, const std::function<void(const WsReport&)>& on_ready) {
  auto tls = bench::push_client_tls(o.target.ca_file);
  auto remote = remote_endpoint(o.target);
  SetupCounter counter;
  std::vector<std::unique_ptr<WsWorker>> workers;
  for (int t = 0; t < o.threads; ++t) workers.push_back(std::make_unique<WsWorker>(o, *tls, remote, counter));
  for (int i = 0; i < o.connections; ++i) {
    WsPlan plan{o.tokens[i % o.tokens.size()], o.source_ips.empty() ? "" : o.source_ips[i % o.source_ips.size()]};
    workers[i % o.threads]->add(std::move(plan));
  }

  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w] { w->run(); });

  auto all_done = [&] { return counter.finished >= o.connections; };
  {
    std::unique_lock lock(counter.mutex);
    if (!counter.cv.wait_until(lock, t0 + o.connect_budget, all_done)) {
      lock.unlock();
      for (auto& w : workers) w->abandon();
      lock.lock();
      // Connections in flight end by their own --timeout.
      counter.cv.wait_until(lock, Clock::now() + o.timeout + std::chrono::seconds(2), all_done);
    }
  }
  WsReport out;
  out.connect_phase = Clock::now() - t0;
  for (auto& w : workers) merge_setup(out, w->snapshot());
  on_ready(out);

  auto hold_until = Clock::now() + o.hold;
  while (Clock::now() < hold_until) std::this_thread::sleep_until(hold_until);
  for (auto& w : workers) w->close_all();
  for (auto& t : threads) t.join();

  WsReport final_report;
  final_report.connect_phase = out.connect_phase;
  for (auto& w : workers) {
    const auto& r = w->report();
    merge_setup(final_report, r);
    final_report.closed_during_hold += r.closed_during_hold;
    final_report.frames_during_hold += r.frames_during_hold;
    merge_errors(final_report.hold_errors, r.hold_errors);
  }
  return final_report;
}

}  // namespace alliance::loadgen
