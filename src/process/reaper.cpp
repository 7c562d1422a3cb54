// SPDX-License-Identifier: ISC
#include "src/process/reaper.hpp"

#include <sys/wait.h>

#include <fmt/core.h>

#include <csignal>
#include <cstring>

namespace fcgimux {

reaper::reaper(asio::io_context& io) : sigchld_(io, SIGCHLD) {}

void reaper::start() {
  wait();
  reap();  // a child that exited before the handler was in place
}

void reaper::watch(int pid, on_exit done, before_reap last) { watched_[pid] = {std::move(done), std::move(last)}; }

void reaper::forget(int pid) { watched_.erase(pid); }

void reaper::stop() {
  std::error_code ignore;
  sigchld_.cancel(ignore);
}

void reaper::wait() {
  sigchld_.async_wait([this](const std::error_code& ec, int) {
    if (ec) return;
    reap();
    wait();
  });
}

void reaper::reap() {
  // One SIGCHLD may stand for several exits.
  for (;;) {
    // Looked at before it is reaped (WNOWAIT), so that its watcher can still act on its number.
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid <= 0) return;
    const pid_t pid = info.si_pid;
    auto it = watched_.find(pid);
    if (it != watched_.end() && it->second.last) it->second.last();
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) != pid) return;  // cannot be, but must not spin
    it = watched_.find(pid);  // `last` may have changed the map
    if (it == watched_.end()) continue;
    on_exit done = std::move(it->second.done);
    watched_.erase(it);
    done(status);
  }
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return fmt::format("ended (status {:#x})", status);
}

}  // namespace fcgimux
