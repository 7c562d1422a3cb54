// SPDX-License-Identifier: ISC
#include "src/process/worker_trace.hpp"

#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace fcgimux {
namespace {

// A killed command's group has exited by then: this only stops waiting for an exit that never
// comes from ending the entry.
constexpr std::chrono::seconds exit_grace{5};

std::string read_proc(int pid, const char* what) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + what;
  // procfs answers from memory: this read never waits for a disk.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::string("unavailable (") + std::strerror(errno) + ")";
  std::string out;
  std::array<char, 4096> buf;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      // The stack needs CAP_SYS_ADMIN: without it the open succeeds and the read says EACCES.
      return std::string("unavailable (") + std::strerror(err) + (err == EACCES ? ", it needs root)" : ")");
    }
    if (n == 0) break;
    out.append(buf.data(), static_cast<std::size_t>(n));
    if (out.size() > trace_output_limit) break;
  }
  ::close(fd);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

struct trace_run : std::enable_shared_from_this<trace_run> {
  trace_run(asio::io_context& io, std::function<void(trace_result)> d) : pipe(io), timer(io), done(std::move(d)) {}
  ~trace_run() {
    // fcgimux stops (its loop is gone) while the command runs: nobody will read it.
    if (pid > 0 && !exited) ::kill(-pid, SIGKILL);
  }

  asio::posix::stream_descriptor pipe;
  asio::steady_timer timer;
  std::function<void(trace_result)> done;
  std::array<char, 4096> buf{};
  trace_result res;
  int pid = -1;
  bool exited = false, eof = false, finished = false;

  void read() {
    pipe.async_read_some(asio::buffer(buf), [self = shared_from_this()](const std::error_code& ec, std::size_t n) {
      if (ec) {
        self->eof = true;
        self->finish_if_over();
        return;
      }
      const std::size_t room = trace_output_limit - std::min(trace_output_limit, self->res.output.size());
      if (n > room) self->res.truncated = true;
      self->res.output.append(self->buf.data(), std::min(n, room));
      self->read();  // read on past the limit, so that the command never blocks on a full pipe
    });
  }

  void arm(std::chrono::milliseconds bound) {
    timer.expires_after(bound);
    timer.async_wait([self = shared_from_this()](const std::error_code& ec) {
      if (ec || self->exited) return;
      self->res.timed_out = true;
      ::kill(-self->pid, SIGKILL);  // not reaped yet: the group's number is still its own
      std::error_code ignore;
      self->pipe.close(ignore);  // a grandchild that left the group may still hold the pipe
      self->timer.expires_after(exit_grace);
      self->timer.async_wait([self](const std::error_code& e) {
        if (e) return;
        self->res.how_ended = "did not exit after SIGKILL";
        self->exited = self->eof = true;
        self->finish_if_over();
      });
    });
  }

  void finish_if_over() {
    if (finished || !exited || !(eof || res.timed_out)) return;
    finished = true;
    timer.cancel();
    while (!res.output.empty() && res.output.back() == '\n') res.output.pop_back();
    done(std::move(res));
  }
};

}  // namespace

std::string kernel_stack(int pid) { return read_proc(pid, "stack"); }

std::string wait_channel(int pid) { return read_proc(pid, "wchan"); }

std::string trace_command_for(const std::string& command, int pid) {
  std::string out;
  const std::string p = std::to_string(pid);
  std::size_t at = 0;
  for (std::size_t hit; (hit = command.find("{pid}", at)) != std::string::npos; at = hit + 5)
    out.append(command, at, hit - at).append(p);
  return out.append(command, at);
}

void run_trace_command(asio::io_context& io, reaper& children, const std::string& command, int pid,
                       std::chrono::milliseconds bound, std::function<void(trace_result)> done) {
  auto run = std::make_shared<trace_run>(io, std::move(done));
  const auto cannot_start = [&](int err) {
    run->res.how_ended = std::string("cannot start: ") + std::strerror(err);
    run->exited = run->eof = true;
    run->finish_if_over();
  };
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return cannot_start(errno);

  std::string line = trace_command_for(command, pid);
  std::string sh = "/bin/sh", dash_c = "-c";
  std::string path_env = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", lc_env = "LC_ALL=C";
  // HOME: where gdb finds its ~/.gdbinit (php-src's zbacktrace, say) and its caches.
  const char* home = std::getenv("HOME");
  std::string home_env = std::string("HOME=") + (home && *home ? home : "/");
  char* argv[] = {sh.data(), dash_c.data(), line.data(), nullptr};
  char* envp[] = {path_env.data(), lc_env.data(), home_env.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attr);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  ::posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  ::posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // a socket-activation fd is not close-on-exec
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setsigdefault(&attr, &all);  // SIGPIPE ignored by fcgimux is the command's default again
  ::posix_spawnattr_setpgroup(&attr, 0);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t child = -1;
  const int err = ::posix_spawn(&child, sh.c_str(), &actions, &attr, argv, envp);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (err != 0) {
    ::close(fds[0]);
    return cannot_start(err);
  }
  run->pid = child;
  run->pipe.assign(fds[0]);
  std::weak_ptr<trace_run> weak = run;
  children.watch(child, [weak](int status) {
    auto r = weak.lock();
    if (!r) return;
    r->exited = true;
    if (r->res.how_ended.empty()) r->res.how_ended = describe_exit(status);
    r->finish_if_over();
  });
  run->read();
  run->arm(bound);
}

}  // namespace fcgimux
