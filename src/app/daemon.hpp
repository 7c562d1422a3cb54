// SPDX-License-Identifier: ISC
#pragma once
// --daemon: going to the background as a service manager of the forking kind expects, and as
// kfcgi and spawn-fcgi did: the command returns once the daemon serves, with status 0, or with 1
// when its start-up failed (the error printed on the terminal by the daemon itself).

namespace fcgimux {

/// The daemon's end of its start-up report. Made by fork_now() before the io_context exists:
/// Asio's reactor (its epoll and signal descriptors) must belong to the process that runs it, and
/// the workers must be the daemon's children, so nothing of either may exist before the fork.
class daemon_start {
 public:
  /// Forks. The parent waits for the child's report and exits without returning: 0 once the
  /// child called ready(), 1 if it went away before. The child returns, in a session of its own,
  /// with the same working directory (paths on the command line keep their meaning, for SIGHUP
  /// and for the workers too, as with nginx, php-fpm and kfcgi's daemon(1, 0)). Throws
  /// std::system_error if the pipe or the fork fails.
  static daemon_start fork_now();

  daemon_start(daemon_start&& o) noexcept : report_fd_(o.report_fd_) { o.report_fd_ = -1; }
  daemon_start& operator=(daemon_start&&) = delete;
  daemon_start(const daemon_start&) = delete;
  daemon_start& operator=(const daemon_start&) = delete;
  /// Without ready(), the waiting parent reads end of file and exits 1.
  ~daemon_start();

  /// Start-up succeeded: stdin, stdout and stderr now lead to /dev/null (the log goes where
  /// --error-log says; stderr is gone) and the waiting parent exits 0.
  void ready();

 private:
  explicit daemon_start(int fd) noexcept : report_fd_(fd) {}
  int report_fd_ = -1;
};

}  // namespace fcgimux
