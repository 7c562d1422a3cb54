// SPDX-License-Identifier: ISC
#include "compat_support.hpp"

#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/paths.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

namespace fcgimux::test {

using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

linked_binary::linked_binary(const std::string& name) : dir_("fcgimux-compat"), path_(dir_.file(name)) {
  REQUIRE(::symlink(fcgimux_bin, path_.c_str()) == 0);
}

child_process start_exactly(const linked_binary& bin, const std::vector<std::string>& args) {
  spawn_options s;
  s.argv = {bin.path()};
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  s.stderr_path = bin.file("stderr.txt");
  return child_process(s);
}

child_process start(const linked_binary& bin, const std::vector<std::string>& args) {
  std::vector<std::string> all = root_user_args(args);  // as root, fcgimux asks who the workers are
  all.insert(all.end(), args.begin(), args.end());
  return start_exactly(bin, all);
}

std::string stderr_of(const linked_binary& bin) { return read_file(bin.file("stderr.txt")); }

bool printed(const linked_binary& bin, const std::string& text) {
  return stderr_of(bin).find(text) != std::string::npos;
}

pid_t pid_in(const std::string& pidfile) {
  std::ifstream in(pidfile);
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string fd_target(pid_t pid, int fd) {
  char buf[256] = {};
  const std::string link = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

std::string threads_of(pid_t pid) {
  std::string out;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator(task, ec)) {
    const std::string dir = t.path().string();
    auto first_line = [](const std::string& path) {
      std::ifstream f(path);
      std::string line;
      std::getline(f, line);
      return line;
    };
    out += first_line(dir + "/stat") + " wchan=" + first_line(dir + "/wchan") + " syscall=" +
           first_line(dir + "/syscall") + "\n";
  }
  return out;
}

daemon_guard::~daemon_guard() {
  if (pid <= 0 || !process_alive(pid)) return;
  const std::vector<pid_t> all = descendants_of(pid);
  ::kill(pid, SIGTERM);
  if (!eventually([&] { return !process_alive(pid); }, 5s)) ::kill(pid, SIGKILL);
  for (pid_t p : all)
    if (p != pid) ::kill(p, SIGKILL);
}

}  // namespace fcgimux::test
