// SPDX-License-Identifier: ISC
// Unix front listeners: --socket-owner and --socket-mode set before the socket listens, so that
// www-data (as nginx runs) can connect and another user cannot; a path a live server holds is
// refused, a stale socket file replaced, and the path removed when fcgimux stops.

#include "privilege_support.hpp"

#include "tests/support/temp_dir.hpp"
#include "tests/support/unique_fd.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

using namespace fcgimux::test;

namespace {

fcgimux_options on_unix(const std::string& path, const std::string& responder, std::vector<std::string> extra) {
  fcgimux_options o;
  o.listen_tcp = false;
  o.args = {"--listen", "unix:" + path, "--stats", "off", "-n", "1", "--user", "nobody"};
  o.args.insert(o.args.end(), extra.begin(), extra.end());
  o.command = {responder};
  return o;
}

// listen_tcp = false does not wait: wait for the listening line here.
bool wait_listening(const fcgimux_instance& mux, const std::string& path) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (mux.stderr_text().find("listening on unix:" + path) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

struct stat stat_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st;
}

// A socket file nobody listens on: what a server killed by SIGKILL leaves behind.
void leave_stale_socket(const std::string& path) {
  unique_fd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd.get(), 1) == 0);
}

}  // namespace

TEST_CASE("a unix listener owned by www-data with mode 0660: www-data connects, nobody cannot", "[privilege][socket]") {
  REQUIRE(::geteuid() == 0);
  temp_dir dir;
  const std::string responder = install_responder(dir.path());  // also makes dir 0755: reachable by both users
  const std::string path = dir.file("fcgimux.sock");
  fcgimux_instance mux(on_unix(path, responder, {"--socket-owner", "www-data", "--socket-mode", "0660"}));
  REQUIRE(wait_listening(mux, path));
  INFO(mux.stderr_text());
  const struct stat st = stat_of(path);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 07777) == 0660);
  CHECK(st.st_uid == 33);
  CHECK(st.st_gid == 33);                                 // www-data's primary group: no :GROUP given
  CHECK(connect_errno_as(33, 33, path) == 0);             // www-data, as nginx's workers run
  CHECK(connect_errno_as(65534, 65534, path) == EACCES);  // another user
  CHECK(ask_identity(endpoint::unix_socket(path)).find("uid=65534") == 0);

  SECTION("a second fcgimux on the same path is refused, and the first one keeps serving") {
    auto second = run_fcgimux({"--listen", "unix:" + path, "--stats", "off", "--", responder}, 10s);
    INFO(second.stderr_text);
    REQUIRE(second.finished);
    CHECK(second.status.exited);
    CHECK(second.status.code == 1);
    CHECK(second.stderr_text.find("cannot listen on unix:" + path + ": another server is listening on it") !=
          std::string::npos);
    CHECK(stat_of(path).st_ino == st.st_ino);  // the same socket file, not a new one
    CHECK(ask_identity(endpoint::unix_socket(path)).find("uid=65534") == 0);
  }

  SECTION("the path is removed when fcgimux stops on SIGTERM") {
    mux.process().send_signal(SIGTERM);
    auto status = mux.process().wait_exit(15s);
    REQUIRE(status);
    CHECK(status->exited);
    CHECK(status->code == 0);
    CHECK(::access(path.c_str(), F_OK) != 0);
  }
}

TEST_CASE("socket-owner USER:GROUP, and the default mode 0660 owned by fcgimux's user", "[privilege][socket]") {
  REQUIRE(::geteuid() == 0);
  temp_dir dir;
  const std::string responder = install_responder(dir.path());
  const std::string owned = dir.file("owned.sock"), plain = dir.file("plain.sock");
  {
    fcgimux_instance mux(on_unix(owned, responder, {"--socket-owner", "www-data:nogroup"}));
    REQUIRE(wait_listening(mux, owned));
    const struct stat st = stat_of(owned);
    CHECK((st.st_mode & 07777) == 0660);
    CHECK(st.st_uid == 33);
    CHECK(st.st_gid == 65534);
    CHECK(connect_errno_as(65534, 65534, owned) == 0);  // nobody, through the group nogroup
  }
  fcgimux_instance mux(on_unix(plain, responder, {}));
  REQUIRE(wait_listening(mux, plain));
  const struct stat st = stat_of(plain);
  CHECK((st.st_mode & 07777) == 0660);  // not the umask's
  CHECK(st.st_uid == 0);
  CHECK(connect_errno_as(33, 33, plain) == EACCES);
}

TEST_CASE("a stale socket file is replaced, a file that is not a socket is left alone", "[privilege][socket]") {
  REQUIRE(::geteuid() == 0);
  temp_dir dir;
  const std::string responder = install_responder(dir.path());
  const std::string path = dir.file("stale.sock");
  leave_stale_socket(path);  // closed again: a socket file with no server
  REQUIRE(S_ISSOCK(stat_of(path).st_mode));
  REQUIRE_FALSE(connect_to(endpoint::unix_socket(path)));  // refused: nobody listens
  {
    fcgimux_instance mux(on_unix(path, responder, {}));
    REQUIRE(wait_listening(mux, path));
    INFO(mux.stderr_text());
    CHECK((stat_of(path).st_mode & 07777) == 0660);  // fcgimux's own socket file now
    CHECK(ask_identity(endpoint::unix_socket(path)).find("uid=65534") == 0);
  }
  const std::string file = dir.file("not-a-socket");
  write_file(file, "data\n");
  auto r = run_fcgimux({"--listen", "unix:" + file, "--stats", "off", "--user", "nobody", "--", responder}, 10s);
  INFO(r.stderr_text);
  REQUIRE(r.finished);
  CHECK(r.status.code == 1);
  CHECK(r.stderr_text.find("cannot listen on unix:" + file) != std::string::npos);
  CHECK(read_file(file) == "data\n");
}

TEST_CASE("a unix listener that a SIGHUP reload binds gets its owner and mode too", "[privilege][socket]") {
  REQUIRE(::geteuid() == 0);
  temp_dir dir;
  const std::string responder = install_responder(dir.path());
  const std::string path = dir.file("added.sock"), file = dir.file("pools.json");
  const std::string pool = R"({"name": "www", "user": "nobody", "workers": 1, "command": [")" + responder + R"("], )";
  write_file(file, R"({"stats": "off", "pools": [)" + pool + R"("listen": "127.0.0.1:0"}]})");
  fcgimux_options o;
  o.args = {"-c", file};
  o.listen_tcp = false;
  o.root_workers = false;
  fcgimux_instance mux(o);
  // SIGHUP only once fcgimux is up: before its signal set exists the signal would end it.
  REQUIRE(workers_running(mux, 1, responder).size() == 1);
  // The new listener is bound after fcgimux dropped its capabilities, CAP_CHOWN among them: the file is
  // born www-data's (its filesystem ids at bind), no chown.
  write_file(file, R"({"stats": "off", "pools": [)" + pool + R"("listen": ["127.0.0.1:0", "unix:)" + path +
                       R"("], "socket-owner": "www-data"}]})");
  mux.process().send_signal(SIGHUP);
  REQUIRE(wait_listening(mux, path));
  INFO(mux.stderr_text());
  const struct stat st = stat_of(path);
  CHECK((st.st_mode & 07777) == 0660);
  CHECK(st.st_uid == 33);
  CHECK(st.st_gid == 33);
  CHECK(connect_errno_as(33, 33, path) == 0);
  CHECK(connect_errno_as(65534, 65534, path) == EACCES);
  CHECK(ask_identity(endpoint::unix_socket(path)).find("uid=65534") == 0);
}
