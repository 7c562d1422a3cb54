// SPDX-License-Identifier: ISC
#pragma once

#include <sys/types.h>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fcgimux::test {

/// How to start a child process.
struct spawn_options {
  std::vector<std::string> argv;  ///< argv[0] is the program path
  std::vector<std::string> env;   ///< "NAME=VALUE" added to (or replacing in) the test's environment
  int stdin_fd = -1;              ///< becomes fd 0 in the child; -1: /dev/null
  std::string stderr_path;        ///< file that captures fd 2; empty: /dev/null
  std::string stdout_path{};      ///< file that captures fd 1; empty: /dev/null
};

/// How a child ended.
struct exit_status {
  bool exited = false;  ///< normal exit: see code
  int code = 0;
  int signal = 0;  ///< killed by this signal when !exited
};

/// A child process in its own process group. On destruction it is stopped: SIGTERM to the group,
/// then SIGKILL to the group and every descendant seen, and reaped.
class child_process {
 public:
  child_process() = default;
  /// Starts the process (posix_spawn, default signal dispositions, empty signal mask); throws on failure.
  explicit child_process(const spawn_options& options);
  child_process(child_process&& o) noexcept;
  child_process& operator=(child_process&& o) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process();

  /// The process id (also the process group id); 0 if none.
  pid_t pid() const noexcept { return pid_; }
  /// True while the process has not been reaped and has not exited.
  bool running();
  /// Waits up to `timeout` for the exit; nullopt if still running.
  std::optional<exit_status> wait_exit(std::chrono::milliseconds timeout);
  /// The exit status once reaped.
  std::optional<exit_status> status() const noexcept { return status_; }
  /// Sends `sig` to the process only.
  void send_signal(int sig) const;
  /// SIGTERM, up to `grace` to exit, then SIGKILL; also kills leftover descendants.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));
  /// What the child wrote to stderr so far (when captured).
  std::string stderr_text() const;
  /// The stderr file path (when captured).
  const std::string& stderr_path() const noexcept { return stderr_path_; }
  /// Direct children of the process, from /proc.
  std::vector<pid_t> children() const;

 private:
  pid_t pid_ = 0;
  std::string stderr_path_;
  std::optional<exit_status> status_;
};

/// Direct children of `pid`, read from /proc/PID/task/*/children.
std::vector<pid_t> children_of(pid_t pid);
/// `pid` and all its descendants.
std::vector<pid_t> descendants_of(pid_t pid);
/// True if a process `pid` exists and is not a zombie.
bool process_alive(pid_t pid);
/// The effective uid of `pid`, from /proc/PID/status (-1 if unreadable).
long uid_of(pid_t pid);
/// Resident memory of `pid` in KiB (VmRSS from /proc), or -1.
long rss_kib(pid_t pid);

}  // namespace fcgimux::test
