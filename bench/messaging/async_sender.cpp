// The only file of the messaging benchmark that instantiates Beast and TLS stream types
// (about a minute and 2 GB of compiler): ClosedLoopSenders.
#include "async_sender.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <optional>

#include "alliance/core/asio.hpp"
#include "push_socket.hpp"

namespace alliance::bench {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kMaxAnswerBody = 1 << 20;
constexpr std::chrono::milliseconds kCloseTimeout{1000};

std::string authority(const client::Endpoint& ep) {
  const bool v6 = ep.host.find(':') != std::string::npos;
  return (v6 ? "[" + ep.host + "]" : ep.host) + ":" + std::to_string(ep.port);
}

}  // namespace

PreparedSend prepare_post(const client::Endpoint& gateway, std::string_view target, std::string_view bearer,
                          std::string_view body, std::string message_id) {
  PreparedSend out;
  out.bytes.reserve(target.size() + bearer.size() + body.size() + 160);
  out.bytes.append("POST ").append(target).append(" HTTP/1.1\r\nHost: ").append(authority(gateway));
  out.bytes.append("\r\nAuthorization: Bearer ").append(bearer);
  out.bytes.append("\r\nContent-Type: application/json\r\nContent-Length: ").append(std::to_string(body.size()));
  out.bytes.append("\r\n\r\n").append(body);
  out.message_id = std::move(message_id);
  return out;
}

std::int64_t answered_seq(std::string_view body, std::string_view message_id) {
  constexpr std::string_view id_key = R"("message_id":")";
  bool named = false;
  for (auto at = body.find(message_id); !message_id.empty() && at != std::string_view::npos && !named;
       at = body.find(message_id, at + 1)) {
    named = at >= id_key.size() && body.substr(at - id_key.size(), id_key.size()) == id_key &&
            body.substr(at + message_id.size(), 1) == "\"";
  }
  if (!named) return 0;
  constexpr std::string_view seq_key = R"("seq":)";
  const auto at = body.find(seq_key);
  if (at == std::string_view::npos) return 0;
  auto value = body.substr(at + seq_key.size());
  const bool quoted = !value.empty() && value.front() == '"';
  if (quoted) value.remove_prefix(1);
  std::int64_t seq = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seq);
  if (ec != std::errc{} || (quoted && (end == value.data() + value.size() || *end != '"'))) return 0;
  return seq > 0 ? seq : 0;
}

struct ClosedLoopSenders::Impl {
  struct Connection {
    std::optional<TlsStream> stream;  // empty before connect() and after a transport error
    beast::flat_buffer buffer;
  };

  explicit Impl(const client::Endpoint& ep) : host(ep.host), tls(push_client_tls(ep.ca_file)) {
    tcp::resolver resolver(ctx);
    remote = *resolver.resolve(ep.host, std::to_string(ep.port)).begin();
  }

  void spawn(asio::awaitable<void> work) {
    spawn_logged(ctx, std::move(work), "[messaging-bench] a sender coroutine");
  }

  void run_all() {
    ctx.restart();
    ctx.run();
  }

  static void drop(Connection& c) {
    c.stream.reset();
    c.buffer.clear();
  }

  // TCP + TLS within `timeout`; empty when open, else the failure's kind.
  asio::awaitable<std::string> open(Connection& c, std::chrono::milliseconds timeout) {
    c.stream.emplace(ctx, *tls);
    c.buffer.clear();
    auto& lowest = beast::get_lowest_layer(*c.stream);
    lowest.expires_after(timeout);
    if (auto ec = co_await connect_tcp(lowest, remote)) {
      drop(c);
      co_return error_kind("connect", ec);
    }
    auto failed = co_await tls_handshake(*c.stream, host);
    if (!failed.empty()) drop(c);
    co_return failed;
  }

  asio::awaitable<void> open_into(Connection& c, std::chrono::milliseconds timeout, std::string& first_failure) {
    auto failed = co_await open(c, timeout);
    if (!failed.empty() && first_failure.empty()) first_failure = failed;
  }

