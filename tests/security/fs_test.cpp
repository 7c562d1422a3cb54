// SPDX-License-Identifier: ISC
// Issue 21, items 1 to 3: root never follows a symbolic link that a local user swapped in. The
// attacker is fs_attacker.cpp, a real process running as nobody in a directory it owns (as
// /run/php is www-data's); the victim is a root-owned 0600 file elsewhere. Each test gives the
// attacker its chance (and checks that it took it), then checks the victim did not change.

#include "tests/privilege/privilege_support.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <set>
#include <stdexcept>
#include <thread>

using namespace fcgimux::test;

namespace {

constexpr uid_t nobody = 65534;

// Polls `done` every 10 ms for up to `timeout`.
template <typename F>
bool eventually(F done, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

struct stat lstat_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) throw std::runtime_error("lstat " + path);
  return st;
}

// The test's world: a root-only directory (0755 so that nobody can reach its subdirectories) with
// the responder, a victim file root-owned 0600, and a directory the attacker owns.
struct world {
  temp_dir dir;
  std::string responder = install_responder(dir.path());
  std::string victim = dir.file("victim");
  std::string theirs = dir.file("theirs");
  world() {
    write_file(victim, "root's secret\n");
    if (::chmod(victim.c_str(), 0600) != 0) throw std::runtime_error("chmod victim");
    if (::mkdir(theirs.c_str(), 0755) != 0 || ::chown(theirs.c_str(), nobody, nobody) != 0)
      throw std::runtime_error("mkdir " + theirs);
  }
  void check_victim_untouched() const {
    const struct stat st = lstat_of(victim);
    CHECK(st.st_uid == 0);
    CHECK(st.st_gid == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(read_file(victim) == "root's secret\n");
  }
};

// The attacker, as nobody (it drops root itself before anything else), its stdout in a file.
struct attacker {
  std::string out;
  child_process proc;
  attacker(const world& w, std::vector<std::string> args) : out(w.dir.file("attacker.out." + args[0])) {
    args.insert(args.begin(), FS_ATTACKER_BIN);
    spawn_options o;
    o.argv = args;
    o.stdout_path = out;
    proc = child_process(o);
  }
  std::string said() const { return read_file(out); }
  bool wait_for(const std::string& line, std::chrono::milliseconds timeout = 10s) const {
    return eventually([&] { return contains(said(), line) || contains(said(), "error:"); }, timeout) &&
           contains(said(), line);
  }
};

fcgimux_options unix_only(const world& w, const std::string& path) {
  fcgimux_options o;
  o.listen_tcp = false;
  o.args = {"--listen", "unix:" + path, "--stats", "off", "-n", "1", "--user", "nobody",
            "--socket-owner", "www-data", "--socket-mode", "0666"};
  o.command = {w.responder};
  return o;
}

bool wait_listening(const fcgimux_instance& mux, const std::string& path) {
  return eventually([&] { return contains(mux.stderr_text(), "listening on unix:" + path); });
}

}  // namespace

TEST_CASE("a unix listener's path swapped for a symlink right after bind: the target keeps its owner and mode",
          "[security][fs]") {
  REQUIRE(::geteuid() == 0);
  world w;
  attacker a(w, {"race", w.theirs, ".sock", w.victim});
  REQUIRE(a.wait_for("ready"));
  const std::string path = w.theirs + "/fcgimux.sock";
  constexpr int restarts = 5;
  for (int i = 1; i <= restarts; ++i) {
    INFO("restart " << i);
    fcgimux_instance mux(unix_only(w, path));
    REQUIRE(wait_listening(mux, path));
    INFO(mux.stderr_text());
    // The attacker did swap the name every time (the race is the kernel's to lose, not the test's).
    REQUIRE(eventually([&] { return count_of(a.said(), "swapped fcgimux.sock") >= static_cast<std::size_t>(i); }));
    mux.process().send_signal(SIGTERM);
    REQUIRE(mux.process().wait_exit(15s));
  }
  INFO(a.said());
  w.check_victim_untouched();
}

