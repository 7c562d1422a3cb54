// SPDX-License-Identifier: ISC
// --chroot: the workers' root is the jail, the program is found inside it, and a static C
// responder copied into the jail serves requests through fcgimux, from a FastCGI client and nginx.

#include "privilege_support.hpp"

#include "tests/support/http_client.hpp"
#include "tests/support/nginx_instance.hpp"
#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <thread>

using namespace fcgimux::test;

namespace {

// A jail with the responder at /identity-responder, a /jail-marker file and an /app directory.
struct jail {
  temp_dir dir{"fcgimux-jail"};
  std::string root;
  jail() {
    install_responder(dir.path());
    write_file(dir.file("jail-marker"), "inside\n");
    REQUIRE(::mkdir(dir.file("app").c_str(), 0755) == 0);
    char real[PATH_MAX];
    REQUIRE(::realpath(dir.path().c_str(), real) != nullptr);
    root = real;  // what /proc/PID/root shows
  }
};

fcgimux_options jailed(const jail& j, std::vector<std::string> extra, std::vector<std::string> command) {
  fcgimux_options o;
  o.args = {"--stats", "off", "-n", "2", "--user", "nobody", "--chroot", j.root};
  o.args.insert(o.args.end(), extra.begin(), extra.end());
  o.command = std::move(command);
  return o;
}

}  // namespace

TEST_CASE("chroot: the jail is the workers' root and a static program inside it is served", "[privilege][chroot]") {
  REQUIRE(::geteuid() == 0);
  jail j;
  fcgimux_instance mux(jailed(j, {"--chdir", "/app"}, {"/identity-responder"}));  // a path inside the jail
  INFO(mux.stderr_text());
  const auto workers = workers_running(mux, 2, "identity-responder");
  REQUIRE(workers.size() == 2);
  for (pid_t w : workers) {
    CHECK(proc_link(w, "root") == j.root);
    CHECK(proc_link(w, "cwd") == j.root + "/app");
    CHECK(identity_of(w).uid == std::vector<unsigned>{65534, 65534, 65534, 65534});
  }
  const std::string body = ask_identity(mux.address());
  CHECK(body.find("uid=65534 euid=65534") == 0);
  CHECK(body.find("\ncwd=/app\n") != std::string::npos);
  CHECK(body.find("\nmarker=yes\n") != std::string::npos);  // it sees the jail as /
  CHECK(body.find("setuid0=-1 EPERM") != std::string::npos);

  // nginx in front, as it would be deployed.
  nginx_options n;
  n.upstream = mux.address();
  nginx_instance nginx(n);
  http_response r = http_request(nginx.port(), "GET", "/whoami");
  INFO(nginx.error_log());
  REQUIRE(r.ok);
  CHECK(r.status == 200);
  CHECK(r.body.find("uid=65534 euid=65534") == 0);
  CHECK(r.body.find("\nmarker=yes\n") != std::string::npos);
}

TEST_CASE("chroot without chdir starts the workers in the jail's /", "[privilege][chroot]") {
  REQUIRE(::geteuid() == 0);
  jail j;
  fcgimux_instance mux(jailed(j, {}, {"/identity-responder"}));
  INFO(mux.stderr_text());
  const auto workers = workers_running(mux, 2, "identity-responder");
  REQUIRE(workers.size() == 2);
  CHECK(proc_link(workers.front(), "cwd") == j.root);
  CHECK(ask_identity(mux.address()).find("\ncwd=/\n") != std::string::npos);
}

TEST_CASE("chroot: a program that is not inside the jail is reported as such", "[privilege][chroot]") {
  REQUIRE(::geteuid() == 0);
  jail j;
  // The program exists outside the jail only: inside, the path leads nowhere.
  fcgimux_instance mux(jailed(j, {}, {identity_responder_bin}));
  const std::string expected =
      "cannot run '" + std::string(identity_responder_bin) + "' inside " + j.root + ": No such file or directory";
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (mux.stderr_text().find(expected) == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  INFO(mux.stderr_text());
  CHECK(mux.stderr_text().find(expected) != std::string::npos);
}
