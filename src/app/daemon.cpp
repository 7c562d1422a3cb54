// SPDX-License-Identifier: ISC
#include "src/app/daemon.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace fcgimux {

namespace {
constexpr char started = 'R';
}

daemon_start daemon_start::fork_now() {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::system_category(), "--daemon: cannot create a pipe");
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(report[0]);
    ::close(report[1]);
    throw std::system_error(e, std::system_category(), "--daemon: cannot fork");
  }
  if (pid > 0) {
    ::close(report[1]);
    char c = 0;
    ssize_t n = 0;
    do n = ::read(report[0], &c, 1);
    while (n < 0 && errno == EINTR);
    // The daemon printed its own error before it exited; nothing of this process is left to run.
    ::_exit(n == 1 && c == started ? 0 : 1);
  }
  ::close(report[0]);
  // A new session: no controlling terminal, so the terminal's hangup or Ctrl-C cannot reach the
  // daemon (its SIGHUP means "reload").
  ::setsid();
  return daemon_start(report[1]);
}

daemon_start::~daemon_start() {
  if (report_fd_ >= 0) ::close(report_fd_);
}

void daemon_start::ready() {
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
    if (null > 2) ::close(null);
  }
  if (report_fd_ >= 0) {
    ssize_t n = 0;
    do n = ::write(report_fd_, &started, 1);
    while (n < 0 && errno == EINTR);
    ::close(report_fd_);
    report_fd_ = -1;
  }
}

}  // namespace fcgimux
