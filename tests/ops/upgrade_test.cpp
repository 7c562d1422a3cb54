// SPDX-License-Identifier: ISC
// SIGUSR2 replaces fcgimux itself (issue 15, the binary upgrade): under load behind nginx, and on
// a unix listener, with no failed request and the very same listening socket; a new binary that
// exits at once or never gets ready leaves the old process serving; systemd hears MAINPID=.

#include "backends.hpp"
#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/ops/nginx_load.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nginx_instance.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/test_data.hpp"
#include "tests/support/unique_fd.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

int read_pid(const std::string& path) {
  std::ifstream in(path);
  int pid = 0;
  in >> pid;
  return pid;
}

// The inode of the socket listening on 127.0.0.1:port, from /proc/net/tcp; 0 if none.
unsigned long listening_inode(std::uint16_t port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  char want[16];
  std::snprintf(want, sizeof want, "0100007F:%04X", port);
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, state, queues, timer, retr, uid, timeout;
    unsigned long inode = 0;
    f >> slot >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
    if (local == want && state == "0A") return inode;
  }
  return 0;
}

// The pid in the demo worker's default answer, "hello from pid N".
pid_t served_by(const std::string& body) {
  const auto at = body.rfind(' ');
  return at == std::string::npos ? 0 : static_cast<pid_t>(std::atoi(body.c_str() + at + 1));
}

// Stops the process that took over (not the test's child: the old fcgimux started it) and waits.
void stop_new(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  if (!eventually([&] { return !process_alive(pid); }, 15s)) ::kill(pid, SIGKILL);
}

// A bound datagram socket standing in for systemd's $NOTIFY_SOCKET.
struct notify_socket {
  unique_fd fd;
  explicit notify_socket(const std::string& path) {
    fd = unique_fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size() + 1);
    REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  // Every datagram until one contains `want` (returned), or "" after `timeout`.
  std::string until(const std::string& want, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd.get(), POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
      char buf[4096];
      const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
      if (n > 0 && std::string(buf, static_cast<std::size_t>(n)).find(want) != std::string::npos)
        return std::string(buf, static_cast<std::size_t>(n));
    }
  }
};

}  // namespace

TEST_CASE("SIGUSR2 under load behind nginx: the new process serves on the same socket, no request failed",
          "[ops][upgrade]") {
  temp_dir dir;
  backend b = php_backend(dir);
  const std::string pidfile = dir.file("fcgimux.pid");
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "4", "--stats", "127.0.0.1:0", "--pidfile", pidfile}));
  REQUIRE(mux.wait_for_workers(4, 10s));
  REQUIRE(eventually([&] { return stats_of(mux)["pool"]["idle"] == 4; }, 10s));
  CHECK(read_pid(pidfile) == mux.process().pid());
  const unsigned long inode = listening_inode(mux.port());
  REQUIRE(inode != 0);
  nginx_instance nginx({.upstream = mux.address(),
                        .keepalive = true,
                        .keepalive_connections = 16,
                        .backups = {},
                        .script_filename = b.script_filename});

  nginx_load load(nginx.port(), 20);

  // Waits for answers, not for time: a busy machine serves fewer in any fixed span.
  auto served_more = [&](int n) {
    const int from = load.ok();
    return eventually([&] { return load.ok() >= from + n; }, 30s);
  };
  REQUIRE(served_more(50));
  const pid_t old_pid = mux.process().pid();
  const auto old_workers = mux.worker_pids();
  mux.process().send_signal(SIGUSR2);
  // The old process exits once the new one serves and its front connections, each as soon as it
  // has no request in flight, have gone over to it: well before nginx would recycle them itself
  // (keepalive_requests, 1000 requests each, about 10 s at this rate).
  const auto status = mux.process().wait_exit(6s);
  const pid_t new_pid = read_pid(pidfile);
  const bool new_one_serves = served_more(100);  // load on the new process alone
  load.stop();

  INFO("fcgimux stderr (both processes):\n" << mux.stderr_text());
  INFO("nginx error log:\n" << nginx.error_log());
  REQUIRE(status.has_value());
  CHECK(status->exited);
  CHECK(status->code == 0);
  CHECK(new_pid != old_pid);
  CHECK(process_alive(new_pid));
  CHECK(listening_inode(mux.port()) == inode);  // the very same socket, never re-bound
  const auto failures = load.failures();
  INFO(failures.size() << " failed, first: " << (failures.empty() ? "" : failures.front()));
  CHECK(failures.empty());
  CHECK(new_one_serves);
  for (pid_t w : old_workers) {
    INFO("old worker " << w);
    CHECK(eventually([&] { return !process_alive(w); }, 10s));
  }
  CHECK(children_of(new_pid).size() == 4);
  // The stats port went over too; the new process counts what it served.
  auto s = stats_of(mux);
  CHECK(s["requests"]["completed"].get<int>() > 0);
  CHECK(s["requests"]["failed"] == 0);
  CHECK(s["upgrade"]["state"] == "idle");
  stop_new(new_pid);
  CHECK_FALSE(std::filesystem::exists(pidfile));
}

