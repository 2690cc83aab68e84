// Service-to-service RPC over real mutual TLS on 127.0.0.1:0 (and on a Unix-domain
// socket), with the development certificates: the identity service serves, the
// gateway calls.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <fstream>
#include <gtest/gtest.h>
#include <set>
#include <sstream>
#include <thread>

#include "alliance/net/rpc_client.hpp"
#include "alliance/net/rpc_methods.hpp"
#include "alliance/net/rpc_server.hpp"
#include "alliance/net/tls.hpp"
#include "alliance/push/v1/push.pb.h"
#include "dev_certs.hpp"
#include "process.hpp"

namespace alliance::net {
namespace {

using namespace std::chrono_literals;
namespace pb = alliance::rpc::v1;
using alliance::push::v1::Notice;
using alliance::testing::dev_certs;

constexpr std::string_view kEcho = "alliance.test.v1.Echo/Echo";
constexpr std::string_view kSlow = "alliance.test.v1.Echo/Slow";
constexpr std::string_view kFail = "alliance.test.v1.Echo/Fail";
constexpr std::string_view kThrow = "alliance.test.v1.Echo/Throw";
constexpr std::string_view kCount = "alliance.test.v1.Echo/Count";

// Sends our stderr (where the JSON logs go) to a file for the life of a test.
class StderrCapture {
 public:
  explicit StderrCapture(std::filesystem::path file) : file_(std::move(file)) {
    saved_ = ::dup(2);
    int fd = ::open(file_.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~StderrCapture() {
    ::dup2(saved_, 2);
    ::close(saved_);
  }
  std::string text() const {
    std::ifstream in(file_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::filesystem::path file_;
  int saved_ = -1;
};

asio::ssl::context client_context(const std::string& svc) {
  auto& c = dev_certs();
  return make_rpc_client_context(TlsFiles{c.ca(), c.cert(svc), c.key(svc)});
}

class RpcTest : public ::testing::Test {
 protected:
  // Declared before the io_context so they outlive every coroutine it destroys.
  asio::ssl::context server_tls_ = make_rpc_server_context(
      TlsFiles{dev_certs().ca(), dev_certs().cert("identity"), dev_certs().key("identity")});
  asio::ssl::context client_tls_ = client_context("gateway");
  alliance::testing::TempDir tmp_;
  StderrCapture logs_{tmp_.path() / "stderr.log"};
  asio::io_context ioc_;
  std::unique_ptr<RpcServer> server_;
  std::uint16_t port_ = 0;
  std::size_t threads_ = 1;  // the server's I/O threads
  std::string unix_path_;    // when set, the server also listens here and clients connect here
  // Handler state with no lock, as a service's is: touched only by kCount's handler.
  std::size_t counted_ = 0;
  std::set<std::thread::id> handler_threads_;

  void SetUp() override { start_server(0); }

  void TearDown() override {
    // With I/O threads, calls still running are drained before the server goes.
    if (threads_ > 1 && server_) {
      server_->stop();
      run(server_->drain());
    }
    if (HasFailure()) std::cout << "--- logs ---\n" << logs_.text() << "---\n";
  }

  void start_server(std::uint16_t port) {
    RpcServer::Options opts;
    opts.service_name = "identity";
    opts.port = port;
    opts.max_frame = 64 * 1024;
    opts.handshake_timeout = 500ms;
    opts.threads = threads_;
    opts.unix_path = unix_path_;
    server_ = std::make_unique<RpcServer>(ioc_.get_executor(), server_tls_, opts);
    server_->handle<Notice, Notice>(
        std::string(kEcho), [](const Notice& req, const CallContext& ctx) -> asio::awaitable<Result<Notice>> {
          Notice resp;
          resp.set_text(req.text() + "|" + ctx.peer_name + "|" + ctx.caller.user_id());
          co_return resp;
        });
    server_->handle<Notice, Notice>(
        std::string(kSlow), [](const Notice& req, const CallContext&) -> asio::awaitable<Result<Notice>> {
          asio::steady_timer t(co_await asio::this_coro::executor,
                               std::chrono::milliseconds(std::stoi(req.text())));
          co_await t.async_wait(use_tuple);
          Notice resp;
          resp.set_text("slept " + req.text());
          co_return resp;
        });
    server_->handle<Notice, Notice>(
        std::string(kFail), [](const Notice&, const CallContext&) -> asio::awaitable<Result<Notice>> {
          Notice detail;
          detail.set_text("try 10:30 instead");
          Error e{Code::kResourceExhausted, "too many bookings, slow down", "start_time", 1500ms,
                  detail.SerializeAsString()};
          co_return e;
        });
    server_->handle<Notice, Notice>(
        std::string(kCount), [this](const Notice& req, const CallContext&) -> asio::awaitable<Result<Notice>> {
          handler_threads_.insert(std::this_thread::get_id());
          Notice resp;
          resp.set_text(req.text() + "#" + std::to_string(++counted_));
          co_return resp;
        });
    server_->handle<Notice, Notice>(
        std::string(kThrow), [](const Notice&, const CallContext&) -> asio::awaitable<Result<Notice>> {
          throw std::logic_error("handler bug");
          co_return Notice();
        });
    port_ = server_->listen();
    ASSERT_NE(port_, 0);
  }

  std::unique_ptr<RpcClient> make_client(asio::ssl::context& tls, std::string server_name = "identity") {
    RpcClient::Options opts;
    opts.host = "127.0.0.1";
    opts.port = port_;
    opts.unix_path = unix_path_;
    opts.server_name = std::move(server_name);
    return std::make_unique<RpcClient>(ioc_.get_executor(), tls, opts);
  }

  // `n` clients, each connected by a first call that succeeded; none if one failed.
  std::vector<std::unique_ptr<RpcClient>> connected_clients(int n) {
    std::vector<std::unique_ptr<RpcClient>> clients;
    for (int c = 0; c < n; ++c) {
      clients.push_back(make_client(client_tls_));
      auto r = echo(*clients.back(), "hello");
      if (!r.ok()) {
        ADD_FAILURE() << "client " << c << ": " << r.error().message;
        return {};
      }
    }
    return clients;
  }

  // Runs the io_context until `done()` or the deadline; false on timeout.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (ioc_.stopped()) ioc_.restart();
      ioc_.run_one_for(20ms);
    }
    return true;
  }

  // Runs one awaitable to completion on the io_context.
  template <class T>
  T run(asio::awaitable<T> task, std::chrono::milliseconds limit = 10s) {
    std::optional<T> out;
    asio::co_spawn(
        ioc_, [&out, t = std::move(task)]() mutable -> asio::awaitable<void> { out.emplace(co_await std::move(t)); },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    if (!run_until([&] { return out.has_value(); }, limit)) throw std::runtime_error("task timed out");
    return std::move(*out);
  }
  void run(asio::awaitable<void> task, std::chrono::milliseconds limit = 10s) {
    bool done = false;
    asio::co_spawn(ioc_, std::move(task), [&done](std::exception_ptr e) {
      done = true;
      if (e) std::rethrow_exception(e);
    });
    if (!run_until([&] { return done; }, limit)) throw std::runtime_error("task timed out");
  }

  Result<Notice> echo(RpcClient& client, std::string text, std::chrono::milliseconds timeout = 2s,
                      std::string_view method = kEcho) {
    Notice req;
    req.set_text(std::move(text));
    pb::Caller caller;
    caller.set_user_id("u-42");
    return run(client.call<Notice>(method, req, caller, timeout));
  }

  bool logs_contain(std::string_view needle, std::chrono::milliseconds limit = 3s) {
    return run_until([&] { return logs_.text().find(needle) != std::string::npos; }, limit);
  }
};

TEST_F(RpcTest, TypedCallRoundTripCarriesCallerAndPeerName) {
  auto client = make_client(client_tls_);
  auto r = echo(*client, "hello");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->text(), "hello|gateway|u-42");
  EXPECT_TRUE(client->connected());

  auto health = run(client->call<pb::HealthCheckResponse>("alliance.rpc.v1.Health/Check", pb::HealthCheckRequest()));
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->service(), "identity");
  EXPECT_TRUE(health->ready());
  server_->set_readiness([] { return false; });
  health = run(client->call<pb::HealthCheckResponse>("alliance.rpc.v1.Health/Check", pb::HealthCheckRequest()));
  ASSERT_TRUE(health.ok());
  EXPECT_FALSE(health->ready());
}

TEST_F(RpcTest, FiveHundredConcurrentCallsShareOneConnection) {
  auto client = make_client(client_tls_);
  constexpr int kCalls = 500;
  std::vector<std::optional<Result<Notice>>> results(kCalls);
  int done = 0;
  for (int i = 0; i < kCalls; ++i) {
    asio::co_spawn(
        ioc_,
        [&, i]() -> asio::awaitable<void> {
          Notice req;
          // Odd calls sleep a little so answers come back out of order.
          req.set_text(std::to_string(i % 2 ? 5 : 1));
          auto r = co_await client->call<Notice>(i % 3 ? kSlow : kEcho, req);
          results[i].emplace(std::move(r));
          ++done;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  ASSERT_TRUE(run_until([&] { return done == kCalls; }));
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(results[i]->ok()) << i << ": " << results[i]->error().message;
    std::string n = std::to_string(i % 2 ? 5 : 1);
    EXPECT_EQ((*results[i])->text(), i % 3 ? "slept " + n : n + "|gateway|") << i;
  }
  EXPECT_EQ(server_->open_connections(), 1u);
  EXPECT_EQ(client->stats().calls, static_cast<std::uint64_t>(kCalls));
  EXPECT_EQ(client->stats().errors, 0u);
}

TEST_F(RpcTest, HandlerErrorArrivesWithCodeMessageFieldRetryAfterAndDetail) {
  auto client = make_client(client_tls_);
  auto r = echo(*client, "x", 2s, kFail);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kResourceExhausted);
  EXPECT_EQ(r.error().message, "too many bookings, slow down");
  EXPECT_EQ(r.error().field, "start_time");
  EXPECT_EQ(r.error().retry_after, 1500ms);
  Notice detail;
  ASSERT_TRUE(detail.ParseFromString(r.error().detail));
  EXPECT_EQ(detail.text(), "try 10:30 instead");
  EXPECT_EQ(client->stats().errors, 1u);
}

TEST_F(RpcTest, UnknownMethodAndThrowingHandlerAreAnsweredAndServerKeepsServing) {
  auto client = make_client(client_tls_);
  auto r = echo(*client, "x", 2s, "alliance.nope.v1.Nope/Nothing");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  EXPECT_EQ(r.error().message, "unknown method alliance.nope.v1.Nope/Nothing");

  r = echo(*client, "x", 2s, kThrow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kInternal);
  EXPECT_EQ(r.error().message, "internal error");  // no exception text leaks to the caller
  EXPECT_TRUE(logs_contain("handler bug"));

  r = echo(*client, "still here");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text(), "still here|gateway|u-42");
}

TEST_F(RpcTest, CallPastItsDeadlineFailsDeadlineExceeded) {
  auto client = make_client(client_tls_);
  ASSERT_TRUE(echo(*client, "warm up").ok());
  auto start = std::chrono::steady_clock::now();
  auto r = echo(*client, "3000", 150ms, kSlow);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kDeadlineExceeded) << r.error().message;
  EXPECT_LT(took, 1s);
  // The connection is fine and serves the next call.
  auto next = echo(*client, "after");
  ASSERT_TRUE(next.ok()) << next.error().message;
}

TEST_F(RpcTest, ServerAnswersDeadlineExceededItself) {
  // Seen from the wire: a raw frame with timeout_ms=100 for a handler that sleeps 3 s
  // gets a DEADLINE_EXCEEDED frame back from the server.
  auto client_tls = client_context("gateway");
  auto task = [&]() -> asio::awaitable<pb::Frame> {
    asio::ssl::stream<asio::ip::tcp::socket> s(ioc_, client_tls);
    co_await s.next_layer().async_connect({asio::ip::make_address("127.0.0.1"), port_}, use_tuple);
    auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::client, use_tuple);
    EXPECT_FALSE(hec) << hec.message();
    pb::Frame req;
    req.set_call_id(9);
    req.set_method(std::string(kSlow));
    req.set_timeout_ms(100);
    Notice n;
    n.set_text("3000");
    req.set_payload(n.SerializeAsString());
    std::string bytes = encode_frame(req);
    co_await asio::async_write(s, asio::buffer(bytes), use_tuple);
    FrameDecoder dec;
    std::vector<pb::Frame> out;
    char buf[4096];
    while (out.empty()) {
      auto [ec, n2] = co_await s.async_read_some(asio::buffer(buf), use_tuple);
      if (ec) break;
      EXPECT_TRUE(dec.feed(std::string_view(buf, n2), out).ok());
    }
    co_return out.empty() ? pb::Frame() : out[0];
  };
  auto start = std::chrono::steady_clock::now();
  pb::Frame resp = run(task());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(resp.call_id(), 9u);
  EXPECT_EQ(resp.status(), pb::DEADLINE_EXCEEDED);
}

TEST_F(RpcTest, ClientWithoutCertificateIsRefused) {
  asio::ssl::context anonymous(asio::ssl::context::tls_client);
  anonymous.load_verify_file(dev_certs().ca().string());
  anonymous.set_verify_mode(asio::ssl::verify_peer);
  auto bad = make_client(anonymous);
  auto good = make_client(client_tls_);

  auto r = echo(*bad, "let me in", 1s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kUnavailable) << r.error().message;
  EXPECT_TRUE(logs_contain("peer did not return a certificate"));
  EXPECT_TRUE(logs_contain("rpc handshake refused"));

  auto ok = echo(*good, "hi");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
}

TEST_F(RpcTest, ClientWithRogueCertificateIsRefused) {
  auto& c = dev_certs();
  auto rogue_tls = make_rpc_client_context(TlsFiles{c.ca(), c.rogue_cert(), c.rogue_key()});
  auto bad = make_client(rogue_tls);
  auto good = make_client(client_tls_);

  auto r = echo(*bad, "let me in", 1s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kUnavailable) << r.error().message;
  EXPECT_TRUE(logs_contain("unable to get local issuer certificate"));

  auto ok = echo(*good, "hi");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
}

TEST_F(RpcTest, ClientExpectingAnotherServiceRefusesTheServer) {
  auto wrong = make_client(client_tls_, "scheduling");
  auto r = echo(*wrong, "hello", 400ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::kUnavailable);
  EXPECT_NE(r.error().message.find("not valid for name \"scheduling\""), std::string::npos)
      << r.error().message;
  EXPECT_FALSE(wrong->connected());
}

class RawTlsPeer {
 public:
  RawTlsPeer(asio::io_context& ioc, asio::ssl::context& tls) : stream_(ioc, tls) {}
  // Connects, handshakes, sends `bytes`, then reads until the server hangs up.
  // Returns true if the server closed the connection.
  asio::awaitable<bool> send_and_expect_close(std::uint16_t port, std::string bytes) {
    auto [cec] = co_await stream_.next_layer().async_connect({asio::ip::make_address("127.0.0.1"), port}, use_tuple);
    if (cec) co_return false;
    auto [hec] = co_await stream_.async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (hec) co_return false;
    co_await asio::async_write(stream_, asio::buffer(bytes), use_tuple);
    char buf[1024];
    for (;;) {
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buf), use_tuple);
      if (ec) co_return true;
    }
  }

 private:
  asio::ssl::stream<asio::ip::tcp::socket> stream_;
};

