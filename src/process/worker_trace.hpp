// SPDX-License-Identifier: ISC
#pragma once
// What a running worker is doing, for the slow log (pool/slow_log.hpp): its kernel stack and
// wchan, read from /proc, and the output of the operator's --slowlog-command run on it.
//
// The command is the operator's (the configuration's), never a request's: only the worker's pid
// is put into it. It runs with fcgimux's own credentials, root when fcgimux runs as root, by
// design: attaching a debugger to a worker that runs as another user needs it (ptrace), and the
// operator who may write the configuration is root already. It is started with posix_spawn (no
// fork of the whole process), in a process group of its own with stdin from /dev/null and an
// environment of PATH, LC_ALL=C and fcgimux's HOME only, and its output is read asynchronously.
// Past its time bound the group is killed (SIGKILL): a debugger that hangs is stopped with it.

#include "src/process/reaper.hpp"

#include <asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace fcgimux {

/// /proc/PID/stack, one frame a line, or "unavailable (why)": the kernel shows it to root only.
std::string kernel_stack(int pid);
/// /proc/PID/wchan: where the worker sleeps in the kernel ("0" when it runs), or "unavailable (why)".
std::string wait_channel(int pid);

/// What a trace command did.
struct trace_result {
  std::string output;      ///< its stdout and stderr, at most trace_output_limit bytes
  bool truncated = false;  ///< there was more output than that
  bool timed_out = false;  ///< killed past its bound
  std::string how_ended;   ///< "exited with status 0", "killed by signal 9 (Killed)", "cannot start: ..."
};

/// More output than this is cut: an entry is one slow log write.
inline constexpr std::size_t trace_output_limit = 64 * 1024;

/// `command` with every "{pid}" replaced by `pid`.
std::string trace_command_for(const std::string& command, int pid);

/// Runs `command` for `pid` through /bin/sh -c, and calls `done` once with what it wrote, when it
/// has exited (killed with its process group past `bound`). Never waits on the loop; `done` runs
/// on `io`. Neither `done` nor the run refers to its caller: it may be gone by then.
void run_trace_command(asio::io_context& io, reaper& children, const std::string& command, int pid,
                       std::chrono::milliseconds bound, std::function<void(trace_result)> done);

}  // namespace fcgimux
