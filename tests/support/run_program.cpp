// SPDX-License-Identifier: ISC
#include "tests/support/run_program.hpp"

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace fcgimux::test {

std::optional<std::string> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return name;
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

child_result run_child(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                       const std::string& stdin_path) {
  child_result r;
  if (argv.empty()) return r;
  auto program = find_program(argv[0]);
  unique_fd in(::open(stdin_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!program || !in) return r;
  temp_dir dir("fcgimux-run");
  spawn_options o;
  o.argv = argv;
  o.argv[0] = *program;
  o.stdin_fd = in.get();
  o.stdout_path = dir.file("out");
  o.stderr_path = dir.file("err");
  try {
    child_process p(o);
    r.started = true;
    auto st = p.wait_exit(timeout);
    if (!st) {
      r.timed_out = true;
      p.stop(std::chrono::milliseconds(500));
      st = p.status();
    }
    if (st) r.exit_code = st->exited ? st->code : 128 + st->signal;
  } catch (const std::runtime_error&) {
    return r;
  }
  r.out = read_file(o.stdout_path);
  r.err = read_file(o.stderr_path);
  return r;
}

}  // namespace fcgimux::test
