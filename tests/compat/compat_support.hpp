// SPDX-License-Identifier: ISC
#pragma once
// What the compat tests share: the fcgimux binary under kfcgi's or spawn-fcgi's name, started
// with that tool's command line, and the daemon it may leave behind.

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace fcgimux::test {

/// Polls `cond` every 20 ms until it holds (true) or `timeout` passes (false).
bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

/// The fcgimux binary under another name, in a directory of its own that also holds the sockets,
/// pid files and captured output of the test.
class linked_binary {
 public:
  explicit linked_binary(const std::string& name);
  const std::string& path() const noexcept { return path_; }
  std::string file(const std::string& name) const { return dir_.file(name); }

 private:
  temp_dir dir_;
  std::string path_;
};

/// Runs the linked binary with `args`, its stderr to a file next to it; stopped with its workers
/// when the test ends. As root, `--user root` goes first, for the tests that do not care who the
/// workers are; not for a line that names them with -U or -u: fcgimux's own long options come after
/// the translation, so this --user would win over that flag.
child_process start(const linked_binary& bin, const std::vector<std::string>& args);
/// The same with `args` exactly as given: the workers' user comes from the compat flags.
child_process start_exactly(const linked_binary& bin, const std::vector<std::string>& args);

std::string stderr_of(const linked_binary& bin);
bool printed(const linked_binary& bin, const std::string& text);

/// The pid written in `pidfile` (0 if none).
pid_t pid_in(const std::string& pidfile);
bool exists(const std::string& path);
/// Where `pid`'s descriptor `fd` points ("" if unreadable).
std::string fd_target(pid_t pid, int fd);
/// Each thread of `pid`: its stat line, wait channel and system call, for a failure's message.
std::string threads_of(pid_t pid);

/// A daemon, not the test's child: found by its pid, stopped (and its workers) when the test ends.
struct daemon_guard {
  pid_t pid = 0;
  daemon_guard() = default;
  daemon_guard(const daemon_guard&) = delete;
  daemon_guard& operator=(const daemon_guard&) = delete;
  ~daemon_guard();
};

}  // namespace fcgimux::test
