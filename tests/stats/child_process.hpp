#pragma once
// Runs a real program (promtool, chromium) with a deadline, in its own process group so that every
// process it forks is killed too, whatever happens.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fcgimux::test {

/// What a finished (or killed) child left behind.
struct child_result {
  bool started = false;    ///< false when the program could not be spawned
  bool timed_out = false;  ///< killed at the deadline
  int exit_code = -1;      ///< exit status, or 128 + signal
  std::string out;         ///< its stdout
  std::string err;         ///< its stderr
};

/// The full path of `name` on PATH, or nothing.
std::optional<std::string> find_program(const std::string& name);

/// Runs argv (argv[0] searched on PATH), stdin from `stdin_path` or /dev/null, up to `timeout`.
child_result run_child(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                       const std::string& stdin_path = "/dev/null");

/// A long-running child (a server) in its own process group; the destructor kills the group.
class background_child {
 public:
  /// Starts argv with stdout and stderr appended to `log_path`; check running() after.
  background_child(const std::vector<std::string>& argv, const std::string& log_path);
  ~background_child();
  background_child(const background_child&) = delete;
  background_child& operator=(const background_child&) = delete;

  /// True while the process lives.
  bool running();
  /// Its log so far, for failure messages.
  std::string log() const;

 private:
  int pid_ = -1;
  std::string log_path_;
};

}  // namespace fcgimux::test
