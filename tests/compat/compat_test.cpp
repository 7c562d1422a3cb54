// SPDX-License-Identifier: ISC
// fcgimux started as kfcgi and as spawn-fcgi (issue 16): the real binary through a link of that
// name, with their command lines, php-cgi, a kcgi-style program and nginx. Also --daemon and
// --pidfile in fcgimux's own mode.

#include "backends.hpp"
#include "compat_support.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nginx_instance.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/run_program.hpp"
#include "tests/support/test_data.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

// The listen() backlog of a listening socket as ss(8) shows it (a listener's Send-Q).
long listen_backlog(const std::vector<std::string>& filter, bool unix_socket) {
  std::vector<std::string> argv = {"ss", "-H", "-l", "-n", unix_socket ? "-x" : "-t"};
  argv.insert(argv.end(), filter.begin(), filter.end());
  auto r = run_child(argv, 10s);
  std::istringstream in(r.out);
  std::string netid, state;
  long recv_q = -1, send_q = -1;
  if (unix_socket) in >> netid;
  in >> state >> recv_q >> send_q;
  UNSCOPED_INFO("ss: " << r.out << r.err);
  return state == "LISTEN" ? send_q : -1;
}

// How many TCP listening sockets process `pid` holds.
int tcp_listeners_of(pid_t pid) {
  auto r = run_child({"ss", "-H", "-l", "-t", "-n", "-p"}, 10s);
  std::istringstream in(r.out);
  std::string line;
  int n = 0;
  const std::string mark = "pid=" + std::to_string(pid) + ",";
  while (std::getline(in, line)) n += line.find(mark) != std::string::npos;
  return n;
}

std::string environ_of(pid_t pid) { return read_file("/proc/" + std::to_string(pid) + "/environ"); }

// One request for /data?bytes=N straight to a FastCGI address; true if the body is right.
bool fcgi_ok(const endpoint& at, const backend& b, std::size_t n, const std::string& extra_query = "") {
  fcgi_client c(at);
  if (!c.connected()) return false;
  auto r = backend_request(b, "GET", "/data?bytes=" + std::to_string(n) + extra_query);
  if (c.exchange(r, 10s) != read_status::ok) return false;
  return parse_cgi_response(c.response(1).out).body == pattern_bytes(n);
}

// One request through nginx; true for a 200 with the right body.
bool http_ok(std::uint16_t port, std::size_t n) {
  auto r = http_request(port, "GET", "/data?bytes=" + std::to_string(n), {}, 10s);
  return r.ok && r.status == 200 && r.body == pattern_bytes(n);
}

// Clients sending requests without pause until finish(); counts what worked and what did not.
class load {
 public:
  load(int clients, std::function<bool(int)> one) {
    for (int t = 0; t < clients; ++t)
      threads_.emplace_back([this, one, t] {
        for (int i = 0; !stop_; ++i) {
          if (one(t * 100000 + i))
            ++ok_;
          else
            ++failed_;
        }
      });
  }
  ~load() { finish(); }
  void finish() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  int ok() const { return ok_; }
  int failed() const { return failed_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0}, failed_{0};
  std::vector<std::thread> threads_;
};

backend kcgi_program() {
  backend b = demo_backend();
  b.command.push_back("--kcgi");  // exits on FCGI_KEEP_CONN, one request per connection
  return b;
}

// `kfcgi -d -p / -s SOCK FLAGS -- PROGRAM` with a kcgi program, as the tests below start it.
child_process start_kfcgi(const linked_binary& bin, const std::string& sock, const std::vector<std::string>& flags) {
  std::vector<std::string> args = {"-d", "-p", "/", "-s", sock};
  args.insert(args.end(), flags.begin(), flags.end());
  args.push_back("--");
  const backend kcgi = kcgi_program();
  args.insert(args.end(), kcgi.command.begin(), kcgi.command.end());
  return start(bin, args);
}

}  // namespace

