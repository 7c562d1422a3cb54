// SPDX-License-Identifier: ISC
// --slowlog, --slowlog-command and --slowlog-timeout with the real binary: a request still at its
// worker past --slow-threshold gets exactly one entry with its fields and the worker's pid, a fast
// one none; a bad path stops the start; gdb run on a php-cgi worker sleeping in a PHP function
// shows where it sleeps, and fcgimux-php-trace names that function, its script and line; a command
// past its bound is killed, and one runs at a time per worker.

#include "backends.hpp"
#include "logs_support.hpp"
#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/support/paths.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <regex>
#include <thread>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

// The entries of a slow log: each ends with an empty line.
std::vector<std::string> entries_of(const std::string& path) {
  std::vector<std::string> out;
  std::string text = read_file(path);
  for (std::size_t at = 0, end; (end = text.find("\n\n", at)) != std::string::npos; at = end + 2)
    out.push_back(text.substr(at, end - at + 1));
  return out;
}

std::vector<std::string> wait_for_entries(const std::string& path, std::size_t n, std::chrono::milliseconds timeout) {
  std::vector<std::string> e;
  eventually(
      [&] {
        e = ::access(path.c_str(), F_OK) == 0 ? entries_of(path) : std::vector<std::string>{};
        return e.size() >= n;
      },
      timeout);
  return e;
}

// The seconds an entry says its request had been at the worker.
double elapsed_of(const std::string& entry) {
  std::smatch m;
  if (!std::regex_search(entry, m, std::regex(R"(: slow request, ([0-9.]+) s at the worker\n)"))) return -1;
  return std::stod(m[1]);
}

// An entry's "name = value" line's value.
std::string field(const std::string& entry, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(entry, m, std::regex("(^|\\n)" + name + " = ([^\\n]*)\\n"))) return "<none>";
  return m[2];
}

// The capability set `which` ("CapBnd", "CapEff") of `pid`, from /proc.
std::uint64_t capabilities_of(pid_t pid, const std::string& which) {
  std::smatch m;
  const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  if (!std::regex_search(status, m, std::regex(which + ":\\s*([0-9a-f]+)"))) return 0;
  return std::stoull(m[1], nullptr, 16);
}

constexpr std::uint64_t cap_sys_ptrace = std::uint64_t{1} << 19, cap_sys_admin = std::uint64_t{1} << 21;

}  // namespace

TEST_CASE("slowlog: one entry per slow request, taken while it runs, and none for a fast one", "[logs][slowlog]") {
  temp_dir dir;
  const std::string log = dir.file("slow.log");
  fcgimux_instance mux(demo_pool({"-n", "1", "--slow-threshold", "2", "--slowlog", log}));
  REQUIRE(mux.wait_for_workers(1, 10s));
  const pid_t pid = mux.worker_pids().at(0);

  REQUIRE(send_request(mux.port(), "GET", "/fast").how == read_status::ok);
  // The worker sleeps 6 s; the entry is written at 2 s, while it still sleeps. Not 0.5 s: beside
  // two CPU hogs a "fast" request once took 0.504 s at the worker and had an entry of its own.
  answer slow;
  std::thread t([&] {
    slow = send_request(mux.port(), "POST", "/slow?sleep_ms=6000",
                        {{"SCRIPT_FILENAME", "/srv/app/slow\"one.php"}, {"REQUEST_URI", "/slow?sleep_ms=6000&x=1"}},
                        "body", 60s);
  });
  auto e = wait_for_entries(log, 1, 30s);
  t.join();
  REQUIRE(slow.how == read_status::ok);
  CHECK(slow.response.status == 200);
  REQUIRE(send_request(mux.port(), "GET", "/fast-again?sleep_ms=10").how == read_status::ok);
  REQUIRE(send_request(mux.port(), "GET", "/fast-third").how == read_status::ok);
  // A fast request's entry would be written by now (2 s after it started): wait past that.
  std::this_thread::sleep_for(3s);
  e = entries_of(log);
  INFO("slow log:\n" << read_file(log) << "\nfcgimux stderr:\n" << mux.stderr_text());
  REQUIRE(e.size() == 1);
  const std::string& entry = e[0];
  CHECK(std::regex_search(entry,
                          std::regex(R"(^\[\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}\] pool default pid )" +
                                     std::to_string(pid) + ": slow request, ")));
  const double elapsed = elapsed_of(entry);
  CHECK(elapsed >= 2.0);
  CHECK(elapsed < 6.0);  // taken while the request was still at the worker
  CHECK(field(entry, "method") == "POST");
  CHECK(field(entry, "uri") == "/slow?sleep_ms=6000&x=1");
  CHECK(field(entry, "script") == "/srv/app/slow\\x22one.php");  // what a client sent, escaped
  CHECK(field(entry, "wchan") != "<none>");
  REQUIRE(entry.find("kernel stack:\n  ") != std::string::npos);
  if (::geteuid() == 0) {
    CHECK(field(entry, "wchan").find("unavailable") == std::string::npos);
    CHECK(entry.find("[<0>]") != std::string::npos);  // the kernel's frames
    // fcgimux kept CAP_SYS_ADMIN for the stacks; its (root) worker cannot get it, ever.
    CHECK((capabilities_of(mux.process().pid(), "CapEff") & cap_sys_admin) != 0);
    CHECK((capabilities_of(mux.process().pid(), "CapEff") & cap_sys_ptrace) == 0);  // no --slowlog-command
    CHECK((capabilities_of(pid, "CapBnd") & (cap_sys_admin | cap_sys_ptrace)) == 0);
  } else {
    CHECK(entry.find("kernel stack:\n  unavailable (") != std::string::npos);
  }
  CHECK(entry.find("command") == std::string::npos);
  // The error log says where to look.
  CHECK(mux.stderr_text().find("still at worker " + std::to_string(pid)) != std::string::npos);
}

