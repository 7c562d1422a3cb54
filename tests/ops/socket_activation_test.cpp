// SPDX-License-Identifier: ISC
// Socket activation as systemd does it, with Debian's systemd-socket-activate: fcgimux serves on
// the TCP and unix sockets it is given instead of binding its own, leaves the unix socket file to
// its owner, and its workers never see LISTEN_FDS.

#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fcgi_client.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/net.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/run_program.hpp"
#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <thread>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

std::string hello_at(const endpoint& where) {
  fcgi_client c(where);
  request_spec r;
  r.params = cgi_params("GET", "/x");
  if (c.exchange(r, 20s) != read_status::ok) return "(no answer)";
  return parse_cgi_response(c.response(1).out).body;
}

}  // namespace

TEST_CASE("systemd-socket-activate hands fcgimux a TCP and a unix listener", "[ops][systemd]") {
  auto activate = find_program("systemd-socket-activate");
  REQUIRE(activate);  // Debian's systemd package (scripts/deps.sh test)
  temp_dir dir;
  const std::uint16_t port = free_tcp_port();
  const std::string sock = dir.file("fcgimux.sock");
  spawn_options o;
  o.argv = {*activate,
            "-l",
            "127.0.0.1:" + std::to_string(port),
            "-l",
            sock,
            "--fdname=default:default",
            "--",
            fcgimux_bin,
            "--listen",
            "127.0.0.1:" + std::to_string(port),
            "--listen",
            "unix:" + sock,
            "--stats",
            "off",
            "-n",
            "2",
            "--",
            demo_bin};
  const auto user = root_user_args({});
  o.argv.insert(std::find(o.argv.begin(), o.argv.end(), std::string(fcgimux_bin)) + 1, user.begin(), user.end());
  o.stderr_path = dir.file("stderr");
  child_process p(o);
  // Once both sockets listen ("Listening on ... as 4."), connections wait in their backlogs.
  for (int i = 0; i < 500 && p.stderr_text().find(" as 4.") == std::string::npos; ++i)
    std::this_thread::sleep_for(10ms);
  REQUIRE(p.stderr_text().find(" as 4.") != std::string::npos);
  // systemd-socket-activate starts fcgimux on the first connection, which waits in the backlog.
  CHECK(hello_at(endpoint::tcp(port)).rfind("hello from pid ", 0) == 0);
  CHECK(hello_at(endpoint::unix_socket(sock)).rfind("hello from pid ", 0) == 0);
  const std::string err = p.stderr_text();
  INFO(err);
  CHECK(err.find("127.0.0.1:" + std::to_string(port) + ": the socket from systemd (fd 3)") != std::string::npos);
  CHECK(err.find("unix:" + sock + ": the socket from systemd (fd 4)") != std::string::npos);
  auto read_proc = [](pid_t pid, const char* what) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/" + what);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  for (pid_t w : p.children()) {
    // A worker between fork and exec is still fcgimux (its /proc environ is fcgimux's first one).
    CHECK(eventually([&] { return read_proc(w, "cmdline").find(demo_bin) == 0; }, 5s));
    const std::string all = read_proc(w, "environ");
    CHECK(all.find("LISTEN_FDS") == std::string::npos);
    CHECK(all.find("LISTEN_PID") == std::string::npos);
  }
  p.send_signal(SIGTERM);
  auto st = p.wait_exit(15s);
  REQUIRE(st);
  CHECK(st->exited);
  CHECK(st->code == 0);
  // The socket file is the activator's: fcgimux did not unlink it.
  struct stat info {};
  CHECK(::stat(sock.c_str(), &info) == 0);
}
