// SPDX-License-Identifier: ISC
#include "src/app/sd_notify.hpp"

#include "src/base/log.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace fcgimux {

sd_notifier::sd_notifier() {
  if (const char* p = std::getenv("NOTIFY_SOCKET"); p && *p) path_ = p;
  ::unsetenv("NOTIFY_SOCKET");
}

void sd_notifier::send(std::string_view state) {
  if (path_.empty()) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) {
    if (!told_failure_) log::info("NOTIFY_SOCKET: '{}' is too long", path_);
    told_failure_ = true;
    return;
  }
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size());
  if (path_.front() == '@')
    addr.sun_path[0] = '\0';  // abstract namespace: no terminating NUL counted
  else
    ++len;
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  int err = errno;
  ::close(fd);
  if (n < 0 && !told_failure_) {
    told_failure_ = true;
    log::info("NOTIFY_SOCKET {}: {}", path_, std::strerror(err));
  }
}

unsigned long long monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL + static_cast<unsigned long long>(ts.tv_nsec) / 1000;
}

}  // namespace fcgimux