TEST_CASE("slowlog: a path that cannot be opened, or no threshold, stops the start with a clear line",
          "[logs][slowlog]") {
  temp_dir dir;
  auto r = run_fcgimux({"--listen", "127.0.0.1:0", "--stats", "off", "--slow-threshold", "1", "--slowlog",
                        "/nonexistent-dir/slow.log", "--", demo_bin},
                       10s);
  REQUIRE(r.finished);
  CHECK(r.status.code == 1);
  CHECK(r.stderr_text ==
        "fcgimux: error: pool \"default\": slowlog: cannot open /nonexistent-dir/slow.log: No such file or "
        "directory\n");

  // Root writes it: never through a symbolic link.
  const std::string target = dir.file("target"), link = dir.file("slow.log");
  write_file(target, "");
  REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
  r = run_fcgimux(
      {"--listen", "127.0.0.1:0", "--stats", "off", "--slow-threshold", "1", "--slowlog", link, "--", demo_bin}, 10s);
  REQUIRE(r.finished);
  CHECK(r.status.code == 1);
  CHECK(r.stderr_text ==
        "fcgimux: error: pool \"default\": slowlog: cannot open " + link + ": Too many levels of symbolic links\n");

  r = run_fcgimux({"--listen", "127.0.0.1:0", "--stats", "off", "--slowlog", dir.file("x.log"), "--", demo_bin}, 10s);
  REQUIRE(r.finished);
  CHECK(r.status.code == 2);
  CHECK(r.stderr_text == "fcgimux: error: slowlog: needs a slow-threshold above 0\n");

  r = run_fcgimux({"--listen", "127.0.0.1:0", "--stats", "off", "--slowlog-command", "true", "--", demo_bin}, 10s);
  REQUIRE(r.finished);
  CHECK(r.status.code == 2);
  CHECK(r.stderr_text == "fcgimux: error: slowlog-command: needs a slowlog\n");
}

