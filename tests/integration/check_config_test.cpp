// SPDX-License-Identifier: ISC
// fcgimux -t / --check-config: every check of a start (flags, the -c file, users, listen
// addresses, the programs) and nothing else: no socket bound, no worker, no pid or log file.
// Also the command-line wording and the resolved-address check that -t runs with the others.

#include "backends.hpp"
#include "tests/support/net.hpp"
#include "tests/support/paths.hpp"

#include <catch2/catch.hpp>

#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>

using namespace fcgimux::test;

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("fcgimux -t checks a good configuration and exits 0 without binding, spawning or writing a file",
          "[proxy][cli][check-config]") {
  temp_dir dir;
  // What a start would take is already taken: a bind of either would fail, so exit 0 shows none was tried.
  endpoint tcp = endpoint::tcp(0);
  unique_fd held = listen_on(tcp);
  const std::string sock = dir.file("front.sock");
  write_file(sock, "not a socket: a start would refuse to remove it");
  const std::string pidfile = dir.file("fcgimux.pid"), error_log = dir.file("error.log"),
                    access_log = dir.file("access.log");
  SECTION("a pools file") {
    write_file(dir.file("pools.json"),
               R"({"stats": "off", "pidfile": ")" + pidfile + R"(", "error-log": ")" + error_log +
                   R"(", "pools": [{"name": "www", "listen": ["unix:)" + sock + R"("], "access-log": ")" + access_log +
                   R"(", "command": [")" + demo_bin + R"("]}, {"name": "api", "listen": "127.0.0.1:)" +
                   std::to_string(tcp.port) + R"(", "command": ["sh", "-c", "true"]}]})");
    for (const char* flag : {"-t", "--check-config"}) {
      fcgimux_run r = run_fcgimux({flag, "-c", dir.file("pools.json")}, 10s);
      INFO(flag << " stderr:\n" << r.stderr_text << "stdout:\n" << r.stdout_text);
      REQUIRE(r.finished);
      CHECK(r.status.exited);
      CHECK(r.status.code == 0);
      CHECK(r.stderr_text == "fcgimux: configuration ok (2 pools: www, api)\n");
    }
  }
  SECTION("flags alone, the stats address among what is not bound") {
    fcgimux_run r = run_fcgimux({"-t", "--listen", "unix:" + sock, "--stats", tcp.to_string(), "--pidfile", pidfile,
                                 "--error-log", error_log, "--access-log", access_log, "--", demo_bin},
                                10s);
    INFO("stderr:\n" << r.stderr_text);
    REQUIRE(r.finished);
    CHECK(r.status.code == 0);
    CHECK(r.stderr_text == "fcgimux: configuration ok (1 pool: default)\n");
  }
  CHECK(read_file(sock) == "not a socket: a start would refuse to remove it");
  CHECK_FALSE(exists(pidfile));
  CHECK_FALSE(exists(error_log));
  CHECK_FALSE(exists(access_log));
}

TEST_CASE("fcgimux -t exits 2 with one line for what a start would refuse, programs included", "[proxy][cli][check-config]") {
  temp_dir dir;
  const std::string not_executable = dir.file("script");
  write_file(not_executable, "#!/bin/sh\n");
  struct bad {
    std::vector<std::string> args;
    std::string says;
  };
  for (const bad& b : {
           bad{{"-n", "4", "-N", "2", "--", demo_bin}, "max-workers (2) must be >= workers (4)"},
           bad{{"--user", "no-such-user-here", "--", demo_bin}, "no user 'no-such-user-here'"},
           bad{{"--", dir.file("missing")}, "command: " + dir.file("missing") + ": No such file or directory"},
           bad{{"--", not_executable}, "command: " + not_executable + ": Permission denied"},
           bad{{"--", "no-such-program-anywhere"}, "command: 'no-such-program-anywhere' along PATH"},
           bad{{"--env", "PATH=" + dir.path(), "--", "script"}, "'script' along PATH " + dir.path() + ": Permission denied"},
       }) {
    std::vector<std::string> args{"-t", "--listen", "127.0.0.1:0", "--stats", "off"};
    args.insert(args.end(), b.args.begin(), b.args.end());
    fcgimux_run r = run_fcgimux(args, 10s);
    INFO("expected: " << b.says << "\nstderr:\n" << r.stderr_text);
    REQUIRE(r.finished);
    CHECK(r.status.exited);
    CHECK(r.status.code == 2);
    CHECK(line_count(r.stderr_text) == 1);
    CHECK(r.stderr_text.rfind("fcgimux: error: ", 0) == 0);
    CHECK(r.stderr_text.find(b.says) != std::string::npos);
  }
}

TEST_CASE("two pools on one address written two ways exit 2 naming both pools", "[proxy][cli][check-config]") {
  temp_dir dir;
  const std::uint16_t port = free_tcp_port();
  // localhost as the listener will bind it on this machine (/etc/hosts decides: 127.0.0.1 or ::1).
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  REQUIRE(::getaddrinfo("localhost", "1", &hints, &found) == 0);
  const std::string lo = found->ai_family == AF_INET6 ? "[::1]" : "127.0.0.1";
  ::freeaddrinfo(found);
  const std::string p = std::to_string(port);
  write_file(dir.file("pools.json"), R"({"stats": "off", "pools": [{"name": "www", "listen": "localhost:)" + p +
                                         R"(", "command": [")" + demo_bin + R"("]}, {"name": "api", "listen": ")" +
                                         lo + ":" + p + R"(", "command": [")" + demo_bin + R"("]}]})");
  for (bool check_only : {false, true}) {
    std::vector<std::string> args{"-c", dir.file("pools.json")};
    if (check_only) args.insert(args.begin(), "-t");
    fcgimux_run r = run_fcgimux(args, 10s);
    INFO("-t: " << check_only << "\nstderr:\n" << r.stderr_text);
    REQUIRE(r.finished);
    CHECK(r.status.code == 2);
    CHECK(line_count(r.stderr_text) == 1);
    CHECK(r.stderr_text == "fcgimux: error: pool \"api\": listen: '" + lo + ":" + p + "' is " + lo + ":" + p +
                               ", as pool \"www\"'s 'localhost:" + p + "' is\n");
  }
}

TEST_CASE("max-spawn-rate is a number of workers per second, in --help and in its error",
          "[proxy][cli][check-config]") {
  fcgimux_run help = run_fcgimux({"--help"}, 10s);
  REQUIRE(help.finished);
  CHECK(help.status.code == 0);
  INFO(help.stdout_text);
  CHECK(std::regex_search(help.stdout_text, std::regex(R"(\n +--max-spawn-rate N +workers started per second)")));
  CHECK(help.stdout_text.find("--max-spawn-rate SEC") == std::string::npos);
  fcgimux_run bad = run_fcgimux({"--max-spawn-rate", "fast", "--", demo_bin}, 10s);
  REQUIRE(bad.finished);
  CHECK(bad.status.code == 2);
  CHECK(bad.stderr_text == "fcgimux: error: max-spawn-rate: 'fast' is not a number of workers per second\n");
}