TEST_CASE("a unix listener a SIGHUP adds, swapped for a symlink right after bind: the target is untouched",
          "[security][fs]") {
  REQUIRE(::geteuid() == 0);
  world w;
  const std::string file = w.dir.file("pools.json");
  const std::string pool =
      R"({"name": "www", "user": "nobody", "workers": 1, "socket-owner": "www-data", "socket-mode": "0666", "command": [")" +
      w.responder + R"("], )";
  write_file(file, R"({"stats": "off", "pools": [)" + pool + R"("listen": "127.0.0.1:0"}]})");
  fcgimux_options o;
  o.args = {"-c", file};
  o.listen_tcp = false;
  o.root_workers = false;
  fcgimux_instance mux(o);
  REQUIRE(workers_running(mux, 1, w.responder).size() == 1);  // its signal handlers are set by now
  attacker a(w, {"race", w.theirs, ".sock", w.victim});
  REQUIRE(a.wait_for("ready"));
  constexpr int reloads = 3;
  for (int i = 1; i <= reloads; ++i) {
    const std::string name = "added" + std::to_string(i) + ".sock", path = w.theirs + "/" + name;
    write_file(file, R"({"stats": "off", "pools": [)" + pool + R"("listen": ["127.0.0.1:0", "unix:)" + path + R"("]}]})");
    mux.process().send_signal(SIGHUP);
    INFO("reload " << i << "\n" << mux.stderr_text());
    REQUIRE(wait_listening(mux, path));
    REQUIRE(eventually([&] { return contains(a.said(), "swapped " + name); }));
  }
  INFO(a.said());
  w.check_victim_untouched();
}

TEST_CASE("SIGUSR1 after the access log was swapped for a symlink or a FIFO: refused, the old file kept",
          "[security][fs]") {
  REQUIRE(::geteuid() == 0);
  world w;
  const std::string log = w.theirs + "/access.log";
  fcgimux_options o;
  o.args = {"--stats", "off", "-n", "1", "--user", "nobody", "--access-log", log};
  o.command = {w.responder};
  fcgimux_instance mux(o);
  REQUIRE(ask_identity(mux.address()).find("uid=65534") == 0);
  REQUIRE(eventually([&] { return !read_file(log).empty(); }));
  const bool fifo = GENERATE(false, true);
  INFO((fifo ? "a FIFO" : "a symlink to a root-only file"));
  attacker a(w, fifo ? std::vector<std::string>{"fifo", log} : std::vector<std::string>{"link", log, w.victim});
  REQUIRE(a.wait_for("done"));
  mux.process().send_signal(SIGUSR1);
  REQUIRE(eventually([&] { return contains(mux.stderr_text(), "SIGUSR1: reopening"); }));
  // The writer thread reopens the path (at once: a reopen skips the batch window). A request
  // after that reaches the old file, now at access.log.1, as the writer keeps it; before the fix
  // the line went through the link into the victim, or the writer blocked on the FIFO for good.
  REQUIRE(ask_identity(mux.address()).find("uid=65534") == 0);
  eventually([&] { return count_of(read_file(log + ".1"), "GET /whoami") >= 2 || read_file(w.victim) != "root's secret\n"; });
  INFO(mux.stderr_text());
  CHECK(eventually([&] { return contains(mux.stderr_text(), "cannot reopen " + log); }));  // the log thread's line
  CHECK(contains(mux.stderr_text(), fifo ? "not a regular file" : "symbolic link"));
  CHECK(count_of(read_file(log + ".1"), "GET /whoami") == 2);
  if (!fifo) w.check_victim_untouched();
}

TEST_CASE("an error log path that is a symlink or a FIFO at start-up: refused, nothing written through it",
          "[security][fs]") {
  REQUIRE(::geteuid() == 0);
  world w;
  const std::string log = w.theirs + "/error.log";
  const bool fifo = GENERATE(false, true);
  INFO((fifo ? "a FIFO" : "a symlink to a root-only file"));
  write_file(log, "");
  attacker a(w, fifo ? std::vector<std::string>{"fifo", log} : std::vector<std::string>{"link", log, w.victim});
  REQUIRE(a.wait_for("done"));
  auto r = run_fcgimux({"--listen", "127.0.0.1:0", "--stats", "off", "--error-log", log, "--user", "nobody", "--",
                        w.responder},
                       10s, false);
  INFO(r.stderr_text);
  REQUIRE(r.finished);  // a FIFO nobody reads would block an open that waits
  CHECK_FALSE((r.status.exited && r.status.code == 0));
  CHECK(contains(r.stderr_text, fifo ? "not a regular file" : "symbolic link"));
  w.check_victim_untouched();
}

