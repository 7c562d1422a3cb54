// SPDX-License-Identifier: ISC
#pragma once
// Runs a real program to completion (promtool, chromium) with a deadline and keeps what it wrote.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fcgimux::test {

/// What a finished (or killed) program left behind.
struct child_result {
  bool started = false;    ///< false when the program could not be spawned
  bool timed_out = false;  ///< killed at the deadline
  int exit_code = -1;      ///< exit status, or 128 + signal
  std::string out;         ///< its stdout
  std::string err;         ///< its stderr
};

/// The full path of `name` on PATH, or nothing.
std::optional<std::string> find_program(const std::string& name);

/// Runs argv (argv[0] searched on PATH) in its own process group, stdin from `stdin_path`, for
/// up to `timeout`; the group is killed at the deadline.
child_result run_child(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                       const std::string& stdin_path = "/dev/null");

}  // namespace fcgimux::test