TEST_CASE("slowlog: reopened on SIGUSR1, as logrotate renames it", "[logs][slowlog]") {
  temp_dir dir;
  const std::string log = dir.file("slow.log"), rotated = dir.file("slow.log.1");
  fcgimux_instance mux(demo_pool({"-n", "1", "--slow-threshold", "0.3", "--slowlog", log}));
  REQUIRE(mux.wait_for_workers(1, 10s));
  REQUIRE(send_request(mux.port(), "GET", "/first?sleep_ms=1500").how == read_status::ok);
  REQUIRE(wait_for_entries(log, 1, 20s).size() == 1);
  REQUIRE(std::rename(log.c_str(), rotated.c_str()) == 0);
  mux.process().send_signal(SIGUSR1);
  REQUIRE(eventually([&] { return ::access(log.c_str(), F_OK) == 0; }, 20s));
  REQUIRE(send_request(mux.port(), "GET", "/second?sleep_ms=1500").how == read_status::ok);
  auto now = wait_for_entries(log, 1, 20s);
  INFO("fcgimux stderr:\n" << mux.stderr_text());
  REQUIRE(now.size() == 1);
  CHECK(field(now[0], "uri") == "/second?sleep_ms=1500");
  auto old = entries_of(rotated);
  REQUIRE(old.size() == 1);
  CHECK(field(old[0], "uri") == "/first?sleep_ms=1500");
}

TEST_CASE("slowlog: a command past --slowlog-timeout is killed, and one runs at a time per worker", "[logs][slowlog]") {
  temp_dir dir;
  const std::string log = dir.file("slow.log");
  // The command says which pid it was given, then outlives its bound.
  fcgimux_instance mux(demo_pool({"-n", "1", "--slow-threshold", "0.3", "--slowlog", log, "--slowlog-command",
                                  "echo traced {pid}; exec sleep 120", "--slowlog-timeout", "8"}));
  REQUIRE(mux.wait_for_workers(1, 10s));
  const std::string pid = std::to_string(mux.worker_pids().at(0));
  // The first request's command still runs (8 s) when the second one turns slow on the same
  // worker: that one's entry is written at once, without a command; the loop serves on meanwhile.
  REQUIRE(send_request(mux.port(), "GET", "/one?sleep_ms=1500").how == read_status::ok);
  REQUIRE(send_request(mux.port(), "GET", "/two?sleep_ms=1500").how == read_status::ok);
  auto e = wait_for_entries(log, 2, 60s);
  INFO("slow log:\n" << read_file(log) << "\nfcgimux stderr:\n" << mux.stderr_text());
  REQUIRE(e.size() == 2);
  // The second is written first: the first waited for its command.
  CHECK(field(e[0], "uri") == "/two?sleep_ms=1500");
  CHECK(e[0].find("command: not run, the one started earlier on this worker still runs\n") != std::string::npos);
  CHECK(field(e[1], "uri") == "/one?sleep_ms=1500");
  CHECK(e[1].find("command = echo traced " + pid +
                  "; exec sleep 120 (killed past --slowlog-timeout, killed by signal 9") != std::string::npos);
  CHECK(e[1].find("\n  traced " + pid + "\n") != std::string::npos);
  // Killed with its process group: no sleep is left behind.
  CHECK(eventually([&] { return mux.worker_pids().size() == 1; }, 20s));
}

TEST_CASE("slowlog: gdb on a php-cgi worker sleeping in a PHP function shows where it sleeps", "[logs][slowlog][gdb]") {
  REQUIRE(::geteuid() == 0);  // ptrace of the worker, /proc/PID/stack
  temp_dir dir;
  ::chmod(dir.path().c_str(), 0755);
  const std::string script = dir.file("sleepy.php"), log = dir.file("slow.log");
  write_file(script, "<?php\nfunction sleepy_fn() { sleep(5); }\nsleepy_fn();\necho \"woke\";\n");
  backend php = php_backend(dir);
  fcgimux_instance mux(behind_fcgimux(php, {"-n", "1", "--slow-threshold", "1", "--slowlog", log, "--slowlog-command",
                                            "gdb -p {pid} -batch -ex bt", "--slowlog-timeout", "60"}));
  REQUIRE(mux.wait_for_workers(1, 10s));
  const std::string pid = std::to_string(mux.worker_pids().at(0));
  auto a = send_request(mux.port(), "GET", "/sleepy.php", {{"SCRIPT_FILENAME", script}}, {}, 120s);
  REQUIRE(a.how == read_status::ok);
  CHECK(a.response.body == "woke");  // gdb detached: the worker went on
  auto e = wait_for_entries(log, 1, 90s);
  INFO("slow log:\n" << (e.empty() ? "" : e[0]) << "\nfcgimux stderr:\n" << mux.stderr_text());
  REQUIRE(e.size() == 1);
  CHECK(field(e[0], "script") == script);
  CHECK(e[0].find("command = gdb -p " + pid + " -batch -ex bt (exited with status 0)") != std::string::npos);
  // The C frames of PHP's sleep(): libc's nanosleep under the executor. Debian's php-cgi has no
  // debug symbols, so its frames are only its exported names (execute_ex), and php-src's
  // zbacktrace, which reads the executor's structures by their types, cannot name sleepy_fn
  // (fcgimux-php-trace can: the next test).
  CHECK(std::regex_search(e[0], std::regex("in (__GI___)?(clock_)?nanosleep|__GI___clock_nanosleep")));
  CHECK(e[0].find("execute_ex") != std::string::npos);
  // The kernel's view of the same moment.
  CHECK(e[0].find("[<0>]") != std::string::npos);
}