TEST_CASE("the pid file's temporary names taken in advance, as files or FIFOs: start-up neither blocks nor gives "
          "the attacker the pid file",
          "[security][fs]") {
  REQUIRE(::geteuid() == 0);
  world w;
  const std::string pidfile = w.theirs + "/fcgimux.pid";
  const bool fifo = GENERATE(false, true);
  INFO((fifo ? "FIFOs" : "files of the attacker's"));
  // A name built from the pid is a name the attacker can make first: every pid the next 1500
  // processes of this machine may get, as the kernel hands them out (the next free one, from
  // 300 again past pid_max).
  long last = 0, pid_max = 0;
  std::ifstream("/proc/sys/kernel/ns_last_pid") >> last;
  std::ifstream("/proc/sys/kernel/pid_max") >> pid_max;
  REQUIRE(last > 0);
  REQUIRE(pid_max > 1000);
  std::vector<std::string> args = {"precreate", pidfile + ".", ".tmp", fifo ? "fifo" : "file"};
  std::set<long> guessed;
  for (long p = last + 1; guessed.size() < 1500; ++p) {
    if (p >= pid_max) p = 300;
    if (::access(("/proc/" + std::to_string(p)).c_str(), F_OK) == 0) continue;  // taken
    guessed.insert(p);
    args.push_back(std::to_string(p));
  }
  attacker a(w, args);
  REQUIRE(a.wait_for("done", 60s));
  fcgimux_options o;
  o.args = {"--stats", "off", "-n", "1", "--user", "nobody", "--pidfile", pidfile};
  o.command = {w.responder};
  o.startup_timeout = 15s;
  fcgimux_instance mux(o);  // throws if start-up blocks on a FIFO
  INFO(mux.stderr_text());
  REQUIRE(guessed.count(mux.process().pid()) == 1);  // a pid the attacker did guess
  REQUIRE(eventually([&] { return read_file(pidfile) == std::to_string(mux.process().pid()) + "\n"; }));
  const struct stat st = lstat_of(pidfile);
  CHECK(S_ISREG(st.st_mode));
  CHECK(st.st_uid == 0);
  CHECK((st.st_mode & 022) == 0);
  mux.process().send_signal(SIGTERM);
  REQUIRE(mux.process().wait_exit(15s));
  CHECK(::access(pidfile.c_str(), F_OK) != 0);  // removed: it named this process
}

TEST_CASE("a TMPDIR another user owns is passed over for the workers' runtime directory", "[security][fs]") {
  REQUIRE(::geteuid() == 0);
  world w;
  fcgimux_options o;
  o.args = {"--stats", "off", "-n", "1", "--user", "nobody"};
  o.command = {w.responder};
  // Its owner could rename the directory away and put a link to another one in its place, which
  // the worker sockets' bind and chmod would then follow.
  o.env = {"TMPDIR=" + w.theirs, "XDG_RUNTIME_DIR="};
  fcgimux_instance mux(o);
  INFO(mux.stderr_text());
  REQUIRE(ask_identity(mux.address()).find("uid=65534") == 0);  // its worker's socket exists by now
  CHECK(std::filesystem::is_empty(w.theirs));
  CHECK(eventually([&] { return contains(mux.stderr_text(), "runtime directory: passed over " + w.theirs + " is owned by uid 65534"); }));
}

TEST_CASE("a unix listener in a set-group-ID directory: its group is the one asked for, or start-up says why not",
          "[security][fs]") {
  REQUIRE(::geteuid() == 0);
  world w;
  // As /run/php often is: www-data's, set-group-ID, so every file made there is group www-data.
  const std::string dir = w.dir.file("setgid");
  REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
  REQUIRE(::chown(dir.c_str(), 33, 33) == 0);
  REQUIRE(::chmod(dir.c_str(), 02775) == 0);
  const std::string path = dir + "/fcgimux.sock";
  SECTION("the directory's own group: served, the file is www-data's") {
    fcgimux_instance mux(unix_only(w, path));  // --socket-owner www-data: group www-data
    REQUIRE(wait_listening(mux, path));
    const struct stat st = lstat_of(path);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK(st.st_uid == 33);
    CHECK(st.st_gid == 33);
    CHECK((st.st_mode & 0777) == 0666);
  }
  SECTION("another group: refused at start with the reason, no socket left") {
    fcgimux_options o = unix_only(w, path);
    for (auto& a : o.args)
      if (a == "www-data") a = "www-data:nogroup";
    auto args = o.args;
    args.push_back("--");
    args.push_back(w.responder);
    auto r = run_fcgimux(args, 10s, false);
    INFO(r.stderr_text);
    REQUIRE(r.finished);
    CHECK_FALSE((r.status.exited && r.status.code == 0));
    CHECK(contains(r.stderr_text, dir + " is set-group-ID (group 33): a socket there cannot get group 65534"));
    struct stat st {};
    CHECK(::lstat(path.c_str(), &st) != 0);
  }
}
