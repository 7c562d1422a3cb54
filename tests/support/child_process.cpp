// SPDX-License-Identifier: ISC
#include "tests/support/child_process.hpp"

#include "tests/support/temp_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace fcgimux::test {

namespace {

exit_status decode_status(int raw) {
  exit_status s;
  if (WIFEXITED(raw)) {
    s.exited = true;
    s.code = WEXITSTATUS(raw);
  } else if (WIFSIGNALED(raw)) {
    s.signal = WTERMSIG(raw);
  }
  return s;
}

std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& x : extra) replaced = replaced || x.substr(0, x.find('=')) == name;
    if (!replaced) env.push_back(std::move(entry));
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (auto& s : strings) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

}  // namespace

child_process::child_process(const spawn_options& options) : stderr_path_(options.stderr_path) {
  if (options.argv.empty()) throw std::invalid_argument("child_process: empty argv");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options.stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, options.stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  const std::string& out = options.stdout_path.empty() ? std::string("/dev/null") : options.stdout_path;
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const std::string& err = options.stderr_path.empty() ? std::string("/dev/null") : options.stderr_path;
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> args = options.argv;
  std::vector<std::string> env = merged_environment(options.env);
  auto argp = pointers(args);
  auto envp = pointers(env);
  int rc = ::posix_spawn(&pid_, args[0].c_str(), &actions, &attr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    pid_ = 0;
    throw std::runtime_error("posix_spawn " + args[0] + ": " + std::strerror(rc));
  }
}

child_process::child_process(child_process&& o) noexcept
    : pid_(o.pid_), stderr_path_(std::move(o.stderr_path_)), status_(o.status_) {
  o.pid_ = 0;
}

child_process& child_process::operator=(child_process&& o) noexcept {
  if (this != &o) {
    stop();
    pid_ = o.pid_;
    stderr_path_ = std::move(o.stderr_path_);
    status_ = o.status_;
    o.pid_ = 0;
  }
  return *this;
}

child_process::~child_process() { stop(); }

bool child_process::running() {
  if (pid_ == 0 || status_) return false;
  int raw = 0;
  pid_t r = ::waitpid(pid_, &raw, WNOHANG);
  if (r == pid_) {
    status_ = decode_status(raw);
    return false;
  }
  return r == 0;
}

std::optional<exit_status> child_process::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return status_;
}

void child_process::send_signal(int sig) const {
  if (pid_ != 0 && !status_) ::kill(pid_, sig);
}

void child_process::stop(std::chrono::milliseconds grace) {
  if (pid_ == 0) return;
  if (running()) {
    // Workers a daemon spawned may have left its process group: remember them to kill them last.
    std::vector<pid_t> family = descendants_of(pid_);
    ::kill(-pid_, SIGTERM);
    ::kill(pid_, SIGTERM);
    if (!wait_exit(grace)) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      wait_exit(std::chrono::milliseconds(5000));
    }
    for (pid_t p : family) {
      if (p != pid_ && process_alive(p)) ::kill(p, SIGKILL);
    }
  }
  ::kill(-pid_, SIGKILL);  // anything left in the group (grandchildren of an exited child)
  pid_ = 0;
}

std::string child_process::stderr_text() const {
  return stderr_path_.empty() ? std::string() : read_file(stderr_path_);
}

std::vector<pid_t> child_process::children() const { return pid_ == 0 ? std::vector<pid_t>{} : children_of(pid_); }

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> kids;
  std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(task_dir.c_str());
  if (d == nullptr) return kids;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(task_dir + "/" + e->d_name + "/children");
    pid_t k;
    while (f >> k) kids.push_back(k);
  }
  ::closedir(d);
  return kids;
}

std::vector<pid_t> descendants_of(pid_t pid) {
  std::vector<pid_t> all{pid};
  for (std::size_t i = 0; i < all.size(); ++i) {
    for (pid_t k : children_of(all[i])) all.push_back(k);
  }
  return all;
}

bool process_alive(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  if (!f) return false;
  std::string line;
  std::getline(f, line);
  auto close_paren = line.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= line.size()) return false;
  char state = line[close_paren + 2];
  return state != 'Z' && state != 'X';
}

long uid_of(pid_t pid) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Uid:", 0) == 0) {
      long real = -1, effective = -1;
      std::istringstream(line.substr(4)) >> real >> effective;
      return effective;
    }
  return -1;
}

long rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (f >> key) {
    if (key == "VmRSS:") {
      long v = -1;
      f >> v;
      return v;
    }
  }
  return -1;
}

}  // namespace fcgimux::test
