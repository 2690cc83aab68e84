// alliance-ssl-floor: what the user-space TLS state of one idle connection costs by
// itself, the floor under the gateway's memory per idle WebSocket, and whether kernel
// TLS could take it out of user space on this machine.
//
// N server/client pairs over non-blocking AF_UNIX socket pairs, the server side built
// from the gateway's own context (net::make_public_server_context with the given
// certificate) and set up as LeanTlsStream sets its SSL objects up
// (SSL_MODE_RELEASE_BUFFERS). The heap in use (mallinfo2) is read after each step, so
// the per-connection figures are the server's only: SSL_new, the handshake (both
// sides), the clients freed, a read pending on each server connection (as an idle
// WebSocket has), then SSL_free_buffers. Once with the context's default TLS 1.3
// session tickets and once with none (SSL_CTX_set_num_tickets 0).
// Then kernel TLS: a loopback TCP pair with SSL_OP_ENABLE_KTLS, and the TCP_ULP "tls"
// socket option tried directly.
//
//   alliance-ssl-floor --cert gateway-public.pem --key gateway-public.key [--connections 1000]
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "alliance/net/tls.hpp"
#include "bench_support.hpp"
#include "loopback.hpp"

namespace alliance::bench {
namespace {

struct Pair {
  SSL* server = nullptr;
  SSL* client = nullptr;
  int fds[2] = {-1, -1};
};

long heap_in_use() {
  ::malloc_trim(0);
  return static_cast<long>(::mallinfo2().uordblks);
}

// Drives both handshakes to the end, the server's session tickets read by the client.
bool handshake(Pair& p) {
  bool server_done = false, client_done = false;
  for (int round = 0; round < 100 && !(server_done && client_done); ++round) {
    if (!client_done) client_done = SSL_do_handshake(p.client) == 1;
    if (!server_done) server_done = SSL_do_handshake(p.server) == 1;
  }
  char byte;
  for (int i = 0; i < 4; ++i) SSL_read(p.client, &byte, 1);  // takes the tickets in; WANT_READ after
  ERR_clear_error();
  return server_done && client_done;
}

void measure(SSL_CTX* server_ctx, SSL_CTX* client_ctx, int n, const char* label) {
  std::vector<Pair> pairs(static_cast<std::size_t>(n));
  for (auto& p : pairs) {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p.fds) != 0) {
      std::perror("socketpair");
      std::exit(2);
    }
  }
  const long h0 = heap_in_use();
  for (auto& p : pairs) {
    p.server = SSL_new(server_ctx);
    SSL_set_mode(p.server, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                               SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_set_fd(p.server, p.fds[0]);
    SSL_set_accept_state(p.server);
  }
  const long h1 = heap_in_use();
  for (auto& p : pairs) {
    p.client = SSL_new(client_ctx);
    SSL_set_mode(p.client, SSL_MODE_RELEASE_BUFFERS);
    SSL_set_fd(p.client, p.fds[1]);
    SSL_set_connect_state(p.client);
  }
  int failed = 0;
  for (auto& p : pairs) failed += handshake(p) ? 0 : 1;
  for (auto& p : pairs) {
    SSL_free(p.client);
    p.client = nullptr;
  }
  const long h2 = heap_in_use();
  char byte;
  for (auto& p : pairs) SSL_read(p.server, &byte, 1);  // nothing there: WANT_READ, as a pending read
  ERR_clear_error();
  const long h3 = heap_in_use();
  for (auto& p : pairs) SSL_free_buffers(p.server);
  const long h4 = heap_in_use();
  auto per = [n](long a, long b) { return static_cast<double>(b - a) / n / 1024.0; };
  std::printf("  %s (%d connections, %d handshakes failed), server heap per connection:\n", label, n, failed);
  std::printf("    SSL_new with the gateway's context            %6.2f KiB\n", per(h0, h1));
  std::printf("    after the handshake (clients freed)           %6.2f KiB\n", per(h0, h2));
  std::printf("    with a read pending (an idle WebSocket)       %6.2f KiB\n", per(h0, h3));
  std::printf("    after SSL_free_buffers                        %6.2f KiB\n", per(h0, h4));
  for (auto& p : pairs) {
    SSL_free(p.server);
    ::close(p.fds[0]);
    ::close(p.fds[1]);
  }
}

// A loopback TCP pair: fds[0] the server side.
bool tcp_pair(int fds[2]) {
  const auto l = listen_loopback(1);
  if (l.fd < 0) return false;
  const bool ok = connect_pair(l, fds);
  ::close(l.fd);
  return ok;
}

void probe_ktls(SSL_CTX* server_ctx, SSL_CTX* client_ctx) {
  std::printf("  kernel TLS on this machine (Linux: the \"tls\" TCP ULP):\n");
  int fds[2];
  if (!tcp_pair(fds)) {
    std::printf("    cannot make a loopback TCP pair\n");
    return;
  }
  int direct[2];
  if (tcp_pair(direct)) {
    int r = ::setsockopt(direct[0], IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls");
    std::printf("    setsockopt(TCP_ULP, \"tls\") on a connected socket: %s\n", r == 0 ? "accepted" : std::strerror(errno));
    ::close(direct[0]);
    ::close(direct[1]);
  }
  Pair p;
  p.server = SSL_new(server_ctx);
  p.client = SSL_new(client_ctx);
  SSL_set_options(p.server, SSL_OP_ENABLE_KTLS);
  SSL_set_options(p.client, SSL_OP_ENABLE_KTLS);
  SSL_set_fd(p.server, fds[0]);
  SSL_set_fd(p.client, fds[1]);
  SSL_set_accept_state(p.server);
  SSL_set_connect_state(p.client);
  for (int fd : fds) {
    int flags = 1;
    ::ioctl(fd, FIONBIO, &flags);
  }
  bool ok = handshake(p);
  std::printf("    OpenSSL %s, SSL_OP_ENABLE_KTLS: handshake %s; BIO_get_ktls_send %ld, BIO_get_ktls_recv %ld%s\n",
              OpenSSL_version(OPENSSL_VERSION_STRING), ok ? "done" : "FAILED",
              static_cast<long>(BIO_get_ktls_send(SSL_get_wbio(p.server))),
              static_cast<long>(BIO_get_ktls_recv(SSL_get_rbio(p.server))),
              BIO_get_ktls_send(SSL_get_wbio(p.server)) ? "" : " (the record layer stays in user space)");
  SSL_free(p.server);
  SSL_free(p.client);
  ::close(fds[0]);
  ::close(fds[1]);
}

int run(int argc, char** argv) {
  std::string cert, key;
  int connections = 1000;
  auto parsed = parse_flags(argc, argv, {{"--cert", &cert}, {"--key", &key}},
                            {{"--connections", {&connections, 1, 20000}}});
  if (!parsed || cert.empty() || key.empty()) {
    const bool help = !parsed && parsed.error().message == "help";
    if (!parsed && !help) std::fprintf(stderr, "alliance-ssl-floor: %s\n", parsed.error().message.c_str());
    std::fprintf(stderr, "usage: alliance-ssl-floor --cert CERT.pem --key KEY.pem [--connections 1000]\n");
    return help ? 0 : 2;
  }
  auto server = net::make_public_server_context(cert, key);
  SSL_CTX* client = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(client, SSL_VERIFY_NONE, nullptr);  // memory only: nothing is trusted here
  std::printf("alliance-ssl-floor: the user-space TLS state of one idle connection (OpenSSL %s)\n",
              OpenSSL_version(OPENSSL_VERSION_STRING));
  SSL_CTX* ctx = server.native_handle();
  measure(ctx, client, connections, "the gateway's context as configured");
  SSL_CTX_set_num_tickets(ctx, 0);
  measure(ctx, client, connections, "no session tickets (SSL_CTX_set_num_tickets 0)");
  probe_ktls(ctx, client);
  SSL_CTX_free(client);
  return 0;
}

}  // namespace
}  // namespace alliance::bench

int main(int argc, char** argv) { return alliance::bench::run(argc, argv); }
