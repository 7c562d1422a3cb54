// SPDX-License-Identifier: ISC
// Workers run as --user/--group with the user's supplementary groups and cannot become root again;
// as root without --user fcgimux refuses to start; fcgimux itself keeps only the capabilities it
// needs, and with them still starts, signals and replaces workers of another user (SIGHUP).

#include "privilege_support.hpp"

#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <thread>

using namespace fcgimux::test;

namespace {

fcgimux_instance start(const std::string& responder, std::vector<std::string> args) {
  fcgimux_options o;
  o.args = {"--stats", "off", "-n", "2"};
  o.args.insert(o.args.end(), args.begin(), args.end());
  o.command = {responder};
  o.root_workers = false;  // these tests say who the workers are
  return fcgimux_instance(o);
}

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

TEST_CASE("workers run as --user nobody --group nogroup and cannot become root again", "[privilege]") {
  REQUIRE(::geteuid() == 0);  // the privilege tests run as root, as the README's test command does
  temp_dir dir;
  const std::string responder = install_responder(dir.path());
  auto mux = start(responder, {"--user", "nobody", "--group", "nogroup"});
  INFO(mux.stderr_text());
  const auto workers = workers_running(mux, 2, responder);
  REQUIRE(workers.size() == 2);
  for (pid_t w : workers) {
    const proc_identity id = identity_of(w);
    CHECK(id.uid == std::vector<unsigned>{65534, 65534, 65534, 65534});
    CHECK(id.gid == std::vector<unsigned>{65534, 65534, 65534, 65534});
    CHECK(id.groups == std::set<unsigned>{65534});
    CHECK(id.cap_effective == "0000000000000000");
    CHECK(id.cap_permitted == "0000000000000000");
  }
  const std::string body = ask_identity(mux.address());
  CHECK(body.find("uid=65534 euid=65534 gid=65534 egid=65534 groups=65534\n") == 0);
  CHECK(body.find("setuid0=-1 EPERM") != std::string::npos);
  CHECK(body.find("setresuid0=-1 EPERM") != std::string::npos);
  CHECK(mux.stderr_text().find("pool default: workers run as user nobody (uid 65534), group nogroup (gid 65534), "
                               "groups 65534") != std::string::npos);
}

TEST_CASE("user www-data: the workers get www-data's ids and supplementary groups", "[privilege]") {
  REQUIRE(::geteuid() == 0);
  temp_group extra("www-data");  // so that www-data has a supplementary group whatever the machine
  REQUIRE(extra.gid() != 0);
  const std::set<unsigned> expected = groups_by_id_tool("www-data");  // id(1), not fcgimux's lookup
  REQUIRE(expected.count(33) == 1);
  REQUIRE(expected.count(extra.gid()) == 1);
  temp_dir dir;
  const std::string responder = install_responder(dir.path());
  auto mux = start(responder, {"--user", "www-data"});
  INFO(mux.stderr_text());
  const auto workers = workers_running(mux, 2, responder);
  REQUIRE(workers.size() == 2);
  for (pid_t w : workers) {
    const proc_identity id = identity_of(w);
    CHECK(id.uid == std::vector<unsigned>{33, 33, 33, 33});
    CHECK(id.gid == std::vector<unsigned>{33, 33, 33, 33});  // the user's primary group, without --group
    CHECK(id.groups == expected);
  }
  const std::string body = ask_identity(mux.address());
  CHECK(body.find("uid=33 euid=33 gid=33 egid=33 groups=") == 0);
  CHECK(body.find(std::to_string(extra.gid())) != std::string::npos);
  CHECK(body.find("setuid0=-1 EPERM") != std::string::npos);
  CHECK(body.find("setresuid0=-1 EPERM") != std::string::npos);
}

TEST_CASE("as root without --user fcgimux refuses to start, with one line naming --user", "[privilege]") {
  REQUIRE(::geteuid() == 0);
  const std::string refusal =
      "fcgimux runs as root: name the workers' user with --user (--user root to really run them as root)";
  auto r = run_fcgimux({"--listen", "127.0.0.1:0", "--stats", "off", "--", identity_responder_bin}, 5s, false);
  REQUIRE(r.finished);
  CHECK(r.status.exited);
  CHECK(r.status.code == 2);
  CHECK(r.stderr_text == "fcgimux: error: " + refusal + "\n");

  temp_dir dir;
  write_file(dir.file("pools.json"),
             R"({"stats": "off", "pools": [
                  {"name": "api", "listen": "127.0.0.1:0", "command": ["/bin/true"], "user": "nobody"},
                  {"name": "www", "listen": "127.0.0.1:0", "command": ["/bin/true"]}]})");
  auto pools = run_fcgimux({"-c", dir.file("pools.json")}, 5s, false);
  REQUIRE(pools.finished);
  CHECK(pools.status.code == 2);
  CHECK(pools.stderr_text == "fcgimux: error: pool \"www\": " + refusal + "\n");
}