#ifdef FCGIMUX_PHP_TRACE_BIN  // built unless -DFCGIMUX_PHP_TRACE=OFF
TEST_CASE("slowlog: fcgimux-php-trace on a php-cgi worker names the PHP function, script and line it sleeps in",
          "[logs][slowlog][ptrace]") {
  REQUIRE(::geteuid() == 0);  // ptrace of the worker
  temp_dir dir;
  ::chmod(dir.path().c_str(), 0755);
  const std::string script = dir.file("sleepy.php"), log = dir.file("slow.log");
  write_file(script, "<?php\nfunction sleepy_fn() { sleep(5); }\nsleepy_fn();\necho \"woke\";\n");
  const std::string command = std::string(FCGIMUX_PHP_TRACE_BIN) + " {pid}";
  backend php = php_backend(dir);
  fcgimux_instance mux(behind_fcgimux(php, {"-n", "1", "--slow-threshold", "1", "--slowlog", log, "--slowlog-command",
                                            command, "--slowlog-timeout", "60"}));
  REQUIRE(mux.wait_for_workers(1, 10s));
  const pid_t worker = mux.worker_pids().at(0);
  const std::string pid = std::to_string(worker);
  auto a = send_request(mux.port(), "GET", "/sleepy.php", {{"SCRIPT_FILENAME", script}}, {}, 120s);
  REQUIRE(a.how == read_status::ok);
  CHECK(a.response.body == "woke");  // the trace let it go on
  auto e = wait_for_entries(log, 1, 90s);
  INFO("slow log:\n" << (e.empty() ? "" : e[0]) << "\nfcgimux stderr:\n" << mux.stderr_text());
  REQUIRE(e.size() == 1);
  CHECK(e[0].find("command = " + std::string(FCGIMUX_PHP_TRACE_BIN) + " " + pid + " (exited with status 0)\n") !=
        std::string::npos);
  // php-fpm's slow log lines: each frame where it was called from. PHP's sleep() inside sleepy_fn
  // (line 2), sleepy_fn() called by the script (line 3), and nothing after: the script's top is no function.
  const std::string at = "\\[0x[0-9a-f]{16}\\] ";
  CHECK(std::regex_search(e[0], std::regex("\n  " + at + "sleep\\(\\) " + literally(script) + ":2\n  " + at +
                                           "sleepy_fn\\(\\) " + literally(script) + ":3\n$")));
  // Let go: not traced, not stopped, and it serves the next request.
  const std::string status = read_file("/proc/" + pid + "/status");
  CHECK(status.find("TracerPid:\t0\n") != std::string::npos);
  // Back in accept(), asleep: a stopped process (T, t) never gets there by itself. Right after its
  // answer a loaded machine may still show it running (R) through PHP's request shutdown.
  CHECK(eventually([&] { return read_file("/proc/" + pid + "/status").find("State:\tS") != std::string::npos; }, 20s));
  write_file(dir.file("quick.php"), "<?php echo 'quick';\n");
  auto b = send_request(mux.port(), "GET", "/quick.php", {{"SCRIPT_FILENAME", dir.file("quick.php")}}, {}, 60s);
  REQUIRE(b.how == read_status::ok);
  CHECK(b.response.body == "quick");
  CHECK(mux.worker_pids() == std::vector<pid_t>{worker});
}
#endif