TEST_CASE("spawn-fcgi -n serves php-cgi as -u's user on its address and port with -F workers, -b backlog and -C",
          "[compat]") {
  linked_binary bin("spawn-fcgi");
  temp_dir dir;
  const backend php = php_backend(dir);
  // php-cgi as nobody must read the script.
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  REQUIRE(::chmod(php.script_filename.c_str(), 0644) == 0);
  const auto port = std::to_string(free_tcp_port());
  std::vector<std::string> args = {"-n", "-a", "127.0.0.1", "-p", port, "-F", "4", "-b", "50", "-C", "0"};
  if (::geteuid() == 0) args.insert(args.end(), {"-u", "nobody"});
  args.push_back("--");
  args.insert(args.end(), php.command.begin(), php.command.end());
  child_process p = start_exactly(bin, args);
  REQUIRE(eventually([&] { return printed(bin, "listening on 127.0.0.1:" + port); }, 10s));
  // Until each has exec'd php-cgi, a worker is fcgimux's forked child: root, with fcgimux's environment.
  REQUIRE(eventually(
      [&] {
        const auto workers = p.children();
        return workers.size() == 4 && std::all_of(workers.begin(), workers.end(), [](pid_t w) {
                 return read_file("/proc/" + std::to_string(w) + "/comm") == "php-cgi\n";
               });
      },
      10s));
  INFO(stderr_of(bin));
  if (::geteuid() == 0)
    for (pid_t w : p.children()) CHECK(uid_of(w) == 65534);
  const endpoint at = endpoint::tcp(static_cast<std::uint16_t>(std::stoi(port)));
  for (int i = 0; i < 20; ++i) CHECK(fcgi_ok(at, php, 100 + static_cast<std::size_t>(i)));
  CHECK(p.running());  // -n: in the foreground, supervising
  CHECK(listen_backlog({"sport", "=", ":" + port}, false) == 50);
  // -C: PHP_FCGI_CHILDREN reaches every worker.
  for (pid_t w : p.children()) CHECK(environ_of(w).find("PHP_FCGI_CHILDREN=0") != std::string::npos);
  // No port spawn-fcgi would not have opened: no stats endpoint.
  CHECK(tcp_listeners_of(p.pid()) == 1);
  CHECK_FALSE(printed(bin, "stats on"));
  p.stop();
  CHECK(p.status().has_value());
}

TEST_CASE("spawn-fcgi without -n daemonises, writes -P, serves, and stops on SIGTERM", "[compat][daemon]") {
  linked_binary bin("spawn-fcgi");
  temp_dir dir;
  const backend php = php_backend(dir);
  const auto port = std::to_string(free_tcp_port());
  const std::string pidfile = bin.file("spawn.pid");
  std::vector<std::string> args = {"-a", "127.0.0.1", "-p", port, "-F", "2", "-C", "0", "-P", pidfile, "--"};
  args.insert(args.end(), php.command.begin(), php.command.end());
  child_process p = start(bin, args);
  auto st = p.wait_exit(10s);
  INFO(stderr_of(bin));
  REQUIRE(st.has_value());
  CHECK(st->exited);
  CHECK(st->code == 0);
  daemon_guard d;
  d.pid = pid_in(pidfile);
  REQUIRE(d.pid > 0);
  CHECK(d.pid != p.pid());
  CHECK(process_alive(d.pid));
  INFO("daemon threads: " << threads_of(d.pid));
  CHECK(printed(bin, "running in the background as pid " + std::to_string(d.pid)));
  CHECK(::getsid(d.pid) == d.pid);  // a session of its own: no controlling terminal
  for (int fd = 0; fd <= 2; ++fd) CHECK(fd_target(d.pid, fd) == "/dev/null");
  REQUIRE(eventually([&] { return children_of(d.pid).size() == 2; }, 10s));
  const auto workers = children_of(d.pid);
  const endpoint at = endpoint::tcp(static_cast<std::uint16_t>(std::stoi(port)));
  for (int i = 0; i < 10; ++i) CHECK(fcgi_ok(at, php, 50));
  CHECK(tcp_listeners_of(d.pid) == 1);

  REQUIRE(::kill(d.pid, SIGTERM) == 0);
  const bool gone = eventually([&] { return !process_alive(d.pid); }, 15s);
  if (!gone) WARN("the daemon's threads: " << threads_of(d.pid));
  CHECK(gone);
  CHECK_FALSE(exists(pidfile));
  for (pid_t w : workers) CHECK_FALSE(process_alive(w));
}

