// SPDX-License-Identifier: ISC
// What a worker finds when it starts: the list (fd 0 a listening socket, fd 1 /dev/null,
// fd 2 a pipe to fcgimux's log, nothing else open, default signal mask and dispositions) and a
// session of its own, as spawn-fcgi gives its workers. The worker is /bin/sleep, which changes
// none of these itself. Also the scheduling policy fcgimux gives them (--worker-sched), and what
// becomes of what they write on stderr.

#include "backends.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <sstream>
#include <thread>

#include <sched.h>
#include <unistd.h>

using namespace fcgimux::test;

namespace {

std::string proc(pid_t pid, const std::string& what) { return "/proc/" + std::to_string(pid) + "/" + what; }

std::string link_target(const std::string& path) {
  std::error_code ec;
  auto t = std::filesystem::read_symlink(path, ec);
  return ec ? std::string() : t.string();
}

// The hex mask of a /proc/PID/status line such as "SigBlk:\t0000000000000000".
std::string status_field(pid_t pid, const std::string& name) {
  std::istringstream s(read_file(proc(pid, "status")));
  std::string line;
  while (std::getline(s, line)) {
    if (line.rfind(name + ":", 0) == 0) {
      auto v = line.substr(name.size() + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return "";
}

// Fields 5 and 6 of /proc/PID/stat (process group, session), after the command name.
std::pair<long, long> pgrp_and_session(pid_t pid) {
  std::string st = read_file(proc(pid, "stat"));
  std::istringstream rest(st.substr(st.rfind(')') + 2));
  std::string state;
  long ppid = 0, pgrp = 0, session = 0;
  rest >> state >> ppid >> pgrp >> session;
  return {pgrp, session};
}

// Starts fcgimux with one /bin/sleep worker and returns the worker's pid once it is sleep.
pid_t start_sleep_worker(fcgimux_instance& mux) {
  REQUIRE(mux.wait_for_workers(1, 10s));
  pid_t w = mux.worker_pids().at(0);
  // The child exists before it has exec'd: wait until it is sleep.
  for (int i = 0; i < 200 && read_file(proc(w, "comm")) != "sleep\n"; ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(read_file(proc(w, "comm")) == "sleep\n");
  return w;
}

fcgimux_options sleep_worker_options(std::vector<std::string> extra = {}) {
  fcgimux_options o;
  o.args = {"-n", "1", "--stats", "off"};
  o.args.insert(o.args.end(), extra.begin(), extra.end());
  o.command = {"/bin/sleep", "600"};
  return o;
}

}  // namespace

TEST_CASE("a worker starts with only fds 0-2, default signals, and a session of its own", "[proxy][workers]") {
  fcgimux_instance mux(sleep_worker_options());
  pid_t w = start_sleep_worker(mux);

  // The kernel renames the process (comm) before it closes the close-on-exec descriptors, so for
  // a moment after "sleep" appears fcgimux's own (close-on-exec) ones are still there; a leaked
  // descriptor stays for good.
  auto fds_of = [&] {
    std::vector<int> fds;
    for (const auto& e : std::filesystem::directory_iterator(proc(w, "fd")))
      fds.push_back(std::stoi(e.path().filename()));
    std::sort(fds.begin(), fds.end());
    return fds;
  };
  std::vector<int> fds = fds_of();
  for (int i = 0; i < 200 && fds != std::vector<int>{0, 1, 2}; ++i) {
    std::this_thread::sleep_for(10ms);
    fds = fds_of();
  }
  CHECK(fds == std::vector<int>{0, 1, 2});
  CHECK(link_target(proc(w, "fd/0")).rfind("socket:", 0) == 0);
  CHECK(link_target(proc(w, "fd/1")) == "/dev/null");
  CHECK(link_target(proc(w, "fd/2")).rfind("pipe:", 0) == 0);

  CHECK(status_field(w, "SigBlk") == "0000000000000000");
  CHECK(status_field(w, "SigIgn") == "0000000000000000");

  auto [pgrp, session] = pgrp_and_session(w);
  CHECK(session == w);
  CHECK(pgrp == w);
  CHECK(session != static_cast<long>(::getsid(0)));
}

TEST_CASE("workers run under SCHED_BATCH unless --worker-sched normal", "[proxy][workers]") {
  // fcgimux inherits this process's policy; the switch applies only to SCHED_OTHER.
  REQUIRE(::sched_getscheduler(0) == SCHED_OTHER);
  {
    fcgimux_instance mux(sleep_worker_options());
    CHECK(::sched_getscheduler(start_sleep_worker(mux)) == SCHED_BATCH);
  }
  {
    fcgimux_instance mux(sleep_worker_options({"--worker-sched", "normal"}));
    CHECK(::sched_getscheduler(start_sleep_worker(mux)) == SCHED_OTHER);
  }
}

TEST_CASE("each line a worker writes on stderr reaches fcgimux's log with the worker's pid", "[proxy][workers]") {
  fcgimux_options o;
  o.args = {"-n", "1", "--stats", "off"};
  // Two lines in one write, a line in two writes, then a last piece without a newline at exit.
  o.command = {"/bin/sh", "-c",
               "printf 'first line\\nsecond line\\n' >&2; printf 'split ' >&2; sleep 0.1; printf 'line\\n' >&2;"
               " printf 'no newline at exit' >&2; exec sleep 600"};
  fcgimux_instance mux(o);
  REQUIRE(mux.wait_for_workers(1, 10s));
  pid_t w = mux.worker_pids().at(0);
  std::string prefix = "worker " + std::to_string(w) + " (pool default): ";
  auto logged = [&](const std::string& line) {
    return mux.stderr_text().find(prefix + line + "\n") != std::string::npos;
  };
  for (int i = 0; i < 300 && !logged("split line"); ++i) std::this_thread::sleep_for(10ms);
  INFO("fcgimux stderr:\n" << mux.stderr_text());
  CHECK(logged("first line"));
  CHECK(logged("second line"));
  CHECK(logged("split line"));

  // The unterminated piece is logged when the pipe closes, as its own line.
  ::kill(w, SIGKILL);
  for (int i = 0; i < 300 && !logged("no newline at exit"); ++i) std::this_thread::sleep_for(10ms);
  CHECK(logged("no newline at exit"));
}