TEST_F(RpcTest, OversizedOrGarbageFrameClosesOnlyThatConnection) {
  auto good = make_client(client_tls_);
  ASSERT_TRUE(echo(*good, "before").ok());

  // A slow call is in flight on the good connection while bad peers are cut off.
  std::optional<Result<Notice>> slow;
  asio::co_spawn(
      ioc_,
      [&]() -> asio::awaitable<void> {
        Notice req;
        req.set_text("300");
        slow.emplace(co_await good->call<Notice>(kSlow, req));
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });

  RawTlsPeer oversized(ioc_, client_tls_);
  EXPECT_TRUE(run(oversized.send_and_expect_close(port_, std::string("\x7f\xff\xff\xff", 4))));
  EXPECT_TRUE(logs_contain("frame too large: 2147483647 bytes"));

  RawTlsPeer garbage(ioc_, client_tls_);
  EXPECT_TRUE(run(garbage.send_and_expect_close(port_, std::string("\x00\x00\x00\x04\xff\xff\xff\xff", 8))));
  EXPECT_TRUE(logs_contain("malformed frame"));
  EXPECT_TRUE(logs_contain("127.0.0.1:"));  // the peer address is in the warning

  ASSERT_TRUE(run_until([&] { return slow.has_value(); }));
  ASSERT_TRUE(slow->ok()) << slow->error().message;
  EXPECT_EQ((*slow)->text(), "slept 300");
  EXPECT_TRUE(good->connected());
  auto after = echo(*good, "after");
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_TRUE(run_until([&] { return server_->open_connections() == 1; }));
}

