// SPDX-License-Identifier: ISC
// fcgimux-php-trace PID [DEPTH]: the PHP functions a php-cgi worker is in, one frame a line as
// php-fpm's slow log writes them, for --slowlog-command 'fcgimux-php-trace {pid}'.
//
// The worker is held still while its frames are read: attached with PTRACE_SEIZE and stopped with
// PTRACE_INTERRUPT, detached as soon as the frames are copied (well under a millisecond of work).
// Reading /proc/PID/mem alone would not stop it, and a running script moves its stack under the
// reads (a frame freed and reused between two of them names a function it never called).
// SIGSTOP/SIGCONT would stop it as well, but a trace killed between the two (by --slowlog-timeout)
// would leave the worker stopped for good; a ptrace stop ends with the tracer, whatever kills it.

#include "elf_file.hpp"
#include "php_stack.hpp"
#include "process_image.hpp"

#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>

using namespace fcgimux::php_trace;

namespace {

constexpr unsigned default_depth = 20, max_depth = 10000;

bool parse_number(const char* s, long max, long& out) {
  const char* end = s + std::strlen(s);
  auto [p, ec] = std::from_chars(s, end, out);
  return ec == std::errc() && p == end && out > 0 && out <= max;
}

int fail(const std::string& what) {
  std::fprintf(stderr, "fcgimux-php-trace: %s\n", what.c_str());
  return 1;
}

// The worker held still for the walk, and let go on every path out.
class held_still {
 public:
  explicit held_still(pid_t pid) : pid_(pid) {
    if (::ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) != 0) {
      why_not_ = std::string("not stopped (") + std::strerror(errno) + "): its frames may move while read";
      return;
    }
    attached_ = true;
    int status = 0;
    if (::ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr) != 0 || ::waitpid(pid, &status, __WALL) != pid) {
      why_not_ = std::string("not stopped (") + std::strerror(errno) + "): its frames may move while read";
      return;
    }
    if (!WIFSTOPPED(status)) {
      gone_ = true;
      return;
    }
    // A signal that arrived first is handed back at the detach, never swallowed by the trace.
    const bool ours = WSTOPSIG(status) == SIGTRAP && (status >> 16) == PTRACE_EVENT_STOP;
    if (!ours && (status >> 16) == 0) pending_signal_ = WSTOPSIG(status);
  }
  ~held_still() { release(); }
  held_still(const held_still&) = delete;
  held_still& operator=(const held_still&) = delete;

  void release() {
    if (!attached_ || gone_) return;
    ::ptrace(PTRACE_DETACH, pid_, nullptr, reinterpret_cast<void*>(static_cast<long>(pending_signal_)));
    attached_ = false;
  }
  bool gone() const { return gone_; }
  const std::string& why_not() const { return why_not_; }

 private:
  pid_t pid_;
  bool attached_ = false, gone_ = false;
  int pending_signal_ = 0;
  std::string why_not_;
};

}  // namespace

int main(int argc, char** argv) {
  long pid = 0, depth = default_depth;
  if (argc < 2 || argc > 3 || !parse_number(argv[1], INT_MAX, pid) ||
      (argc == 3 && !parse_number(argv[2], max_depth, depth))) {
    std::fprintf(stderr, "usage: fcgimux-php-trace PID [DEPTH]  (DEPTH 1-%u frames, default %u)\n", max_depth,
                 default_depth);
    return 2;
  }
  const std::string proc = "/proc/" + std::to_string(pid);
  const std::string need = " (needs root, or CAP_SYS_PTRACE over another user's process)";

  char exe[PATH_MAX + 1];
  const ssize_t exe_len = ::readlink((proc + "/exe").c_str(), exe, PATH_MAX);
  if (exe_len < 0) return fail("cannot read " + proc + "/exe: " + std::strerror(errno) + need);
  exe[exe_len] = '\0';
  // Opened through /proc: the very file the process runs, even if its path was replaced since.
  const int exe_fd = ::open((proc + "/exe").c_str(), O_RDONLY | O_CLOEXEC);
  if (exe_fd < 0) return fail("cannot open " + proc + "/exe: " + std::strerror(errno) + need);
  elf_file elf(exe_fd);
  const auto eg = elf.dynamic_symbol("executor_globals");
  const std::string not_php = "process " + std::to_string(pid) + " (" + exe + ") is not PHP " +
                              std::string(php_version()).substr(0, 3) + " (" + std::string(php_build_id()) + "): ";
  if (!eg) return fail(not_php + elf.error());
  if (eg->size != executor_globals_size())
    return fail(not_php + "its executor_globals has " + std::to_string(eg->size) + " bytes, not " +
                std::to_string(executor_globals_size()));
  if (!elf.contains(php_build_id())) return fail(not_php + "it was built for another module API");
  ::close(exe_fd);

  std::string error;
  const auto mapped = executable_mapping(static_cast<int>(pid), exe, error);
  if (!mapped) return fail(error);
  const std::uint64_t address = (elf.position_independent() ? *mapped - elf.first_load_address() : 0) + eg->value;
  process_memory mem(static_cast<int>(pid));
  if (!mem.ok()) return fail(mem.error() + need);

  std::vector<php_frame> frames;
  held_still hold(static_cast<pid_t>(pid));
  if (hold.gone()) return fail("process " + std::to_string(pid) + " exited");
  const bool walked = php_stack(mem, address, static_cast<unsigned>(depth), frames, error);
  hold.release();

  if (!hold.why_not().empty()) std::fprintf(stderr, "fcgimux-php-trace: %s\n", hold.why_not().c_str());
  for (const auto& f : frames)
    std::printf("[0x%016llx] %s() %s:%u\n", static_cast<unsigned long long>(f.address), f.function.c_str(),
                f.file.c_str(), f.line);
  if (!walked) return fail("stopped after " + std::to_string(frames.size()) + " frames: " + error);
  if (frames.empty()) std::printf("no PHP function is running\n");
  return 0;
}
