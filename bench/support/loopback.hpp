#pragma once
// Plain loopback TCP connections for the floor benchmarks (no TLS, no Asio): a listener
// on 127.0.0.1 with an ephemeral port, and connected pairs made through it.
#include <netinet/in.h>

namespace alliance::bench {

struct LoopbackListener {
  int fd = -1;          // -1: the kernel refused (errno says why)
  sockaddr_in addr{};  // where it listens
};

// A listening socket on 127.0.0.1, port chosen by the kernel.
LoopbackListener listen_loopback(int backlog);

// One connection through `l`: fds[0] the accepted (server) side, fds[1] the connecting
// (client) side, both blocking. False if either step failed.
bool connect_pair(const LoopbackListener& l, int fds[2]);

}  // namespace alliance::bench
