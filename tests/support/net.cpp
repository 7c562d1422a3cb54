// SPDX-License-Identifier: ISC
#include "tests/support/net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace fcgimux::test {

namespace {

struct sockaddr_any {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

sockaddr_any make_address(const endpoint& where) {
  sockaddr_any a;
  if (where.is_unix()) {
    auto* sa = reinterpret_cast<sockaddr_un*>(&a.storage);
    if (where.unix_path.size() >= sizeof(sa->sun_path))
      throw std::runtime_error("unix path too long: " + where.unix_path);
    sa->sun_family = AF_UNIX;
    std::memcpy(sa->sun_path, where.unix_path.c_str(), where.unix_path.size() + 1);
    a.length = sizeof(sockaddr_un);
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&a.storage);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(where.port);
    if (::inet_pton(AF_INET, where.host.c_str(), &sa->sin_addr) != 1)
      throw std::runtime_error("bad IPv4 host " + where.host);
    a.length = sizeof(sockaddr_in);
  }
  return a;
}

}  // namespace

std::string endpoint::to_string() const {
  if (is_unix()) return "unix:" + unix_path;
  return host + ":" + std::to_string(port);
}

std::uint16_t free_tcp_port() {
  endpoint e = endpoint::tcp(0);
  unique_fd fd = listen_on(e, 1);
  return e.port;
}

unique_fd listen_on(endpoint& where, int backlog) {
  sockaddr_any a = make_address(where);
  unique_fd fd(::socket(where.is_unix() ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  if (where.is_unix()) {
    ::unlink(where.unix_path.c_str());
  } else {
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a.storage), a.length) != 0) {
    throw std::runtime_error("bind " + where.to_string() + ": " + std::strerror(errno));
  }
  if (::listen(fd.get(), backlog) != 0) throw std::runtime_error(std::string("listen: ") + std::strerror(errno));
  if (!where.is_unix() && where.port == 0) {
    sockaddr_in bound{};
    socklen_t len = sizeof(bound);
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    where.port = ntohs(bound.sin_port);
  }
  return fd;
}

unique_fd connect_to(const endpoint& where) {
  sockaddr_any a = make_address(where);
  unique_fd fd(::socket(where.is_unix() ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return {};
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&a.storage), a.length);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return {};
  if (!where.is_unix()) {
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return fd;
}

bool wait_connectable(const endpoint& where, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (connect_to(where)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void ignore_sigpipe() {
  static const bool done = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)done;
}

}  // namespace fcgimux::test
