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

void reaper::watch(int pid, on_exit done) { watched_[pid] = std::move(done); }

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
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    auto it = watched_.find(pid);
    if (it == watched_.end()) continue;
    on_exit done = std::move(it->second);
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
