// HttpsClient and WebSocket against real sockets on 127.0.0.1 (no Alliance
// server): refused connections, silent peers, and a real TLS server
// (`openssl s_server -www` with the dev certificates) for certificate checks.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alliance/client/client.hpp"
#include "dev_certs.hpp"
#include "process.hpp"

namespace alliance::client {
namespace {

using namespace std::chrono_literals;
using alliance::testing::dev_certs;
using Clock = std::chrono::steady_clock;

bool tcp_connects(const char* host, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, host, &addr.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A listening socket that never accepts: TCP connects (the kernel queues it) but
// nothing ever answers the TLS handshake.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1:0");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

TEST(HttpsClientTransport, RefusedConnectionIsUnavailableAndNamesTheAddress) {
  auto port = alliance::testing::free_port();
  HttpsClient http(Endpoint{"127.0.0.1", port, dev_certs().ca()});
  auto r = http.request("GET", "/healthz", {}, {}, 2s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kUnavailable);
  EXPECT_NE(r.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("refused"), std::string::npos) << r.error().message;
}

TEST(HttpsClientTransport, SilentServerHitsTheDeadlineOnTime) {
  SilentListener silent;
  HttpsClient http(Endpoint{"127.0.0.1", silent.port(), dev_certs().ca()});
  auto start = Clock::now();
  auto r = http.request("GET", "/healthz", {}, {}, 300ms);
  auto took = Clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kDeadlineExceeded) << r.error().message;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);

  auto raw = http.raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200ms);
  ASSERT_FALSE(raw);
  EXPECT_EQ(raw.error().code, Code::kDeadlineExceeded);

  start = Clock::now();
  auto ws = WebSocket::connect(Endpoint{"127.0.0.1", silent.port(), dev_certs().ca()}, "/v1/ws", "t", 300ms);
  ASSERT_FALSE(ws);
  EXPECT_EQ(ws.error().code, Code::kDeadlineExceeded) << ws.error().message;
  EXPECT_LT(Clock::now() - start, 3s);
}

TEST(HttpsClientTransport, MissingCaFileIsReportedOnUse) {
  HttpsClient http(Endpoint{"127.0.0.1", 1, "/nonexistent/ca.pem"});
  auto r = http.request("GET", "/healthz");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  EXPECT_EQ(r.error().field, "ca");
  auto ws = WebSocket::connect(Endpoint{"127.0.0.1", 1, "/nonexistent/ca.pem"}, "/v1/ws", "");
  ASSERT_FALSE(ws);
  EXPECT_EQ(ws.error().field, "ca");
}

// A real TLS server presenting the gateway's public certificate (127.0.0.1 and
// localhost), answering every connection with one HTTP/1.0 status page.
class TlsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new alliance::testing::TempDir();
    const auto& certs = dev_certs();
    for (int attempt = 0; attempt < 5 && !server_; ++attempt) {
      port_ = alliance::testing::free_port();
      auto p = alliance::testing::Process::start(alliance::testing::Process::Options{
          "openssl",
          {"s_server", "-4", "-accept", std::to_string(port_), "-cert", certs.public_cert().string(), "-key",
           certs.public_key().string(), "-www", "-quiet"},
          {},
          dir_->path() / "s_server.log",
          {}});
      if (alliance::testing::wait_until([&] { return !p.running() || tcp_connects("127.0.0.1", port_); }, 10s) &&
          p.running()) {
        server_ = new alliance::testing::Process(std::move(p));
      }
    }
    ASSERT_NE(server_, nullptr) << "openssl s_server did not start";
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  static Endpoint endpoint(std::string host = "127.0.0.1") { return Endpoint{host, port_, dev_certs().ca()}; }

  static inline alliance::testing::TempDir* dir_ = nullptr;
  static inline alliance::testing::Process* server_ = nullptr;
  static inline std::uint16_t port_ = 0;
};

TEST_F(TlsServerTest, VerifiedRequestReturnsStatusLowerCaseHeadersAndBody) {
  HttpsClient http(endpoint());
  auto r = http.request("GET", "/", {}, {}, 5s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("content-type"), "text/html");
  EXPECT_NE(r->body.find("<HTML>"), std::string::npos);
  EXPECT_EQ(http.connections_opened(), 1);

  // The server closes after each HTTP/1.0 answer: the next request reconnects by itself.
  auto again = http.request("GET", "/", {}, {}, 5s);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(http.connections_opened(), 2);
}

TEST_F(TlsServerTest, HostNameIsCheckedToo) {
  HttpsClient by_name(endpoint("localhost"));
  auto ok = by_name.request("GET", "/", {}, {}, 5s);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, 200);

  // Same server and CA, but 127.0.0.2 is not in the certificate.
  HttpsClient wrong_host(endpoint("127.0.0.2"));
  auto r = wrong_host.request("GET", "/", {}, {}, 5s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kUnavailable);
  EXPECT_NE(r.error().message.find("TLS handshake"), std::string::npos) << r.error().message;
}

TEST_F(TlsServerTest, CertificateFromAnotherCaIsRefused) {
  // The rogue certificate's file is a trust anchor that did not sign the server's certificate.
  HttpsClient http(Endpoint{"127.0.0.1", port_, dev_certs().rogue_cert()});
  auto r = http.request("GET", "/", {}, {}, 5s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kUnavailable);
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos) << r.error().message;
}

TEST_F(TlsServerTest, RawSendsExactBytesAndReadsOneResponse) {
  HttpsClient http(endpoint());
  auto r = http.raw("GET /anything HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + std::string(1000, 'a') + "\r\n\r\n",
                    5s);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
}

TEST_F(TlsServerTest, WebSocketUpgradeNotGrantedIsAnErrorAtOnce) {
  // s_server answers the upgrade with its 200 status page instead of 101: the
  // refusal is reported as soon as it arrives, not when the timeout runs out.
  auto start = Clock::now();
  auto ws = WebSocket::connect(endpoint(), "/v1/ws", "token", 5s);
  ASSERT_FALSE(ws);
  EXPECT_NE(ws.error().message.find("200"), std::string::npos) << ws.error().message;
  EXPECT_LT(Clock::now() - start, 2s);
}

}  // namespace
}  // namespace alliance::client
