#include "src/process/worker_process.hpp"

#include <fcntl.h>
#include <grp.h>
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

// What the child needs, prepared before fork as plain C data.
struct child_plan {
  char* const* argv;
  char* const* envp;
  int lsock, err_w, status_w;
  pid_t parent;
  bool batch;
  const char* chroot;  // nullptr: none
  const char* chdir;   // nullptr: fcgimux's directory
  bool change_ids;
  uid_t uid;
  gid_t gid;
  const gid_t* groups;
  std::size_t ngroups;
};

[[noreturn]] void child_failed(int status_w, child_step step, int error) {
  child_failure f{error, step};
  ssize_t r = write(status_w, &f, sizeof f);
  (void)r;
  _exit(127);
}

// Only async-signal-safe calls from here on: the child of fork() in a process that may hold locks.
[[noreturn]] void exec_child(const child_plan& c) {
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
  if (c.batch && sched_getscheduler(0) == SCHED_OTHER) {
    struct sched_param none_prio {};
    if (sched_setscheduler(0, SCHED_BATCH, &none_prio) != 0) {
      static const char msg[] = "fcgimux: SCHED_BATCH refused; this worker keeps the normal policy\n";
      ssize_t r = write(c.err_w, msg, sizeof msg - 1);
      (void)r;
    }
  }
  // Opened before the jail, which need not have a /dev.
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

  // Root, directory, then ids: chroot needs the privilege that setuid gives up, and the groups go
  // before the gid, the gid before the uid, for the same reason.
  if (c.chroot && chroot(c.chroot) != 0) child_failed(c.status_w, child_step::chroot, errno);
  if (c.chdir && chdir(c.chdir) != 0) child_failed(c.status_w, child_step::chdir, errno);
  if (c.change_ids) {
    if (setgroups(c.ngroups, c.groups) != 0) child_failed(c.status_w, child_step::setgroups, errno);
    if (setgid(c.gid) != 0) child_failed(c.status_w, child_step::setgid, errno);
    if (setuid(c.uid) != 0) child_failed(c.status_w, child_step::setuid, errno);
    // A worker that could become root again would make the user change worthless.
    if (c.uid != 0 && (setuid(0) == 0 || seteuid(0) == 0 || getuid() != c.uid || geteuid() != c.uid))
      child_failed(c.status_w, child_step::root_regained, 0);
  }
  // Once fcgimux is gone nobody reads the worker's answers; SIGKILL, since some programs ignore
  // SIGTERM. After the ids: the kernel clears this on a credential change.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != c.parent) _exit(127);

  if (c.lsock != 0 && dup2(c.lsock, 0) < 0) child_failed(c.status_w, child_step::setup, errno);
  if (c.lsock == 0) fcntl(0, F_SETFD, 0);
  if (devnull >= 0 && dup2(devnull, 1) < 0) child_failed(c.status_w, child_step::setup, errno);
  if (dup2(c.err_w, 2) < 0) child_failed(c.status_w, child_step::setup, errno);
  // Everything else must not reach the program: mark it close-on-exec (the status pipe too,
  // which is how the parent learns that exec succeeded).
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 65536; ++fd)
      if (fd != c.status_w) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  execvpe(c.argv[0], c.argv, c.envp);
  child_failed(c.status_w, child_step::exec, errno);
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
  const worker_credentials& ids = opts.credentials;
  child_plan plan{.argv = cargv.data(),
                  .envp = cenv.data(),
                  .lsock = lsock,
                  .err_w = err_pipe[1],
                  .status_w = status_pipe[1],
                  .parent = ::getpid(),
                  .batch = opts.batch_scheduling,
                  .chroot = opts.chroot.empty() ? nullptr : opts.chroot.c_str(),
                  .chdir = !opts.chdir.empty()    ? opts.chdir.c_str()
                           : !opts.chroot.empty() ? "/"
                                                  : nullptr,
                  .change_ids = ids.change,
                  .uid = ids.uid,
                  .gid = ids.gid,
                  .groups = ids.groups.data(),
                  .ngroups = ids.groups.size()};
  pid_t pid = ::fork();
  if (pid == 0) exec_child(plan);
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

std::string describe(child_step step, const std::string& program, const std::string& chroot, const std::string& chdir) {
  switch (step) {
    case child_step::exec:
      return chroot.empty() ? "cannot run '" + program + "'" : "cannot run '" + program + "' inside " + chroot;
    case child_step::setup: return "cannot set up its descriptors";
    case child_step::chroot: return "cannot chroot to " + chroot;
    case child_step::chdir: return "cannot change directory to " + (chdir.empty() ? std::string("/") : chdir);
    case child_step::setgroups: return "cannot set its supplementary groups";
    case child_step::setgid: return "cannot set its group";
    case child_step::setuid: return "cannot set its user";
    case child_step::root_regained: return "could become root again after setuid: not started";
  }
  return "cannot start";
}

}  // namespace fcgimux