  // Writes one prepared request and reads its answer.
  asio::awaitable<Answer> exchange(Connection& c, const PreparedSend& request, std::chrono::milliseconds timeout) {
    Answer answer;
    beast::get_lowest_layer(*c.stream).expires_after(timeout);
    auto [wec, wn] = co_await asio::async_write(*c.stream, asio::buffer(request.bytes), use_tuple);
    if (wec) {
      drop(c);
      answer.error = error_kind("write", wec);
      co_return answer;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxAnswerBody);
    auto [rec, rn] = co_await http::async_read(*c.stream, c.buffer, parser, use_tuple);
    if (rec) {
      drop(c);
      answer.error = error_kind("read", rec);
      co_return answer;
    }
    const auto& res = parser.get();
    answer.status = static_cast<int>(res.result_int());
    if (answer.status != 201) {
      answer.error = "HTTP " + std::to_string(answer.status) + ": " + res.body().substr(0, 300);
    } else if (answered_seq(res.body(), request.message_id) == 0) {
      answer.status = 0;
      answer.error = "201 without this message in its answer";
    }
    if (!res.keep_alive()) drop(c);
    co_return answer;
  }

  asio::awaitable<void> drive(std::size_t i, const std::vector<PreparedSend>& queue, Clock::time_point until,
                              std::chrono::milliseconds timeout, const AnswerHandler& on_answer, SendersRun& out) {
    auto& c = *connections[i];
    for (std::size_t k = 0;; ++k) {
      const auto now = Clock::now();
      if (now >= until) break;
      if (k == queue.size()) {
        out.ran_out[i] = now;
        break;
      }
      if (!c.stream) {
        Answer reopen;
        reopen.error = co_await open(c, timeout);
        if (!reopen.error.empty()) {
          on_answer(i, now, Clock::now(), reopen);
          break;
        }
      }
      const auto sent = Clock::now();
      out.sent[i] = k + 1;
      const Answer answer = co_await exchange(c, queue[k], timeout);
      on_answer(i, sent, Clock::now(), answer);
    }
  }

  asio::awaitable<void> shut(Connection& c) {
    beast::get_lowest_layer(*c.stream).expires_after(kCloseTimeout);
    auto [ec] = co_await c.stream->async_shutdown(use_tuple);
    (void)ec;  // the gateway may close without its close_notify; nothing to report
    drop(c);
  }

  std::string host;
  asio::io_context ctx{1};
  std::shared_ptr<asio::ssl::context> tls;
  tcp::endpoint remote;
  std::vector<std::unique_ptr<Connection>> connections;
};

ClosedLoopSenders::ClosedLoopSenders(const client::Endpoint& gateway) : impl_(std::make_unique<Impl>(gateway)) {}

ClosedLoopSenders::~ClosedLoopSenders() = default;

std::string ClosedLoopSenders::connect(std::size_t n, std::chrono::milliseconds timeout) {
  std::string first_failure;
  while (impl_->connections.size() < n) impl_->connections.push_back(std::make_unique<Impl::Connection>());
  for (auto& c : impl_->connections)
    if (!c->stream) impl_->spawn(impl_->open_into(*c, timeout, first_failure));
  impl_->run_all();
  return first_failure;
}

SendersRun ClosedLoopSenders::run(const std::vector<std::vector<PreparedSend>>& queues, Clock::time_point until,
                                  std::chrono::milliseconds timeout, const AnswerHandler& on_answer) {
  SendersRun out;
  out.sent.assign(queues.size(), 0);
  out.ran_out.assign(queues.size(), std::nullopt);
  for (std::size_t i = 0; i < queues.size() && i < impl_->connections.size(); ++i)
    impl_->spawn(impl_->drive(i, queues[i], until, timeout, on_answer, out));
  impl_->run_all();
  return out;
}

void ClosedLoopSenders::close() {
  for (auto& c : impl_->connections)
    if (c->stream) impl_->spawn(impl_->shut(*c));
  impl_->run_all();
}

}  // namespace alliance::bench