TEST_CASE("SIGUSR2 with a unix listener: same socket file and inode, never missing, no request failed",
          "[ops][upgrade]") {
  temp_dir dir;
  const std::string path = dir.file("fcgimux.sock");
  const std::string pidfile = dir.file("fcgimux.pid");
  fcgimux_instance mux(
      fcgimux_options{.args = {"-n", "2", "--stats", "127.0.0.1:0", "--listen", "unix:" + path, "--pidfile", pidfile},
                      .command = {demo_bin},
                      .env = {}});
  REQUIRE(eventually([&] { return stats_of(mux)["pool"]["idle"] == 2; }, 10s));
  struct stat before {};
  REQUIRE(::stat(path.c_str(), &before) == 0);

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<bool> path_missing{false};
  std::mutex m;
  std::vector<std::string> failures;
  std::set<pid_t> servers;
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t)
    clients.emplace_back([&] {
      while (!stop) {
        fcgi_client c(endpoint::unix_socket(path));
        auto how = c.connected() ? c.exchange({.id = 1,
                                               .role = 1,
                                               .flags = 0,
                                               .params = cgi_params("GET", "/"),
                                               .body = {},
                                               .params_record_size = 65535,
                                               .stdin_record_size = 65535})
                                 : read_status::closed;
        const cgi_response r = parse_cgi_response(c.response(1).out);
        std::lock_guard lock(m);
        if (how == read_status::ok && r.status == 200 && r.body.rfind("hello from pid ", 0) == 0) {
          ++ok;
          servers.insert(served_by(r.body));
        } else {
          failures.push_back(std::string(to_string(how)) + " status " + std::to_string(r.status));
        }
      }
    });
  std::thread watcher([&] {
    struct stat st {};
    while (!stop) {
      if (::stat(path.c_str(), &st) != 0 || st.st_ino != before.st_ino) path_missing = true;
      std::this_thread::sleep_for(2ms);
    }
  });

  REQUIRE(eventually([&] { return ok >= 20; }, 30s));
  mux.process().send_signal(SIGUSR2);
  const auto status = mux.process().wait_exit(30s);
  const pid_t new_pid = read_pid(pidfile);
  // Until an answer came from one of the new process's workers.
  eventually(
      [&] {
        const auto now = children_of(new_pid);
        std::lock_guard lock(m);
        return std::any_of(now.begin(), now.end(), [&](pid_t w) { return servers.count(w) > 0; });
      },
      30s);
  stop = true;
  for (auto& c : clients) c.join();
  watcher.join();

  INFO("fcgimux stderr:\n" << mux.stderr_text());
  REQUIRE(status.has_value());
  CHECK(status->exited);
  CHECK(status->code == 0);
  CHECK_FALSE(path_missing);
  {
    std::lock_guard lock(m);
    INFO(failures.size() << " failed, first: " << (failures.empty() ? "" : failures.front()));
    CHECK(failures.empty());
    // Some answers came from the new process's workers.
    const auto now = children_of(new_pid);
    CHECK(std::any_of(now.begin(), now.end(), [&](pid_t w) { return servers.count(w) > 0; }));
  }
  stop_new(new_pid);
  // Its normal exit removes the path it took over.
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("SIGUSR2 with a new binary that fails or is never ready leaves the old process serving", "[ops][upgrade]") {
  temp_dir dir;
  const std::string binary = dir.file("fcgimux");
  std::filesystem::copy_file(fcgimux_bin, binary);
  const std::string notify_path = dir.file("notify");
  notify_socket notify(notify_path);
  const std::string pidfile = dir.file("fcgimux.pid");
  fcgimux_instance mux(
      fcgimux_options{.args = {"-n", "2", "--stats", "127.0.0.1:0", "--upgrade-timeout", "2", "--pidfile", pidfile},
                      .command = {demo_bin},
                      .env = {"NOTIFY_SOCKET=" + notify_path},
                      .listen_tcp = true,
                      .startup_timeout = 10s,
                      .binary = binary});
  REQUIRE(eventually([&] { return stats_of(mux)["pool"]["idle"] == 2; }, 10s));
  const auto workers = mux.worker_pids();
  auto replace_binary = [&](const std::string& with) {
    // As a package upgrade does: a new file at the same path, the running one untouched.
    const std::string tmp = binary + ".new";
    std::filesystem::copy_file(with, tmp);
    std::filesystem::permissions(tmp, std::filesystem::perms::owner_all);
    std::filesystem::rename(tmp, binary);
  };
  auto serves = [&] {
    auto r = get(mux.port(), "/x?bytes=3", 5s);
    return r.how == read_status::ok && r.response.body == "abc";
  };

  SECTION("exits at once") {
    const std::string script = dir.file("exits.sh");
    write_file(script, "#!/bin/sh\nexit 3\n", true);
    replace_binary(script);
    mux.process().send_signal(SIGUSR2);
    REQUIRE(eventually([&] { return stats_of(mux)["upgrade"]["state"] == "failed"; }, 10s));
    auto u = stats_of(mux)["upgrade"];
    INFO(u.dump());
    CHECK(u["last_error"].get<std::string>().find("exited with status 3") != std::string::npos);
    CHECK(u["failed"] == 1);
  }
  SECTION("never ready") {
    const std::string script = dir.file("hangs.sh");
    const std::string started = dir.file("started");
    write_file(script, "#!/bin/sh\necho $$ > " + started + "\nexec sleep 60\n", true);
    replace_binary(script);
    mux.process().send_signal(SIGUSR2);
    REQUIRE(eventually([&] { return stats_of(mux)["upgrade"]["state"] == "starting"; }, 5s));
    CHECK(serves());
    REQUIRE(eventually([&] { return stats_of(mux)["upgrade"]["state"] == "failed"; }, 10s));
    CHECK(stats_of(mux)["upgrade"]["last_error"].get<std::string>().find("not ready within 2 s") != std::string::npos);
    // The new process given up is stopped.
    const pid_t hung = read_pid(started);
    CHECK(hung > 0);
    CHECK(eventually([&] { return !process_alive(hung); }, 5s));
  }
  INFO("fcgimux stderr:\n" << mux.stderr_text());
  CHECK(mux.process().running());
  CHECK(mux.worker_pids() == workers);
  for (int i = 0; i < 10; ++i) CHECK(serves());
  CHECK(read_pid(pidfile) == mux.process().pid());
  CHECK(mux.stderr_text().find("upgrade failed") != std::string::npos);

  // The real binary again: this time the upgrade goes through, and systemd is told the new main pid.
  replace_binary(fcgimux_bin);
  mux.process().send_signal(SIGUSR2);
  const auto status = mux.process().wait_exit(30s);
  REQUIRE(status.has_value());
  CHECK(status->code == 0);
  const pid_t new_pid = read_pid(pidfile);
  CHECK(new_pid != mux.process().pid());
  CHECK(notify.until("MAINPID=" + std::to_string(new_pid), 5s) != "");
  CHECK(serves());
  stop_new(new_pid);
}
