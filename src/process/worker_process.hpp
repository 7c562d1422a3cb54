#pragma once
// Starting and signalling one worker process, the way spawn-fcgi does: a listening unix socket
// becomes the program's fd 0. fcgimux keeps no copy of that socket, so once the worker is gone
// nothing accepts on it and connecting fails at once instead of hanging in a dead backlog.

#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace fcgimux {

struct spawned_process {
  int pid = -1;
  int exec_status_fd = -1;  ///< read end: EOF when exec succeeded, else the child's errno (4 bytes)
  int stderr_fd = -1;       ///< read end of the worker's stderr
};

struct spawn_options {
  /// SCHED_BATCH for the worker when it would otherwise run under SCHED_OTHER (a policy the
  /// operator chose, such as SCHED_IDLE, is left alone). Why: docs/performance.md.
  bool batch_scheduling = true;
  /// Variables set for the worker on top of fcgimux's own environment (replacing same names).
  std::vector<std::pair<std::string, std::string>> env;
};

/// Binds and listens on `socket_path` (mode 0600), starts `argv` with it as fd 0, /dev/null as
/// fd 1, a pipe as fd 2, every other descriptor closed, default signal mask and handlers, its
/// own session (as spawn-fcgi gives its workers), and SIGKILL when fcgimux dies.
spawned_process spawn_worker(const std::vector<std::string>& argv, const std::string& socket_path,
                             const spawn_options& opts, std::error_code& ec);

}  // namespace fcgimux