TEST_F(RpcTest, PlaintextConnectionIsRefusedWithoutAffectingOthers) {
  auto good = make_client(client_tls_);
  ASSERT_TRUE(echo(*good, "before").ok());

  auto plaintext = [&](std::string bytes) -> asio::awaitable<bool> {
    asio::ip::tcp::socket s(ioc_);
    auto [cec] = co_await s.async_connect({asio::ip::make_address("127.0.0.1"), port_}, use_tuple);
    if (cec) co_return false;
    if (!bytes.empty()) co_await asio::async_write(s, asio::buffer(bytes), use_tuple);
    char buf[1024];
    for (;;) {
      auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), use_tuple);
      if (ec) co_return true;  // the server hung up
    }
  };
  pb::Frame frame;
  frame.set_call_id(1);
  frame.set_method(std::string(kEcho));
  EXPECT_TRUE(run(plaintext(encode_frame(frame))));  // a well-formed frame, but without TLS
  EXPECT_TRUE(run(plaintext("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
  EXPECT_TRUE(logs_contain("rpc handshake refused"));
  // A silent peer is dropped after the handshake timeout (500 ms here).
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(run(plaintext("")));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(logs_contain("timed out"));

  auto after = echo(*good, "after");
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_TRUE(run_until([&] { return server_->open_connections() == 1; }));
}

TEST_F(RpcTest, ClientReconnectsAfterServerRestart) {
  auto client = make_client(client_tls_);
  ASSERT_TRUE(echo(*client, "first").ok());
  const auto port = port_;

  // A call in flight when the server goes away fails kUnavailable.
  std::optional<Result<Notice>> in_flight;
  asio::co_spawn(
      ioc_,
      [&]() -> asio::awaitable<void> {
        Notice req;
        req.set_text("2000");
        in_flight.emplace(co_await client->call<Notice>(kSlow, req, {}, 5s));
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  ASSERT_TRUE(run_until([&] { return server_->open_connections() == 1; }));
  run_until([] { return false; }, 50ms);  // let the request reach the server
  server_->stop();
  ASSERT_TRUE(run_until([&] { return in_flight.has_value(); }));
  ASSERT_FALSE(in_flight->ok());
  EXPECT_EQ(in_flight->error().code, Code::kUnavailable);
  ASSERT_TRUE(run_until([&] { return !client->connected(); }));
  server_.reset();

  // While nothing listens, a call fails kUnavailable at its deadline.
  auto down = echo(*client, "anyone?", 200ms);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, Code::kUnavailable);

  start_server(port);
  ASSERT_EQ(port_, port);
  // The client keeps reconnecting on its own (at most 2 s apart); once it has, calls go.
  ASSERT_TRUE(run_until([&] { return client->connected(); }, 5s));
  auto r = echo(*client, "again", 5s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->text(), "again|gateway|u-42");
  EXPECT_TRUE(client->connected());
}

TEST_F(RpcTest, CallsFailFastWhileTheServerIsKnownDownAndGoAgainOnceItIsBack) {
  auto client = make_client(client_tls_);
  ASSERT_TRUE(echo(*client, "first").ok());
  const auto port = port_;
  server_->stop();
  server_.reset();

  // The first calls may wait while the client finds out; none waits its whole 5 s.
  for (int i = 0; i < 5 && client->stats().breaker_opened == 0; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto early = echo(*client, "anyone?", 5s);
    ASSERT_FALSE(early.ok());
    EXPECT_EQ(early.error().code, Code::kUnavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
  }
  ASSERT_EQ(client->stats().breaker_opened, 1u);

  // Known down: every call is refused at once, saying when to try again.
  for (int i = 0; i < 5; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto r = echo(*client, "still nobody?", 5s);
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Code::kUnavailable);
    EXPECT_LT(took, 100ms);
    EXPECT_GT(r.error().retry_after.count(), 0);
  }
  EXPECT_GE(client->stats().refused, 4u) << "at most one probe goes per cool-down";

  start_server(port);
  ASSERT_EQ(port_, port);
  // Back without restarting the client: a probe or the reconnect loop finds it.
  std::optional<Result<Notice>> back;
  ASSERT_TRUE(run_until(
      [&] {
        back = echo(*client, "back?", 2s);
        return back->ok();
      },
      10s));
  EXPECT_EQ((*back)->text(), "back?|gateway|u-42");
}

// A service class registered through MethodTable: one method for the table's own
// peers (those calling for end users), one for named services only.
class TableService {
 public:
  asio::awaitable<Result<Notice>> for_users(const Notice& req, const CallContext& ctx) {
    Notice resp;
    resp.set_text("users:" + req.text() + "|" + ctx.peer_name + "|" + ctx.caller.user_id());
    co_return resp;
  }
  asio::awaitable<Result<Notice>> for_services(const Notice& req, const CallContext& ctx) {
    Notice resp;
    resp.set_text("services:" + req.text() + "|" + ctx.peer_name);
    co_return resp;
  }
};

TEST_F(RpcTest, MethodTableAnswersEachMethodsPeersAndRefusesTheRest) {
  TableService service;
  RpcServer::Options opts;
  opts.service_name = "identity";
  RpcServer table_server(ioc_.get_executor(), server_tls_, opts);
  MethodTable<TableService> table(table_server, service, "alliance.test.v1.Table/", PeerSet{"gateway"});
  table.add("ForUsers", &TableService::for_users);
  table.add("ForServices", &TableService::for_services, PeerSet{"messaging", "scheduling"});
  port_ = table_server.listen();
  ASSERT_NE(port_, 0);

  auto messaging_tls = client_context("messaging");
  auto reminders_tls = client_context("reminders");
  auto gateway = make_client(client_tls_);
  auto messaging = make_client(messaging_tls);
  auto reminders = make_client(reminders_tls);
  constexpr std::string_view kForUsers = "alliance.test.v1.Table/ForUsers";
  constexpr std::string_view kForServices = "alliance.test.v1.Table/ForServices";
  auto expect_refused = [](const Result<Notice>& r, const char* what) {
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code, Code::kPermissionDenied) << what;
    EXPECT_EQ(r.error().message, "this peer may not call this method") << what;
  };

  // add(name, method): the table's peers only.
  auto r = echo(*gateway, "a", 2s, kForUsers);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->text(), "users:a|gateway|u-42");
  expect_refused(echo(*messaging, "b", 2s, kForUsers), "messaging -> ForUsers");
  expect_refused(echo(*reminders, "c", 2s, kForUsers), "reminders -> ForUsers");

  // add(name, method, peers): those peers only, not the table's.
  r = echo(*messaging, "d", 2s, kForServices);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->text(), "services:d|messaging");
  expect_refused(echo(*gateway, "e", 2s, kForServices), "gateway -> ForServices");
  expect_refused(echo(*reminders, "f", 2s, kForServices), "reminders -> ForServices");
  EXPECT_TRUE(logs_contain("rpc refused: peer not allowed"));
  EXPECT_TRUE(logs_contain("alliance.test.v1.Table/ForServices"));

  table_server.stop();
  EXPECT_TRUE(run_until([&] { return table_server.open_connections() == 0; }));
}

