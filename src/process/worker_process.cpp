// SPDX-License-Identifier: ISC
#include "src/process/worker_process.hpp"

#include "src/process/exec_plan.hpp"

#include <linux/capability.h>

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>

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

// Soft and hard alike, as php-fpm sets rlimit_files and rlimit_core.
rlimit both_limits(const worker_rlimit& l) {
  const rlim_t v = l.unlimited ? RLIM_INFINITY : static_cast<rlim_t>(l.value);
  return rlimit{.rlim_cur = v, .rlim_max = v};
}

// Which capabilities leave the worker's bounding set (what exec can ever give it back).
enum class bounding_drop : std::uint8_t {
  none,     // fcgimux is not root: it cannot change the set, nor has it anything to give
  setpcap,  // a root worker: fcgimux's own set, less CAP_SETPCAP (kept only for this drop)
  all       // any other user: a setuid-root program it runs gets no capability at all
};

// What the child needs, prepared before fork as plain C data.
struct child_plan {
  exec_plan* exec;
  int lsock, err_w, status_w;
  pid_t parent;
  bool batch;
  bounding_drop bounding;
  bool no_new_privs;
  const char* chroot;  // nullptr: none
  const char* chdir;   // nullptr: fcgimux's directory
  bool change_ids;
  uid_t uid;
  gid_t gid;
  const gid_t* groups;
  std::size_t ngroups;
  bool files_set, core_set, nice_set;
  rlimit files, core;
  int nice;
};

[[noreturn]] void child_failed(int status_w, child_step step, int error) {
  child_failure f{error, step};
  ssize_t r = write(status_w, &f, sizeof f);
  (void)r;
  _exit(127);
}

template <std::size_t N>
void child_say(int fd, const char (&msg)[N]) {
  ssize_t r = write(fd, msg, N - 1);
  (void)r;
}

// Before the ids change: dropping from the bounding set takes CAP_SETPCAP, which setuid() to
// another user takes away (as it takes every other capability).
void drop_bounding_set(const child_plan& c) {
  if (c.bounding == bounding_drop::none) return;
  if (c.bounding == bounding_drop::setpcap) {
    // What fcgimux keeps for a slow log only (app/capabilities.cpp) is never a worker's.
    prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0);
    prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0);
    prctl(PR_CAPBSET_DROP, CAP_SETPCAP, 0, 0, 0);
    return;
  }
  // Up to the kernel's last capability, which answers EINVAL past it.
  for (int cap = 0;; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
    if (errno == EINVAL) break;
    // No CAP_SETPCAP (a container that withholds it): the worker still starts, as before, and says so.
    child_say(c.err_w, "fcgimux: cannot empty this worker's capability bounding set (no CAP_SETPCAP?)\n");
    break;
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    child_failed(c.status_w, child_step::capabilities, errno);
}

// execvp(3)'s search over the prepared candidates, without its allocations: the first path that
// runs wins; a missing one is skipped; EACCES is reported if any path gave it.
[[noreturn]] void exec_program(const child_plan& c) {
  int error = ENOENT;
  bool denied = false;
  for (char* const* path = c.exec->candidates(); *path; ++path) {
    execve(*path, c.exec->argv(), c.exec->envp());
    error = errno;
    if (error == ENOEXEC) {
      char** sh = c.exec->script_argv();
      sh[1] = *path;
      execve(sh[0], sh, c.exec->envp());
      error = errno;
    }
    if (error == EACCES) {
      denied = true;
      continue;
    }
    if (error != ENOENT && error != ENOTDIR && error != ESTALE && error != ENODEV && error != ETIMEDOUT) break;
  }
  child_failed(c.status_w, child_step::exec, denied ? EACCES : error);
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
    if (sched_setscheduler(0, SCHED_BATCH, &none_prio) != 0)
      child_say(c.err_w, "fcgimux: SCHED_BATCH refused; this worker keeps the normal policy\n");
  }
  drop_bounding_set(c);
  // Before the ids change, which takes away raising a hard limit or lowering the nice value. As
  // php-fpm does, a refusal is said on the worker's stderr and the worker starts without it.
  if (c.files_set && setrlimit(RLIMIT_NOFILE, &c.files) != 0)
    child_say(c.err_w, "fcgimux: --rlimit-files refused (above the hard limit, without root?); not applied\n");
  if (c.core_set && setrlimit(RLIMIT_CORE, &c.core) != 0)
    child_say(c.err_w, "fcgimux: --rlimit-core refused (above the hard limit, without root?); not applied\n");
  if (c.nice_set && setpriority(PRIO_PROCESS, 0, c.nice) != 0)
    child_say(c.err_w, "fcgimux: --nice refused (below fcgimux's own, without root?); not applied\n");
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
  // Also stops a setuid or setgid program the worker runs from gaining that user's or group's
  // files (the bounding set only takes capabilities away from such a program, not its ids).
  if (c.no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    child_failed(c.status_w, child_step::no_new_privs, errno);
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
  exec_program(c);
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
  exec_plan exec(argv, worker_environment(environ, {.clear = opts.clear_env, .pass = opts.pass_env, .set = opts.env}));

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
  const bool as_root = ::geteuid() == 0;
  const uid_t worker_uid = ids.change ? ids.uid : ::geteuid();
  child_plan plan{.exec = &exec,
                  .lsock = lsock,
                  .err_w = err_pipe[1],
                  .status_w = status_pipe[1],
                  .parent = ::getpid(),
                  .batch = opts.batch_scheduling,
                  .bounding = !as_root          ? bounding_drop::none
                              : worker_uid == 0 ? bounding_drop::setpcap
                                                : bounding_drop::all,
                  .no_new_privs = opts.no_new_privs,
                  .chroot = opts.chroot.empty() ? nullptr : opts.chroot.c_str(),
                  .chdir = !opts.chdir.empty()    ? opts.chdir.c_str()
                           : !opts.chroot.empty() ? "/"
                                                  : nullptr,
                  .change_ids = ids.change,
                  .uid = ids.uid,
                  .gid = ids.gid,
                  .groups = ids.groups.data(),
                  .ngroups = ids.groups.size(),
                  .files_set = opts.rlimit_files.set,
                  .core_set = opts.rlimit_core.set,
                  .nice_set = opts.nice_set,
                  .files = both_limits(opts.rlimit_files),
                  .core = both_limits(opts.rlimit_core),
                  .nice = opts.nice};
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
  // Now, while nothing can have reaped the child (only the reaper does, on this thread): the pidfd
  // names this process, not its number, for every signal fcgimux sends it later.
  out.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
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
    case child_step::capabilities: return "cannot clear its ambient capabilities";
    case child_step::no_new_privs: return "cannot set PR_SET_NO_NEW_PRIVS";
  }
  return "cannot start";
}

}  // namespace fcgimux
