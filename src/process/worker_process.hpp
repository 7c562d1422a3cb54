// SPDX-License-Identifier: ISC
#pragma once
// Starting and signalling one worker process, the way spawn-fcgi does: a listening unix socket
// becomes the program's fd 0. fcgimux keeps no copy of that socket, so once the worker is gone
// nothing accepts on it and connecting fails at once instead of hanging in a dead backlog.

#include "src/config/config.hpp"

#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace fcgimux {

struct spawned_process {
  int pid = -1;
  int pidfd = -1;           ///< pidfd_open(pid), close-on-exec; -1 on a kernel without pidfds
  int exec_status_fd = -1;  ///< read end: EOF when exec succeeded, else a child_failure
  int stderr_fd = -1;       ///< read end of the worker's stderr
};

/// The step of the child's set-up that failed, as its status pipe reports it.
enum class child_step : int {
  exec,
  setup,
  chroot,
  chdir,
  setgroups,
  setgid,
  setuid,
  root_regained,
  capabilities,
  no_new_privs
};

/// What the child writes on its status pipe when it cannot exec the program.
struct child_failure {
  int error = 0;  ///< errno (0 for root_regained)
  child_step step = child_step::exec;
};

/// The failed step in words, for the log ("cannot chroot to /srv/jail").
std::string describe(child_step step, const std::string& program, const std::string& chroot, const std::string& chdir);

struct spawn_options {
  /// SCHED_BATCH for the worker when it would otherwise run under SCHED_OTHER (a policy the
  /// operator chose, such as SCHED_IDLE, is left alone). Why: docs/performance.md.
  bool batch_scheduling = true;
  /// Variables set for the worker on top of fcgimux's own environment (replacing same names).
  std::vector<std::pair<std::string, std::string>> env;
  /// Keep none of fcgimux's own environment but PATH and `pass_env` (--clear-env yes).
  bool clear_env = false;
  /// Names of fcgimux's variables kept when `clear_env`.
  std::vector<std::string> pass_env;
  /// PR_SET_NO_NEW_PRIVS: nothing the worker executes gains privileges (setuid, setgid, file caps).
  bool no_new_privs = false;
  /// Who the worker runs as (`change` false: fcgimux's own ids).
  worker_credentials credentials;
  /// The worker's root directory (empty: fcgimux's); the program is then found inside it.
  std::string chroot;
  /// The worker's working directory, inside `chroot` (empty: "/" with a chroot, else fcgimux's).
  std::string chdir;
  /// RLIMIT_NOFILE and RLIMIT_CORE (soft and hard), set before the ids change; unset: inherited.
  worker_rlimit rlimit_files, rlimit_core;
  /// The worker's nice value (`nice_set` false: fcgimux's own).
  bool nice_set = false;
  int nice = 0;
};

/// Binds and listens on `socket_path` (mode 0600), starts `argv` with it as fd 0, /dev/null as
/// fd 1, a pipe as fd 2, every other descriptor closed, default signal mask and handlers, its
/// own session (as spawn-fcgi gives its workers), an empty capability bounding set unless it runs
/// as root, its root, directory and ids (in that order: chroot, chdir, setgroups, setgid, setuid,
/// then a check that setuid(0) fails), and SIGKILL when fcgimux dies (asked for after the ids
/// change, which clears it). argv, envp and the program's paths are prepared before fork().
spawned_process spawn_worker(const std::vector<std::string>& argv, const std::string& socket_path,
                             const spawn_options& opts, std::error_code& ec);

}  // namespace fcgimux
