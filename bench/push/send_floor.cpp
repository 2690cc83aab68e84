// alliance-send-floor: what one delivered push costs the kernel here, whatever the
// server does in user space. It opens N loopback TCP connections (TCP_NODELAY, as the
// gateway's), then one thread sends M messages of B bytes, connection after connection
// in turn (one send(2) each, as the gateway writes one TLS record per push to a socket),
// while another drains them with epoll. Prints the sending thread's CPU per message
// (RUSAGE_THREAD: mostly the kernel's TCP send and, on loopback, the receive path it runs
// for the peer) and the 1-minute load. No TLS: encrypting 200 bytes adds well under 1 us.
//
//   alliance-send-floor [--connections 9000] [--messages 200000] [--bytes 200]
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "loopback.hpp"

namespace {

double thread_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "alliance-send-floor: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  int connections = 9000, messages = 200000, bytes = 200;
  auto parsed = alliance::bench::parse_flags(argc, argv, {},
                                             {{"--connections", {&connections, 1, 9500}},
                                              {"--messages", {&messages, 1, 10000000}},
                                              {"--bytes", {&bytes, 1, 16384}}});
  if (!parsed) {
    std::fprintf(stderr, "alliance-send-floor: %s\nusage: alliance-send-floor [--connections 9000] [--messages 200000] "
                 "[--bytes 200]\n", parsed.error().message.c_str());
    return 2;
  }
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);

  const auto listener = alliance::bench::listen_loopback(4096);
  if (listener.fd < 0) die("listen");
  std::vector<int> senders, readers;
  const int one = 1;
  for (int i = 0; i < connections; ++i) {
    int fds[2];
    if (!alliance::bench::connect_pair(listener, fds)) die("connect");
    ::setsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    senders.push_back(fds[0]);
    readers.push_back(fds[1]);
  }

  std::atomic<long> received{0};
  std::atomic<bool> stop{false};
  double reader_cpu = 0;
  std::thread reader([&] {
    int ep = ::epoll_create1(0);
    for (int r : readers) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = r;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev);
    }
    std::vector<epoll_event> events(256);
    std::vector<char> buf(65536);
    const double c0 = thread_cpu_seconds();
    while (!stop) {
      int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
      for (int i = 0; i < n; ++i) {
        ssize_t got = ::recv(events[i].data.fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (got > 0) received += got;
      }
    }
    reader_cpu = thread_cpu_seconds() - c0;
    ::close(ep);
  });

  const std::string message(static_cast<std::size_t>(bytes), 'x');
  const double load0 = alliance::bench::load_1min();
  const double c0 = thread_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < messages; ++k) {
    // A socket whose peer lags would block: wait for the reader rather than measure a stall.
    while (::send(senders[static_cast<std::size_t>(k) % senders.size()], message.data(), message.size(),
                  MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
      if (errno != EAGAIN) die("send");
      std::this_thread::yield();
    }
  }
  const double sender_cpu = thread_cpu_seconds() - c0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const long expected = static_cast<long>(messages) * bytes;
  for (int i = 0; i < 5000 && received < expected; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  stop = true;
  reader.join();
  std::printf("send floor: %d messages of %d bytes over %d loopback TCP connections in turn, %.2f s\n", messages, bytes,
              connections, wall);
  std::printf("  sending thread: %.2f us CPU per message (user + system); reader: %.2f us; 1-min load %.2f -> %.2f\n",
              sender_cpu * 1e6 / messages, reader_cpu * 1e6 / messages, load0, alliance::bench::load_1min());
  std::printf("RESULT send_floor_us=%.2f reader_us=%.2f received_ok=%d\n", sender_cpu * 1e6 / messages,
              reader_cpu * 1e6 / messages, received == expected ? 1 : 0);
  for (int fd : senders) ::close(fd);
  for (int fd : readers) ::close(fd);
  ::close(listener.fd);
  return received == expected ? 0 : 1;
}
