// SPDX-License-Identifier: ISC
// Issue 21, "what workers get": a worker (php-cgi, run as nobody by a root fcgimux) reads its own
// /proc/self/status and /proc/self/environ and answers them; its stderr goes to fcgimux's log
// escaped; the root group and a jail or program the workers' user can write are warned of.

#include "tests/support/fcgi_client.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <algorithm>
#include <functional>
#include <sstream>
#include <string>
#include <vector>
#include <thread>

namespace fcgimux::test {
namespace {

using namespace std::chrono_literals;

// Answers its own status, its whole environment (NUL-separated entries turned into lines) and,
// with ?stderr, writes an escape-laden line to its fd 2, which fcgimux logs.
constexpr const char* self_script = R"(<?php
header('Content-Type: text/plain');
if (isset($_GET['stderr'])) {
  file_put_contents('php://stderr', "worker-says \x1b[2J\x1b[31mred\x1b[0m back\rover\x08\x07 \"q\" \\ end\n");
}
echo file_get_contents('/proc/self/status');
echo "--environ--\n", str_replace("\0", "\n", file_get_contents('/proc/self/environ'));
)";

// A directory and script every worker user can read (temp dirs are 0700, root's).
struct script_dir {
  temp_dir dir{"fcgimux-security-workers"};
  std::string script = dir.file("self.php");
  script_dir() {
    ::chmod(dir.path().c_str(), 0755);
    write_file(script, self_script);
  }
};

std::string ask(const fcgimux_instance& mux, const std::string& script, const std::string& query = "") {
  fcgi_client c(mux.address());
  REQUIRE(c.connected());
  request_spec r;
  r.params = cgi_params("GET", "/self.php" + (query.empty() ? "" : "?" + query));
  r.params.emplace_back("SCRIPT_FILENAME", script);
  REQUIRE(c.exchange(r, 20s) == read_status::ok);
  return c.response(1).out;
}

// The value of "Key:" in /proc/PID/status text ("" if absent).
std::string status_field(const std::string& status, const std::string& key) {
  const auto at = status.find("\n" + key + ":");
  if (at == std::string::npos) return {};
  auto start = status.find_first_not_of(" \t", at + key.size() + 2);
  return status.substr(start, status.find('\n', start) - start);
}

// Environment entries ("NAME=VALUE" lines) after the marker.
std::string environ_part(const std::string& out) {
  const auto at = out.find("--environ--\n");
  return at == std::string::npos ? std::string() : "\n" + out.substr(at + 12);
}

bool has_entry(const std::string& env, const std::string& entry) { return env.find("\n" + entry + "\n") != std::string::npos; }
bool has_name(const std::string& env, const std::string& name) { return env.find("\n" + name + "=") != std::string::npos; }

fcgimux_options php_pool(const std::vector<std::string>& args) {
  fcgimux_options o;
  o.args = {"-n", "1", "--stats", "off"};
  o.args.insert(o.args.end(), args.begin(), args.end());
  o.command = {php_cgi_bin};
  o.env = {"PHP_FCGI_CHILDREN=0", "SECURITY_TEST_SECRET=s3cret-value", "SECURITY_TEST_PASSED=passed-value"};
  return o;
}

bool wait_for_text(const fcgimux_instance& mux, const std::string& text, std::size_t count,
                   std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const std::string all = mux.stderr_text();
    std::size_t n = 0;
    for (auto at = all.find(text); at != std::string::npos; at = all.find(text, at + 1)) ++n;
    if (n >= count) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace

TEST_CASE("a worker of another user has an empty capability bounding set, and NoNewPrivs as --no-new-privs says",
          "[security][workers]") {
  REQUIRE(::geteuid() == 0);
  script_dir d;
  const std::string nnp = GENERATE(as<std::string>{}, "yes", "no");
  fcgimux_instance mux(php_pool({"--user", "nobody", "--no-new-privs", nnp}));
  INFO(mux.stderr_text());
  const std::string status = ask(mux, d.script);
  INFO(status);
  CHECK(status_field(status, "Uid").rfind("65534", 0) == 0);
  // fcgimux's own set keeps chown, kill, setuid...: a setuid-root program run by this worker
  // would get them back without this.
  CHECK(status_field(status, "CapBnd") == "0000000000000000");
  CHECK(status_field(status, "CapPrm") == "0000000000000000");
  CHECK(status_field(status, "CapAmb") == "0000000000000000");
  CHECK(status_field(status, "NoNewPrivs") == (nnp == "yes" ? "1" : "0"));
  // Nothing here to warn of: the program and its directories are root's.
  CHECK(mux.stderr_text().find("warning: its workers") == std::string::npos);

  // A pool asked to run as root keeps what it had: fcgimux's set, less the CAP_SETPCAP kept for
  // emptying the others'.
  fcgimux_instance as_root(php_pool({"--user", "root", "--no-new-privs", nnp}));
  INFO(as_root.stderr_text());
  const std::string root_status = ask(as_root, d.script);
  INFO(root_status);
  const std::string ours = read_file("/proc/" + std::to_string(as_root.process().pid()) + "/status");
  const std::uint64_t fcgimux_set = std::stoull(status_field(ours, "CapBnd"), nullptr, 16);
  const std::uint64_t worker_set = std::stoull(status_field(root_status, "CapBnd"), nullptr, 16);
  CHECK(worker_set != 0);
  CHECK(worker_set == (fcgimux_set & ~(std::uint64_t{1} << 8)));
}

TEST_CASE("with --clear-env yes a worker sees none of fcgimux's variables but PATH, --pass-env and --env",
          "[security][workers]") {
  REQUIRE(::geteuid() == 0);
  script_dir d;
  {
    fcgimux_instance mux(php_pool({"--user", "nobody", "--clear-env", "yes", "--pass-env", "SECURITY_TEST_PASSED",
                                   "--env", "SECURITY_TEST_SET=set-value"}));
    INFO(mux.stderr_text());
    const std::string env = environ_part(ask(mux, d.script));
    INFO(env);
    REQUIRE(!env.empty());
    CHECK(env.find("s3cret-value") == std::string::npos);
    CHECK_FALSE(has_name(env, "HOME"));
    CHECK_FALSE(has_name(env, "PHP_FCGI_CHILDREN"));
    CHECK(has_entry(env, "SECURITY_TEST_PASSED=passed-value"));
    CHECK(has_entry(env, "SECURITY_TEST_SET=set-value"));
    CHECK(has_entry(env, std::string("PATH=") + ::getenv("PATH")));
  }
  // The default, --clear-env no: everything, with --env on top.
  fcgimux_instance mux(php_pool({"--user", "nobody", "--env", "SECURITY_TEST_PASSED=replaced"}));
  INFO(mux.stderr_text());
  const std::string env = environ_part(ask(mux, d.script));
  INFO(env);
  CHECK(has_entry(env, "SECURITY_TEST_SECRET=s3cret-value"));
  CHECK(has_entry(env, "SECURITY_TEST_PASSED=replaced"));
  CHECK_FALSE(has_entry(env, "SECURITY_TEST_PASSED=passed-value"));
}

TEST_CASE("a worker's stderr line reaches fcgimux's log escaped, on one line", "[security][workers]") {
  REQUIRE(::geteuid() == 0);
  script_dir d;
  fcgimux_instance mux(php_pool({"--user", "nobody"}));
  ask(mux, d.script, "stderr=1");
  const std::string expected =
      R"(: worker-says \x1B[2J\x1B[31mred\x1B[0m back\x0Dover\x08\x07 \x22q\x22 \x5C end)";
  REQUIRE(wait_for_text(mux, expected, 1, 10s));
  const std::string log = mux.stderr_text();
  INFO(log);
  // The line as logged: one line, with the worker's pid and pool in front.
  const auto at = log.find(expected);
  const auto line_start = log.rfind('\n', at) + 1;
  const std::string line = log.substr(line_start, log.find('\n', at) - line_start);
  CHECK(line.find("(pool default)") != std::string::npos);
  CHECK(line.find("worker ") != std::string::npos);
  // Not a raw control byte anywhere in the log.
  CHECK(log.find('\x1b') == std::string::npos);
  CHECK(log.find('\r') == std::string::npos);
  CHECK(log.find('\x07') == std::string::npos);
}

TEST_CASE("the root group, and a jail or program the workers' user can write, are warned of at start and on SIGHUP",
          "[security][workers]") {
  REQUIRE(::geteuid() == 0);
  const passwd* nobody = ::getpwnam("nobody");
  REQUIRE(nobody != nullptr);

  SECTION("--group 0") {
    script_dir d;
    fcgimux_instance mux(php_pool({"--user", "nobody", "--group", "0"}));
    const std::string line = "pool default: warning: its workers are in the root group (gid 0)";
    CHECK(wait_for_text(mux, line, 1, 10s));
    mux.process().send_signal(SIGHUP);
    CHECK(wait_for_text(mux, line, 2, 20s));
    INFO(mux.stderr_text());
  }

  SECTION("a program the workers' user owns") {
    temp_dir dir("fcgimux-security-program");
    ::chmod(dir.path().c_str(), 0755);
    const std::string program = dir.file("app.fcgi");
    write_file(program, "#!/bin/sh\nexec sleep 60\n", true);
    REQUIRE(::chown(program.c_str(), nobody->pw_uid, nobody->pw_gid) == 0);
    fcgimux_options o;
    o.args = {"-n", "1", "--stats", "off", "--user", "nobody"};
    o.command = {program};
    fcgimux_instance mux(o);
    const std::string line = "pool default: warning: its workers' user nobody can write " + program +
                             ": a worker could replace the program";
    CHECK(wait_for_text(mux, line, 1, 10s));
    mux.process().send_signal(SIGHUP);
    CHECK(wait_for_text(mux, line, 2, 20s));
    INFO(mux.stderr_text());
  }

  SECTION("a directory above the program that the workers' user owns") {
    temp_dir dir("fcgimux-security-program");
    ::chmod(dir.path().c_str(), 0755);
    const std::string bin = dir.file("bin");
    REQUIRE(::mkdir(bin.c_str(), 0755) == 0);
    REQUIRE(::chown(bin.c_str(), nobody->pw_uid, nobody->pw_gid) == 0);
    const std::string program = bin + "/app.fcgi";
    write_file(program, "#!/bin/sh\nexec sleep 60\n", true);
    fcgimux_options o;
    o.args = {"-n", "1", "--stats", "off", "--user", "nobody"};
    o.command = {program};
    fcgimux_instance mux(o);
    CHECK(wait_for_text(mux, "pool default: warning: its workers' user nobody can write " + bin + ": ", 1, 10s));
    INFO(mux.stderr_text());
  }

  SECTION("a jail the workers' user owns") {
    temp_dir dir("fcgimux-security-jail");
    ::chmod(dir.path().c_str(), 0755);
    const std::string jail = dir.file("jail");
    REQUIRE(::mkdir(jail.c_str(), 0755) == 0);
    REQUIRE(::chown(jail.c_str(), nobody->pw_uid, nobody->pw_gid) == 0);
    fcgimux_options o;
    o.args = {"-n", "1", "--stats", "off", "--user", "nobody", "--chroot", jail};
    o.command = {"/app.fcgi"};  // not there: the warning comes first, at start-up
    fcgimux_instance mux(o);
    CHECK(wait_for_text(mux, "pool default: warning: its workers' user nobody can write " + jail +
                                 ": a worker could change its jail",
                        1, 10s));
    INFO(mux.stderr_text());
  }
}

}  // namespace fcgimux::test

namespace fcgimux::test {
namespace {

// "PID syscall(args) = result" lines strace wrote for one system call name.
std::vector<std::string> calls_of(const std::string& trace, const std::string& name) {
  std::vector<std::string> out;
  std::istringstream in(trace);
  for (std::string line; std::getline(in, line);)
    if (line.find(" " + name + "(") != std::string::npos) out.push_back(line);
  return out;
}

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds bound) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

}  // namespace

TEST_CASE("workers are signalled through pidfds only: no kill() of a pid or group that may have been reused",
          "[security][workers]") {
  temp_dir dir("fcgimux-security-pidfd");
  const std::string trace = dir.file("trace.txt");
  spawn_options s;
  s.argv = {"/usr/bin/strace", "-f", "-qq", "-e", "trace=kill,tkill,tgkill,pidfd_open,pidfd_send_signal", "-o", trace,
            fcgimux_bin, "--listen", "127.0.0.1:0", "--stats", "off", "-n", "2"};
  for (auto& a : root_user_args({})) s.argv.push_back(a);
  s.argv.insert(s.argv.end(), {"--", demo_bin});
  s.stderr_path = dir.file("stderr.txt");
  // LeakSanitizer cannot stop the world of a traced process (an ASan build would abort at exit);
  // ASan's other checks stay.
  s.env = {"ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"};
  child_process strace(s);
  REQUIRE(eventually([&] { return read_file(s.stderr_path).find("listening on") != std::string::npos; }, 20s));
  pid_t mux = 0;
  REQUIRE(eventually(
      [&] {
        const auto c = children_of(strace.pid());
        if (c.size() == 1) mux = c.front();
        return mux > 0 && children_of(mux).size() == 2;
      },
      20s));
  const auto workers = children_of(mux);
  REQUIRE(::kill(mux, SIGTERM) == 0);
  auto st = strace.wait_exit(30s);
  REQUIRE(st.has_value());
  const std::string text = read_file(trace);
  INFO(text);
  // One pidfd per worker, and SIGTERM through it.
  for (pid_t w : workers) {
    const auto opened = calls_of(text, "pidfd_open");
    CHECK(std::any_of(opened.begin(), opened.end(), [&](const std::string& l) {
      return l.find("pidfd_open(" + std::to_string(w) + ",") != std::string::npos;
    }));
  }
  const auto sent = calls_of(text, "pidfd_send_signal");
  CHECK(std::count_if(sent.begin(), sent.end(), [](const std::string& l) { return l.find("SIGTERM") != std::string::npos; }) >= 2);
  // fcgimux itself (its pid leads each line) never names a worker or a process group by number.
  for (const auto& call : {"kill", "tkill", "tgkill"})
    for (const auto& l : calls_of(text, call)) {
      if (l.rfind(std::to_string(mux) + " ", 0) != 0) continue;
      CHECK(l.find(std::string(call) + "(-") == std::string::npos);
      for (pid_t w : workers) CHECK(l.find(std::string(call) + "(" + std::to_string(w) + ",") == std::string::npos);
    }
}

}  // namespace fcgimux::test
