#include "src/process/worker_process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace fcgimux {
namespace {

constexpr int listen_backlog = 128;

int make_listener(const std::string& path, std::error_code& ec) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    ec = std::make_error_code(std::errc::filename_too_long);
    return -1;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ec.assign(errno, std::system_category());
    return -1;
  }
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::chmod(path.c_str(), 0600) != 0 ||
      ::listen(fd, listen_backlog) != 0) {
    ec.assign(errno, std::system_category());
    ::close(fd);
    ::unlink(path.c_str());
    return -1;
  }
  return fd;
}

// Only async-signal-safe calls from here on: the child of fork() in a process that may hold locks.
[[noreturn]] void exec_child(char* const* argv, char* const* envp, int lsock, int err_w, int status_w, pid_t parent,
                             bool batch) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  // glibc refuses the two signals it reserves for itself (32 and 33), but an ignored one stays
  // ignored across exec, and to a program on another libc they are ordinary signals: ask the
  // kernel directly. An all-zero kernel sigaction is SIG_DFL with no flags and an empty mask.
  for (int s = 1; s < NSIG; ++s) {
    if (sigaction(s, &dfl, nullptr) != 0 && errno == EINVAL && s != SIGKILL && s != SIGSTOP) {
      unsigned long kernel_dfl[8] = {};  // larger than any architecture's struct
      syscall(SYS_rt_sigaction, s, kernel_dfl, nullptr, (NSIG - 1) / 8);
    }
  }
  setsid();
  // A worker woken by fcgimux's write would otherwise preempt fcgimux mid-turn, stalling every
  // other request it was about to hand out. SCHED_BATCH keeps the worker's CPU share and only
  // drops that wakeup preemption; it is inherited across exec and by the program's children.
  if (batch && sched_getscheduler(0) == SCHED_OTHER) {
    struct sched_param none_prio {};
    if (sched_setscheduler(0, SCHED_BATCH, &none_prio) != 0) {
      static const char msg[] = "fcgimux: SCHED_BATCH refused; this worker keeps the normal policy\n";
      ssize_t r = write(err_w, msg, sizeof msg - 1);
      (void)r;
    }
  }
  // Once fcgimux is gone nobody reads the worker's answers; SIGKILL, since some programs ignore SIGTERM.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);

  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (lsock != 0 && dup2(lsock, 0) < 0) goto fail;
  if (lsock == 0) fcntl(0, F_SETFD, 0);
  if (devnull >= 0 && dup2(devnull, 1) < 0) goto fail;
  if (dup2(err_w, 2) < 0) goto fail;
  // Everything else must not reach the program: mark it close-on-exec (the status pipe too,
  // which is how the parent learns that exec succeeded).
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 65536; ++fd)
      if (fd != status_w) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  execvpe(argv[0], argv, envp);
fail : {
  int e = errno;
  ssize_t r = write(status_w, &e, sizeof e);
  (void)r;
  _exit(127);
}
}

}  // namespace

spawned_process spawn_worker(const std::vector<std::string>& argv, const std::string& socket_path,
                             const spawn_options& opts, std::error_code& ec) {
  spawned_process out;
  ec.clear();
  if (argv.empty()) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return out;
  }
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  // The environment is built before fork: the child may only make async-signal-safe calls.
  std::vector<std::string> env_entries;
  std::vector<char*> cenv;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced = std::any_of(opts.env.begin(), opts.env.end(), [name](auto& kv) { return kv.first == name; });
    if (!replaced) cenv.push_back(*e);
  }
  env_entries.reserve(opts.env.size());
  for (const auto& [name, value] : opts.env) env_entries.push_back(name + "=" + value);
  for (auto& e : env_entries) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  int lsock = make_listener(socket_path, ec);
  if (lsock < 0) return out;
  int err_pipe[2], status_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ec.assign(errno, std::system_category());
    ::close(lsock);
    return out;
  }
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
    ec.assign(errno, std::system_category());
    ::close(lsock);
    ::close(err_pipe[0]);
    ::close(err_pipe[1]);
    return out;
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0)
    exec_child(cargv.data(), cenv.data(), lsock, err_pipe[1], status_pipe[1], parent, opts.batch_scheduling);
  int fork_errno = errno;
  ::close(lsock);
  ::close(err_pipe[1]);
  ::close(status_pipe[1]);
  if (pid < 0) {
    ec.assign(fork_errno, std::system_category());
    ::close(err_pipe[0]);
    ::close(status_pipe[0]);
    ::unlink(socket_path.c_str());
    return out;
  }
  out.pid = pid;
  out.stderr_fd = err_pipe[0];
  out.exec_status_fd = status_pipe[0];
  return out;
}

}  // namespace fcgimux