TEST_CASE("user root is taken when asked for, with a warning", "[privilege]") {
  REQUIRE(::geteuid() == 0);
  temp_dir dir;
  const std::string responder = install_responder(dir.path());
  auto mux = start(responder, {"--user", "root"});
  INFO(mux.stderr_text());
  const auto workers = workers_running(mux, 2, responder);
  REQUIRE(workers.size() == 2);
  CHECK(identity_of(workers.front()).uid == std::vector<unsigned>{0, 0, 0, 0});
  CHECK(ask_identity(mux.address()).find("uid=0 euid=0") == 0);
  CHECK(mux.stderr_text().find("pool default: warning: its workers run as root (--user root)") != std::string::npos);
}

TEST_CASE("fcgimux keeps only the capabilities it needs, and with them still replaces another user's workers",
          "[privilege]") {
  REQUIRE(::geteuid() == 0);
  // dac_override, kill, setgid, setuid, net_bind_service, sys_chroot, setpcap
  // (docs/privileges.md), of what this test was given (a container may give less).
  const std::uint64_t kept = (1ull << 1) | (1ull << 5) | (1ull << 6) | (1ull << 7) | (1ull << 10) |
                             (1ull << 18) | (1ull << 8);
  const std::uint64_t ours = std::stoull(identity_of(::getpid()).cap_bounding, nullptr, 16);
  const std::string expected = hex(ours & kept);
  temp_dir dir;
  const std::string responder = install_responder(dir.path());
  auto mux = start(responder, {"--user", "nobody"});
  INFO(mux.stderr_text());
  REQUIRE(workers_running(mux, 2, responder).size() == 2);
  const proc_identity self = identity_of(mux.process().pid());
  CHECK(self.uid == std::vector<unsigned>{0, 0, 0, 0});  // it stays root, as php-fpm's master does
  CHECK(self.cap_bounding == expected);
  CHECK(self.cap_permitted == expected);
  CHECK(self.cap_effective == expected);
  CHECK(self.cap_inheritable == "0000000000000000");
  CHECK(self.cap_ambient == "0000000000000000");
  CHECK(mux.stderr_text().find("capabilities: kept dac_override, kill, setgid, setuid, "
                               "net_bind_service, sys_chroot, setpcap; every other one dropped\n") != std::string::npos);

  // SIGHUP replaces every worker: fcgimux must still set a new worker's ids and signal the old ones,
  // which run as another user (CAP_KILL).
  const auto before = workers_running(mux, 2, responder);
  CHECK(ask_identity(mux.address()).find("uid=65534") == 0);
  mux.process().send_signal(SIGHUP);
  std::vector<pid_t> now;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    now = workers_running(mux, 2, responder, 1s);
    bool replaced = now.size() == 2;
    for (pid_t p : now)
      for (pid_t old : before) replaced = replaced && p != old;
    if (replaced || std::chrono::steady_clock::now() > deadline) break;
    ask_identity(mux.address());  // a new worker proves itself by answering
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE(now.size() == 2);
  for (pid_t p : now) {
    for (pid_t old : before) CHECK(p != old);
    CHECK(identity_of(p).uid == std::vector<unsigned>{65534, 65534, 65534, 65534});
    // A worker of another user empties its bounding set (docs/privileges.md; tests/security).
    CHECK(identity_of(p).cap_bounding == "0000000000000000");
  }
  for (pid_t old : before) CHECK(::kill(old, 0) != 0);  // gone (reaped by fcgimux)
  CHECK(ask_identity(mux.address()).find("uid=65534") == 0);
}
