// The only benchmark file that instantiates Beast and TLS stream types for held
// WebSockets (as in tools/loadgen/load.cpp, one io_context thread).
#include "sockets.hpp"

#include <openssl/ssl.h>

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
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_set>

#include "alliance/core/asio.hpp"
#include "push_socket.hpp"

namespace alliance::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::chrono::milliseconds kCloseTimeout{3000};

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The value of a frame's leading "id" ({"id":"...", as the gateway prints PushFrame), or "".
std::string_view leading_id(std::string_view text) {
  constexpr std::string_view prefix = R"({"id":")";
  if (text.substr(0, prefix.size()) != prefix) return {};
  auto end = text.find('"', prefix.size());
  if (end == std::string_view::npos) return {};
  return text.substr(prefix.size(), end - prefix.size());
}

}  // namespace

struct SocketFleet::Impl {
  struct Socket {
    Socket(asio::io_context& ctx, ssl::context& tls) : ws(ctx, tls) {}
    PushSocket ws;
    beast::flat_buffer buffer;
    std::uint32_t index = 0;
    bool ended = false;
  };

  Impl(client::Endpoint ep, FrameHandler handler)
      : endpoint(std::move(ep)), on_frame(std::move(handler)), tls(push_client_tls(endpoint.ca_file)) {
    remote = tcp::endpoint(asio::ip::make_address(endpoint.host), endpoint.port);
    thread = std::thread([this] { ctx.run(); });
  }

  void spawn(asio::awaitable<void> work) { spawn_logged(ctx, std::move(work), "[bench] a socket coroutine"); }

  // TCP + TLS + upgrade with the bearer token + session.ready, within `timeout`.
  asio::awaitable<bool> open_one(Socket& s, std::string token, std::chrono::milliseconds timeout) {
    auto& lowest = beast::get_lowest_layer(s.ws);
    lowest.expires_after(timeout);
    if (auto ec = co_await connect_tcp(lowest, remote)) co_return fail("connect", ec);
    PushSocketRequest request{endpoint.host, endpoint.host + ":" + std::to_string(endpoint.port), "/v1/ws",
                              std::move(token)};
    auto failed = co_await open_push_socket(s.ws, s.buffer, request, timeout);
    if (!failed.empty()) {
      ++report.failed;
      ++report.errors[failed];
      co_return false;
    }
    lowest.expires_never();
    ++report.ready;
    co_return true;
  }

  bool fail(std::string_view step, const error_code& ec) {
    ++report.failed;
    ++report.errors[error_kind(step, ec)];
    return false;
  }

  asio::awaitable<void> opener(const std::vector<std::string>& tokens, std::chrono::milliseconds timeout) {
    while (next < tokens.size()) {
      const std::size_t i = next++;
      auto s = std::make_unique<Socket>(ctx, *tls);
      s->index = static_cast<std::uint32_t>(i);
      const bool ok = co_await open_one(*s, tokens[i], timeout);
      if (ok) {
        sockets.push_back(std::move(s));
        spawn(hold(*sockets.back()));
      }
      if (++finished == tokens.size()) open_done.set_value();
    }
  }

  // Keeps a read pending and records each frame; the receive instant is taken first.
  asio::awaitable<void> hold(Socket& s) {
    ++held;
    for (;;) {
      auto [ec, n] = co_await s.ws.async_read(s.buffer, use_tuple);
      const auto at = now_us();
      if (ec) {
        if (!closing) ended_count.fetch_add(1);
        break;
      }
      if (on_frame) {
        const auto data = s.buffer.cdata();  // one frame: a flat buffer is contiguous
        on_frame(s.index, at, std::string_view(static_cast<const char*>(data.data()), data.size()));
        s.buffer.consume(n);
        continue;
      }
      std::string text = beast::buffers_to_string(s.buffer.data());
      s.buffer.consume(n);
      if (auto id = leading_id(text); !id.empty() && ids.emplace(id).second) distinct.fetch_add(1);
      std::lock_guard lock(mutex);
      frames.push_back(Frame{at, s.index, std::move(text)});
    }
    s.ended = true;
    if (--held == 0 && stop_timer) stop_timer->cancel();
  }

