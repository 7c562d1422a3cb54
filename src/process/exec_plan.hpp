// SPDX-License-Identifier: ISC
#pragma once
// What execve needs for one worker, built before fork(): the child of fork() in a process with a
// second thread (the log writer) may only make async-signal-safe calls, so it must not allocate,
// format or search PATH itself (execvpe does all three). The child only reads what is here.

#include <string>
#include <utility>
#include <vector>

namespace fcgimux {

/// Which of fcgimux's own variables a worker gets (docs/privileges.md).
struct env_rules {
  bool clear = false;                                      ///< --clear-env: only PATH and `pass` are kept
  std::vector<std::string> pass{};                         ///< --pass-env names
  std::vector<std::pair<std::string, std::string>> set{};  ///< --env NAME=VALUE, on top (replacing)
};

/// The worker's environment as "NAME=VALUE" entries: `parent` (a null-terminated array, such as
/// environ) filtered by `rules`, then `rules.set`.
std::vector<std::string> worker_environment(char* const* parent, const env_rules& rules);

/// The paths execve is tried on, in order, for `program`, as execvp(3) searches them: the program
/// itself if it holds a '/', else each directory of `path` (the worker's PATH; unset: /bin:/usr/bin).
std::vector<std::string> program_candidates(const std::string& program, const std::string* path);

/// argv, envp and the program's candidate paths as the C arrays execve takes. Not copyable or
/// movable: the arrays point into its own strings.
class exec_plan {
 public:
  exec_plan(const std::vector<std::string>& argv, std::vector<std::string> envp);
  exec_plan(const exec_plan&) = delete;
  exec_plan& operator=(const exec_plan&) = delete;

  /// The program's arguments, null-terminated.
  char* const* argv() const noexcept { return argv_.data(); }
  /// The environment, null-terminated.
  char* const* envp() const noexcept { return envp_.data(); }
  /// The paths to try, null-terminated.
  char* const* candidates() const noexcept { return candidates_.data(); }
  /// {"/bin/sh", <slot>, argv[1]...}, null-terminated: what execvp runs for a file execve refuses
  /// with ENOEXEC (a script without "#!"). The child puts the candidate in the slot.
  char** script_argv() noexcept { return script_argv_.data(); }

 private:
  std::vector<std::string> args_, env_, paths_;
  std::string shell_ = "/bin/sh";
  std::vector<char*> argv_, envp_, candidates_, script_argv_;
};

}  // namespace fcgimux