TEST_CASE("a daemon whose start-up fails: the command exits 1 with the error, no pid file, nothing left",
          "[compat][daemon]") {
  linked_binary bin("spawn-fcgi");
  endpoint taken = endpoint::tcp(0);
  unique_fd holder = listen_on(taken);  // the port is in use
  const std::string pidfile = bin.file("spawn.pid");
  child_process p = start(bin, {"-a", "127.0.0.1", "-p", std::to_string(taken.port), "-P", pidfile, "--", demo_bin});
  auto st = p.wait_exit(10s);
  const std::string err = stderr_of(bin);
  INFO(err);
  REQUIRE(st.has_value());
  CHECK(st->exited);
  CHECK(st->code == 1);
  CHECK(err.find("cannot listen on 127.0.0.1:" + std::to_string(taken.port)) != std::string::npos);
  CHECK_FALSE(exists(pidfile));
  CHECK(err.find("running in the background") == std::string::npos);
}

TEST_CASE("fcgimux --daemon --pidfile returns once serving, and the file names the daemon until it stops",
          "[compat][daemon]") {
  temp_dir dir("fcgimux-daemon");
  const std::string pidfile = dir.file("fcgimux.pid");
  spawn_options s;
  s.argv = {fcgimux_bin, "--daemon", "--pidfile", pidfile, "--listen", "127.0.0.1:0", "--stats", "off", "-n", "2"};
  for (auto& a : root_user_args({})) s.argv.push_back(a);
  s.argv.insert(s.argv.end(), {"--", demo_bin});
  s.stderr_path = dir.file("stderr.txt");
  child_process p(s);
  auto st = p.wait_exit(10s);
  const std::string err = read_file(s.stderr_path);
  INFO(err);
  REQUIRE(st.has_value());
  CHECK(st->code == 0);
  daemon_guard d;
  d.pid = pid_in(pidfile);
  REQUIRE(d.pid > 0);
  CHECK(read_file(pidfile) == std::to_string(d.pid) + "\n");
  // What it printed before it went to the background reached the terminal.
  const auto port = find_listening_port(err, "listening on 127.0.0.1:");
  REQUIRE(port != 0);
  CHECK(fcgi_ok(endpoint::tcp(port), demo_backend(), 10));
  REQUIRE(eventually([&] { return children_of(d.pid).size() == 2; }, 10s));
  REQUIRE(::kill(d.pid, SIGTERM) == 0);
  CHECK(eventually([&] { return !process_alive(d.pid); }, 15s));
  CHECK_FALSE(exists(pidfile));
}

TEST_CASE("kfcgi -d serves a kcgi program through nginx on its unix socket", "[compat][kfcgi]") {
  linked_binary bin("kfcgi");
  const std::string sock = bin.file("httpd.sock");
  child_process p = start_kfcgi(bin, sock, {"-n", "2"});
  const backend kcgi = kcgi_program();
  REQUIRE(eventually([&] { return printed(bin, "listening on unix:" + sock); }, 10s));
  REQUIRE(eventually([&] { return p.children().size() == 2; }, 10s));
  const auto workers = p.children();
  nginx_instance nginx({.upstream = endpoint::unix_socket(sock), .backups = {}, .script_filename = {}});
  for (int i = 0; i < 30; ++i) CHECK(http_ok(nginx.port(), 10 + 100 * static_cast<std::size_t>(i)));
  INFO(stderr_of(bin) << nginx.error_log());
  // kfcgi's backlog: twice the pool.
  CHECK(listen_backlog({"src", sock}, true) == 4);
  // No KEEP_CONN reached the kcgi program (it would have exited), and no port was opened.
  CHECK(p.children() == workers);
  CHECK_FALSE(printed(bin, "switching to a connection per request"));
  CHECK(tcp_listeners_of(p.pid()) == 0);
  p.stop();
  CHECK_FALSE(exists(sock));
}