  asio::awaitable<void> close_one(Socket& s) { co_await close_push_socket(s.ws, kCloseTimeout); }

  client::Endpoint endpoint;
  FrameHandler on_frame;
  std::shared_ptr<ssl::context> tls;
  tcp::endpoint remote;
  asio::io_context ctx{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard{ctx.get_executor()};
  std::thread thread;

  // Socket thread only.
  std::vector<std::unique_ptr<Socket>> sockets;
  std::size_t next = 0, finished = 0;
  OpenReport report;
  std::promise<void> open_done;
  std::unordered_set<std::string> ids;
  bool closing = false;
  int held = 0;  // sockets with a hold() read loop running
  std::vector<std::unique_ptr<asio::steady_timer>> timers;
  std::optional<asio::steady_timer> stop_timer;

  // Shared with the calling thread.
  std::mutex mutex;
  std::vector<Frame> frames;
  std::atomic<std::uint64_t> distinct{0};
  std::atomic<int> ended_count{0};
  bool closed = false;
};

SocketFleet::SocketFleet(client::Endpoint gateway, FrameHandler on_frame)
    : impl_(std::make_unique<Impl>(std::move(gateway), std::move(on_frame))) {}

SocketFleet::~SocketFleet() { close(); }

OpenReport SocketFleet::open(const std::vector<std::string>& tokens, int concurrency,
                             std::chrono::milliseconds timeout) {
  auto done = impl_->open_done.get_future();
  const auto t0 = std::chrono::steady_clock::now();
  if (tokens.empty()) return {};
  asio::post(impl_->ctx, [this, &tokens, concurrency, timeout] {
    const auto openers = std::min<std::size_t>(static_cast<std::size_t>(std::max(concurrency, 1)), tokens.size());
    for (std::size_t i = 0; i < openers; ++i) impl_->spawn(impl_->opener(tokens, timeout));
  });
  done.wait();
  std::promise<OpenReport> p;
  auto f = p.get_future();
  asio::post(impl_->ctx, [this, &p] { p.set_value(impl_->report); });
  auto report = f.get();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

std::vector<Frame> SocketFleet::take() {
  std::vector<Frame> out;
  std::lock_guard lock(impl_->mutex);
  out.swap(impl_->frames);
  return out;
}

std::uint64_t SocketFleet::distinct_ids() const { return impl_->distinct.load(); }

int SocketFleet::ended() const { return impl_->ended_count.load(); }

void SocketFleet::at(std::chrono::system_clock::time_point when, std::function<void()> f) {
  asio::post(impl_->ctx, [this, when, f = std::move(f)]() mutable {
    // A steady deadline from the wall-clock instant (the clocks do not jump during a run).
    const auto delay = when - std::chrono::system_clock::now();
    auto timer = std::make_unique<asio::steady_timer>(impl_->ctx);
    timer->expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay));
    timer->async_wait([f = std::move(f)](error_code ec) {
      if (!ec) f();
    });
    impl_->timers.push_back(std::move(timer));
  });
}

void SocketFleet::close() {
  if (impl_->closed) return;
  impl_->closed = true;
  asio::post(impl_->ctx, [this] {
    impl_->closing = true;
    for (auto& t : impl_->timers) t->cancel();
    for (auto& s : impl_->sockets)
      if (!s->ended) impl_->spawn(impl_->close_one(*s));
    impl_->guard.reset();
    if (impl_->held == 0) return;
    // Stops once every read loop has ended; whatever has not closed by then is dropped.
    impl_->stop_timer.emplace(impl_->ctx, kCloseTimeout);
    impl_->stop_timer->async_wait([this](error_code) { impl_->ctx.stop(); });
  });
  impl_->thread.join();
}

}  // namespace alliance::bench
