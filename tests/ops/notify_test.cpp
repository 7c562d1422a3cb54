// SPDX-License-Identifier: ISC
// systemd's readiness protocol, tested without systemd: a datagram socket of our own as
// $NOTIFY_SOCKET sees READY=1 once the workers are up, RELOADING=1 then READY=1 around a SIGHUP,
// and STOPPING=1 on SIGTERM; the workers never see the variable.

#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/unique_fd.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <csignal>
#include <cstring>
#include <fstream>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

// A bound datagram socket, as systemd's would be; `abstract` names it in the abstract namespace.
struct notify_socket {
  unique_fd fd;
  std::string name;  // what goes into $NOTIFY_SOCKET

  notify_socket(const std::string& path, bool abstract) {
    fd = unique_fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
    if (abstract) {
      a.sun_path[0] = '\0';
      name = "@" + path.substr(1);
    } else {
      ++len;
      name = path;
    }
    REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len) == 0);
  }

  // The next datagram, or "" after `timeout`.
  std::string next(std::chrono::milliseconds timeout) {
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
    char buf[4096];
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }
};

}  // namespace

TEST_CASE("NOTIFY_SOCKET sees READY, RELOADING then READY around SIGHUP, and STOPPING", "[ops][systemd]") {
  const bool abstract = GENERATE(false, true);
  INFO((abstract ? "abstract socket" : "socket file"));
  temp_dir dir;
  notify_socket sd(abstract ? "#fcgimux-test-" + std::to_string(::getpid()) : dir.file("notify"), abstract);
  auto o = demo_pool({"-n", "2"});
  o.env = {"NOTIFY_SOCKET=" + sd.name};
  fcgimux_instance mux(o);

  const std::string ready = sd.next(10s);
  INFO("fcgimux stderr:\n" << mux.stderr_text());
  REQUIRE(ready.rfind("READY=1\n", 0) == 0);
  CHECK(ready.find("STATUS=serving: 1 pools, 2 workers ready") != std::string::npos);
  // READY=1 came once the minimum was up, not before.
  CHECK(stats_of(mux)["pool"]["idle"] == 2);
  // The workers never see the variable (their own children would otherwise notify systemd).
  for (pid_t w : mux.worker_pids()) {
    std::ifstream env("/proc/" + std::to_string(w) + "/environ");
    std::string all((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
    CHECK(all.find("NOTIFY_SOCKET") == std::string::npos);
  }

  mux.process().send_signal(SIGHUP);
  const std::string reloading = sd.next(5s);
  REQUIRE(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
  const std::string ready_again = sd.next(10s);
  CHECK(ready_again.rfind("READY=1\n", 0) == 0);
  CHECK(stats_of(mux)["pools"]["default"]["roll"]["state"] == "idle");  // after the roll, not before

  mux.process().send_signal(SIGTERM);
  CHECK(sd.next(5s).rfind("STOPPING=1\n", 0) == 0);
  auto st = mux.process().wait_exit(15s);
  REQUIRE(st);
  CHECK(st->code == 0);
}