// The same server with two I/O threads: connections are spread over both, while
// every handler still runs on the service's own thread (this test's).
class RpcThreadsTest : public RpcTest {
 protected:
  RpcThreadsTest() { threads_ = 2; }
};

TEST_F(RpcThreadsTest, ConnectionsSpreadOverBothThreadsAndHandlersRunOnlyOnTheServicesThread) {
  constexpr int kClients = 4;
  constexpr int kCallsEach = 250;
  auto clients = connected_clients(kClients);
  ASSERT_EQ(clients.size(), static_cast<std::size_t>(kClients));
  EXPECT_EQ(server_->connections_per_thread(), (std::vector<std::size_t>{2, 2}));

  std::vector<std::optional<Result<Notice>>> results(kClients * kCallsEach);
  int done = 0;
  for (int i = 0; i < kClients * kCallsEach; ++i) {
    asio::co_spawn(
        ioc_,
        [&, i]() -> asio::awaitable<void> {
          Notice req;
          req.set_text(std::to_string(i));
          auto r = co_await clients[i % kClients]->call<Notice>(kCount, req);
          results[i].emplace(std::move(r));
          ++done;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  ASSERT_TRUE(run_until([&] { return done == kClients * kCallsEach; }));
  std::set<std::string> numbers;  // each call was counted exactly once
  for (int i = 0; i < kClients * kCallsEach; ++i) {
    ASSERT_TRUE(results[i]->ok()) << i << ": " << results[i]->error().message;
    const std::string& text = (*results[i])->text();
    ASSERT_EQ(text.substr(0, text.find('#')), std::to_string(i));
    numbers.insert(text.substr(text.find('#') + 1));
  }
  EXPECT_EQ(counted_, static_cast<std::size_t>(kClients * kCallsEach));
  EXPECT_EQ(numbers.size(), static_cast<std::size_t>(kClients * kCallsEach));
  EXPECT_EQ(handler_threads_, (std::set<std::thread::id>{std::this_thread::get_id()}));

  // Errors, exceptions and the server's own deadline answer cross threads intact.
  for (auto& client : clients) {
    auto fail = echo(*client, "x", 2s, kFail);
    ASSERT_FALSE(fail.ok());
    EXPECT_EQ(fail.error().code, Code::kResourceExhausted);
    EXPECT_EQ(fail.error().field, "start_time");
    auto thrown = echo(*client, "x", 2s, kThrow);
    ASSERT_FALSE(thrown.ok());
    EXPECT_EQ(thrown.error().code, Code::kInternal);
    auto late = echo(*client, "400", 100ms, kSlow);
    ASSERT_FALSE(late.ok());
    EXPECT_EQ(late.error().code, Code::kDeadlineExceeded);
    auto unknown = echo(*client, "x", 2s, "alliance.test.v1.Echo/Nope");
    EXPECT_EQ(unknown.error().code, Code::kInvalidArgument);
  }
}

TEST_F(RpcThreadsTest, StopClosesConnectionsOnEveryThreadAndDrainWaitsForTheirCalls) {
  auto clients = connected_clients(2);
  ASSERT_EQ(clients.size(), static_cast<std::size_t>(2));
  ASSERT_EQ(server_->connections_per_thread(), (std::vector<std::size_t>{1, 1}));
  std::vector<std::optional<Result<Notice>>> in_flight(2);
  for (int c = 0; c < 2; ++c) {
    asio::co_spawn(
        ioc_,
        [&, c]() -> asio::awaitable<void> {
          Notice req;
          req.set_text("300");
          in_flight[c].emplace(co_await clients[c]->call<Notice>(kSlow, req, {}, 5s));
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  run_until([] { return false; }, 50ms);  // let both requests reach the server
  server_->stop();
  auto started = std::chrono::steady_clock::now();
  run(server_->drain());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 150ms) << "drain waits for the handlers";
  EXPECT_EQ(server_->open_connections(), 0u);
  ASSERT_TRUE(run_until([&] { return in_flight[0].has_value() && in_flight[1].has_value(); }));
  for (auto& r : in_flight) {
    ASSERT_FALSE(r->ok());
    EXPECT_EQ(r->error().code, Code::kUnavailable);
  }
  server_.reset();  // joins the I/O thread at once: nothing is left for it
}

// The same server also listening on a Unix-domain socket, and clients connecting
// there: what a service on the same host uses. The same mutual TLS runs over it.
class RpcUnixTest : public RpcTest {
 protected:
  void SetUp() override {
    unix_path_ = (tmp_.path() / "identity.sock").string();
    start_server(0);
  }
  RpcServer::Options options_at(std::string path) {
    RpcServer::Options opts;
    opts.service_name = "identity";
    opts.unix_path = std::move(path);
    return opts;
  }
  // listen()'s error for a second server on `path`, or "" if it listened.
  std::string listen_error(const std::string& path) {
    RpcServer other(ioc_.get_executor(), server_tls_, options_at(path));
    try {
      other.listen();
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(RpcUnixTest, CallsGoOverTheSocketWithMutualTlsAndTheFileIsTheServiceUsersOnly) {
  auto client = make_client(client_tls_);
  auto r = echo(*client, "hello");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->text(), "hello|gateway|u-42");  // the gateway's certificate, verified as over TCP

  struct stat st {};
  ASSERT_EQ(::lstat(unix_path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A client without a certificate is refused over the socket too, and the log names
  // the socket and the process that knocked.
  asio::ssl::context anonymous(asio::ssl::context::tls_client);
  anonymous.load_verify_file(dev_certs().ca().string());
  auto bad = make_client(anonymous);
  auto refused = echo(*bad, "let me in", 1s);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::kUnavailable);
  EXPECT_TRUE(logs_contain("peer did not return a certificate"));
  EXPECT_TRUE(logs_contain("\"peer\":\"unix:" + unix_path_ + " pid " + std::to_string(::getpid()) + "\""));

  // The client checks the server's name over the socket as over TCP.
  auto wrong = make_client(client_tls_, "scheduling");
  auto misnamed = echo(*wrong, "hello", 400ms);
  ASSERT_FALSE(misnamed.ok());
  EXPECT_NE(misnamed.error().message.find("not valid for name \"scheduling\""), std::string::npos)
      << misnamed.error().message;

  EXPECT_TRUE(echo(*client, "still here").ok());
}

TEST_F(RpcUnixTest, StopRemovesTheFileAndARestartedClientConnectsAgain) {
  auto client = make_client(client_tls_);
  ASSERT_TRUE(echo(*client, "one").ok());
  server_->stop();
  EXPECT_FALSE(std::filesystem::exists(unix_path_));
  EXPECT_FALSE(echo(*client, "while down", 300ms).ok());
  EXPECT_TRUE(logs_contain("\"address\":\"unix:" + unix_path_ + "\""));  // the client's log says where

  server_.reset();
  start_server(0);
  ASSERT_TRUE(run_until([&] { return echo(*client, "two", 300ms).ok(); }, 5s));
}

TEST_F(RpcUnixTest, AStaleSocketIsReplacedButALiveOneOrAnotherFileIsLeftAlone) {
  // Live: this fixture's server listens there. The second server refuses, and the
  // first keeps its socket.
  EXPECT_NE(listen_error(unix_path_).find("another process is listening on it"), std::string::npos);
  auto client = make_client(client_tls_);
  EXPECT_TRUE(echo(*client, "first server").ok());

  // Stale: a socket file whose server ended without removing it.
  auto stale = (tmp_.path() / "stale.sock").string();
  {
    asio::local::stream_protocol::acceptor gone(ioc_, asio::local::stream_protocol::endpoint(stale));
  }
  ASSERT_TRUE(std::filesystem::exists(stale));
  EXPECT_EQ(listen_error(stale), "");
  EXPECT_FALSE(std::filesystem::exists(stale)) << "removed again when that server stopped";

  // Not a socket: never deleted.
  auto regular = (tmp_.path() / "notes.txt").string();
  std::ofstream(regular) << "keep me";
  EXPECT_NE(listen_error(regular).find("unix:" + regular + ": a file that is not a socket is in the way"),
            std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(regular));

  // Too long for a socket address (108 bytes): named in the error.
  auto long_path = (tmp_.path() / std::string(120, 'x')).string();
  EXPECT_NE(listen_error(long_path).find("unix:" + long_path), std::string::npos);
}

class RpcUnixThreadsTest : public RpcUnixTest {
 protected:
  RpcUnixThreadsTest() { threads_ = 2; }
};

TEST_F(RpcUnixThreadsTest, ConnectionsOverTheSocketSpreadOverBothThreads) {
  auto clients = connected_clients(4);
  ASSERT_EQ(clients.size(), static_cast<std::size_t>(4));
  EXPECT_EQ(server_->connections_per_thread(), (std::vector<std::size_t>{2, 2}));
  for (int i = 0; i < 40; ++i) {
    auto r = echo(*clients[i % 4], std::to_string(i), 2s, kCount);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  EXPECT_EQ(counted_, 40u);
  EXPECT_EQ(handler_threads_, (std::set<std::thread::id>{std::this_thread::get_id()}));
}

TEST(TlsFiles, MissingFileThrowsNamingTheFile) {
  auto& c = dev_certs();
  try {
    make_rpc_server_context(TlsFiles{c.ca(), c.dir / "nope.pem", c.key("identity")});
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.pem"), std::string::npos) << e.what();
  }
  try {
    make_rpc_client_context(TlsFiles{c.ca(), c.cert("identity"), c.key("gateway")});
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("gateway.key"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(make_public_server_context(c.public_cert(), c.public_key()));
}

}  // namespace
}  // namespace alliance::net
