// SPDX-License-Identifier: ISC
#include "tests/support/fcgi_program.hpp"

#include <atomic>

namespace fcgimux::test {

fcgi_program spawn_fcgi_program(const std::vector<std::string>& argv, const temp_dir& dir, bool use_unix,
                                const std::vector<std::string>& env) {
  static std::atomic<int> counter{0};
  std::string name = "app" + std::to_string(counter++);
  fcgi_program p;
  p.address = use_unix ? endpoint::unix_socket(dir.file(name + ".sock")) : endpoint::tcp(0);
  unique_fd listener = listen_on(p.address);
  spawn_options options;
  options.argv = argv;
  options.env = env;
  options.stdin_fd = listener.get();
  options.stderr_path = dir.file(name + ".stderr");
  p.process = child_process(options);
  return p;
}

}  // namespace fcgimux::test
