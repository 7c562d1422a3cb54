// SPDX-License-Identifier: ISC
// --ping-path answered by fcgimux while the pool can serve (503 when it cannot), and
// --rlimit-files, --rlimit-core and --nice as the real workers' /proc shows them.

#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/support/http_client.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <thread>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

std::string proc_file(pid_t pid, const char* name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The soft and hard values of one line of /proc/PID/limits ("Max open files  777  777  files").
std::string limit_line(pid_t pid, const std::string& what) {
  std::istringstream in(proc_file(pid, "limits"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(what, 0) == 0) {
      std::istringstream values(line.substr(what.size()));
      std::string soft, hard;
      values >> soft >> hard;
      return soft + " " + hard;
    }
  return "";
}

// Field 19 of /proc/PID/stat, after the command name in parentheses.
int nice_of(pid_t pid) {
  const std::string stat = proc_file(pid, "stat");
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 19; ++i) in >> field;
  return std::stoi(field);
}

}  // namespace

TEST_CASE("ping-path answers pong without a worker, and --ping-response's text") {
  fcgimux_instance f(demo_pool({"-n", "1", "--ping-path", "/ping"}));
  REQUIRE(f.wait_for_workers(1, 10s));
  std::thread busy([&] { CHECK(get(f.port(), "/slow?sleep_ms=1000").response.status == 200); });
  REQUIRE(eventually([&] { return stats_of(f)["pool"]["busy"] == 1; }, 5s));
  const auto t0 = std::chrono::steady_clock::now();
  const auto ping = get(f.port(), "/ping");
  CHECK(std::chrono::steady_clock::now() - t0 < 800ms);  // not queued behind the busy worker
  REQUIRE(ping.how == read_status::ok);
  CHECK(ping.response.status == 200);
  CHECK(ping.response.body == "pong");
  busy.join();
  CHECK(stats_of(f)["requests"]["accepted"] == 2);

  fcgimux_instance g(demo_pool({"-n", "1", "--ping-path", "/health", "--ping-response", "alive"}));
  CHECK(get(g.port(), "/health").response.body == "alive");
  CHECK(get(g.port(), "/ping").response.body != "alive");  // only its own path
}

TEST_CASE("ping-path answers 503 while no worker of the pool can start") {
  fcgimux_options o = demo_pool({"-n", "1", "--ping-path", "/ping"});
  o.command = {"/bin/false"};  // every worker exits at once: the pool backs off
  fcgimux_instance f(o);
  // Three failed starts with back-off between them: seconds on a loaded machine, so a wide bound.
  REQUIRE(eventually([&] { return http_request(f.stats_port(), "GET", "/healthz").status == 503; }, 60s));
  const auto ping = get(f.port(), "/ping");
  REQUIRE(ping.how == read_status::ok);
  CHECK(ping.response.status == 503);
  CHECK(ping.response.body != "pong");
}

TEST_CASE("rlimit-files, rlimit-core and nice are the workers' own, and said at start-up") {
  fcgimux_instance f(demo_pool({"-n", "2", "--rlimit-files", "777", "--rlimit-core", "0", "--nice", "15"}));
  // Ready, not only forked: the limits are set between fork and exec.
  REQUIRE(eventually([&] { return stats_of(f)["pool"]["idle"] == 2; }, 10s));
  const auto pids = f.worker_pids();
  REQUIRE(pids.size() == 2);
  for (pid_t pid : pids) {
    INFO("worker " << pid);
    CHECK(limit_line(pid, "Max open files") == "777 777");
    CHECK(limit_line(pid, "Max core file size") == "0 0");
    CHECK(nice_of(pid) == 15);
  }
  CHECK(nice_of(f.process().pid()) != 15);  // fcgimux itself keeps its own
  CHECK(f.stderr_text().find("pool default: workers' limits: open files 777, core size 0, nice 15") !=
        std::string::npos);

  // An ASan-built demo worker would set its own soft core limit to 0 at start (disable_coredump,
  // on by default), after fcgimux's setrlimit: the worker is told not to, so only fcgimux counts.
  fcgimux_instance g(demo_pool({"-n", "1", "--rlimit-core", "unlimited", "--env", "ASAN_OPTIONS=disable_coredump=0"}));
  REQUIRE(eventually([&] { return stats_of(g)["pool"]["idle"] == 1; }, 10s));
  CHECK(limit_line(g.worker_pids().at(0), "Max core file size") == "unlimited unlimited");
}

TEST_CASE("bad ping, status and limit values are refused with one line and status 2") {
  for (const auto& [args, error] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--nice", "20"}, "nice: '20' is not a whole number from -20 to 19"},
           {{"--nice", "x"}, "nice: 'x' is not a whole number from -20 to 19"},
           {{"--rlimit-files", "0"}, "rlimit-files: at least 1"},
           {{"--rlimit-core", "big"}, "rlimit-core: 'big' is not a non-negative whole number"},
           {{"--ping-path", "ping"}, "ping-path: must start with /"},
           {{"--ping-path", "/s", "--status-path", "/s"}, "ping-path: must differ from status-path"},
           {{"--ping-response", ""}, "ping-response: must not be empty"}}) {
    std::vector<std::string> argv = {"-t", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--", "/bin/true"});
    const fcgimux_run r = run_fcgimux(argv, 20s);
    INFO(r.stderr_text);
    REQUIRE(r.finished);
    CHECK(r.status.exited);
    CHECK(r.status.code == 2);
    CHECK(r.stderr_text.find(error) != std::string::npos);
  }
}