TEST_CASE("kfcgi: a worker's exit does not end the pool", "[compat][kfcgi]") {
  linked_binary bin("kfcgi");
  const std::string sock = bin.file("httpd.sock");
  child_process p = start_kfcgi(bin, sock, {"-n", "2"});
  const backend kcgi = kcgi_program();
  REQUIRE(eventually([&] { return p.children().size() == 2; }, 10s));
  const endpoint at = endpoint::unix_socket(sock);
  for (int sig : {SIGKILL, SIGTERM}) {
    INFO("signal " << sig);
    const auto before = p.children();
    REQUIRE(before.size() == 2);
    REQUIRE(::kill(before.front(), sig) == 0);
    // A replacement comes; the other worker and fcgimux stay.
    CHECK(eventually(
        [&] {
          auto now = p.children();
          return now.size() == 2 && std::find(now.begin(), now.end(), before.front()) == now.end();
        },
        10s));
    CHECK(p.running());
    for (int i = 0; i < 10; ++i) CHECK(fcgi_ok(at, kcgi, 20));
  }
  INFO(stderr_of(bin));
  CHECK(p.running());
}

TEST_CASE("kfcgi -r -N 4 -w 2 grows under load and shrinks after idle", "[compat][kfcgi]") {
  linked_binary bin("kfcgi");
  const std::string sock = bin.file("httpd.sock");
  child_process p = start_kfcgi(bin, sock, {"-r", "-n", "2", "-N", "4", "-w", "2"});
  const backend kcgi = kcgi_program();
  REQUIRE(eventually([&] { return p.children().size() == 2; }, 10s));
  CHECK(listen_backlog({"src", sock}, true) == 8);  // twice -N
  const endpoint at = endpoint::unix_socket(sock);
  std::size_t most = 0;
  {
    load l(6, [&](int) { return fcgi_ok(at, kcgi, 10, "&sleep_ms=100"); });
    CHECK(eventually(
        [&] {
          most = std::max(most, p.children().size());
          return most == 4;
        },
        10s));
    // Held at the maximum while the load lasts.
    for (int i = 0; i < 25; ++i) {
      most = std::max(most, p.children().size());
      std::this_thread::sleep_for(20ms);
    }
    l.finish();
    INFO(stderr_of(bin));
    CHECK(l.failed() == 0);
    CHECK(l.ok() > 0);
  }
  CHECK(most == 4);
  // Idle for -w seconds: back to -n.
  CHECK(eventually([&] { return p.children().size() == 2; }, 15s));
  INFO(stderr_of(bin));
  CHECK(fcgi_ok(at, kcgi, 10));
}

TEST_CASE("kfcgi: SIGHUP under load through nginx fails no request and replaces every worker", "[compat][kfcgi]") {
  linked_binary bin("kfcgi");
  const std::string sock = bin.file("httpd.sock");
  child_process p = start_kfcgi(bin, sock, {"-n", "2"});
  REQUIRE(eventually([&] { return p.children().size() == 2; }, 10s));
  nginx_instance nginx({.upstream = endpoint::unix_socket(sock), .backups = {}, .script_filename = {}});
  load l(4, [&](int i) { return http_ok(nginx.port(), 1000 + static_cast<std::size_t>(i % 7) * 3000); });
  std::this_thread::sleep_for(300ms);
  for (int round = 0; round < 2; ++round) {
    const auto old = p.children();
    REQUIRE(old.size() == 2);
    p.send_signal(SIGHUP);
    CHECK(eventually(
        [&] {
          auto now = p.children();
          if (now.size() != 2) return false;
          for (pid_t o : old)
            if (std::find(now.begin(), now.end(), o) != now.end()) return false;
          return true;
        },
        15s));
    std::this_thread::sleep_for(300ms);
  }
  l.finish();
  INFO(stderr_of(bin) << nginx.error_log());
  CHECK(l.failed() == 0);
  CHECK(l.ok() > 50);
  CHECK(p.running());
}
