#include "loopback.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace alliance::bench {

LoopbackListener listen_loopback(int backlog) {
  LoopbackListener l;
  l.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (l.fd < 0) return l;
  l.addr.sin_family = AF_INET;
  l.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof l.addr;
  if (::bind(l.fd, reinterpret_cast<sockaddr*>(&l.addr), sizeof l.addr) != 0 || ::listen(l.fd, backlog) != 0 ||
      ::getsockname(l.fd, reinterpret_cast<sockaddr*>(&l.addr), &len) != 0) {
    ::close(l.fd);
    l.fd = -1;
  }
  return l;
}

bool connect_pair(const LoopbackListener& l, int fds[2]) {
  fds[0] = fds[1] = -1;
  fds[1] = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fds[1] < 0) return false;
  if (::connect(fds[1], reinterpret_cast<const sockaddr*>(&l.addr), sizeof l.addr) == 0)
    fds[0] = ::accept(l.fd, nullptr, nullptr);
  if (fds[0] >= 0) return true;
  ::close(fds[1]);
  fds[1] = -1;
  return false;
}

}  // namespace alliance::bench
