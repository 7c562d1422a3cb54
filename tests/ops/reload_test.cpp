// SPDX-License-Identifier: ISC
// SIGHUP reads the configuration again (issue 15): a bad one changes nothing and is counted; a
// good one takes effect (sizes, pools added and removed, listeners added and closed) and rolls.

#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/pools/pools_support.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/net.hpp"
#include "tests/support/paths.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace fcgimux::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json demo_pool(const std::string& name, std::vector<std::string> listen, int workers, int max_workers) {
  return {
      {"name", name}, {"listen", listen}, {"command", {demo_bin}}, {"workers", workers}, {"max-workers", max_workers}};
}

std::string at(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

bool serves(std::uint16_t port) {
  auto r = get(port, "/x?bytes=3", 5s);
  return r.how == read_status::ok && r.response.body == "abc";
}

void rewrite(const pools_instance& mux, const json& config) {
  std::ofstream(mux.config_path(), std::ios::trunc) << config.dump(2);
}

}  // namespace

TEST_CASE("SIGHUP with a broken configuration keeps everything running and counts a failed reload", "[ops][reload]") {
  pools_instance mux(json{{"pools", {demo_pool("www", {"127.0.0.1:0"}, 2, 2)}}});
  const std::uint16_t port = mux.port("www");
  REQUIRE(eventually([&] { return mux.stats()["pools"]["www"]["pool"]["idle"] == 2; }, 10s));
  const auto workers = mux.mux().worker_pids();

  SECTION("not JSON") { std::ofstream(mux.config_path(), std::ios::trunc) << "{\"pools\": ["; }
  SECTION("a setting out of range") {
    rewrite(mux, json{{"stats", "127.0.0.1:0"}, {"pools", {demo_pool("www", {"127.0.0.1:0"}, 4, 2)}}});
  }
  mux.mux().process().send_signal(SIGHUP);
  REQUIRE(eventually([&] { return mux.stats()["reloads"]["failed"] == 1; }, 5s));
  json s = mux.stats();
  INFO(s.dump(2));
  CHECK(s["reloads"]["ok"] == 0);
  CHECK(s["reloads"]["last_error"].get<std::string>().find("kept") != std::string::npos);
  CHECK(s["pools"]["www"]["generation"] == 1);  // no roll either
  CHECK(s["pools"]["www"]["pool"]["max"] == 2);
  CHECK(eventually([&] { return mux.stderr_text().find("reload failed") != std::string::npos; }, 10s));
  for (int i = 0; i < 10; ++i) CHECK(serves(port));
  CHECK(mux.mux().worker_pids() == workers);
  auto metrics = http_request(mux.stats_port(), "GET", "/metrics");
  CHECK(metrics.body.find("fcgimux_reloads_total{result=\"failed\"} 1\n") != std::string::npos);
}

TEST_CASE("SIGHUP applies a new configuration: sizes, a pool added then removed, a listener closed", "[ops][reload]") {
  const std::uint16_t p1 = free_tcp_port(), p2 = free_tcp_port(), p3 = free_tcp_port();
  REQUIRE(p1 != p2);
  pools_instance mux(json{{"pools", {demo_pool("a", {at(p1), at(p2)}, 1, 2)}}});
  REQUIRE(serves(p1));
  REQUIRE(serves(p2));

  rewrite(mux,
          json{{"stats", "127.0.0.1:0"}, {"pools", {demo_pool("a", {at(p1)}, 2, 5), demo_pool("b", {at(p3)}, 1, 1)}}});
  mux.mux().process().send_signal(SIGHUP);
  REQUIRE(eventually([&] { return mux.stats()["reloads"]["ok"] == 1; }, 5s));
  REQUIRE(eventually([&] { return mux.stats()["pools"]["a"]["roll"]["state"] == "idle"; }, 10s));
  json s = mux.stats();
  INFO(s.dump(2) << "\nstderr:\n" << mux.stderr_text());
  CHECK(s["pools"]["a"]["pool"]["min"] == 2);
  CHECK(s["pools"]["a"]["pool"]["max"] == 5);
  CHECK(s["pools"]["a"]["generation"] == 2);
  CHECK(s["pools"]["b"]["pool"]["min"] == 1);
  CHECK(serves(p1));
  CHECK(eventually([&] { return serves(p3); }, 5s));
  CHECK_FALSE(serves(p2));  // closed: nothing listens there any more
  CHECK(get(p3, "/x").response.status == 200);
  CHECK(mux.stats()["pools"]["b"]["requests"]["completed"].get<int>() >= 2);

  // b goes again: its listener closes, its workers stop, the stats forget it.
  rewrite(mux, json{{"stats", "127.0.0.1:0"}, {"pools", {demo_pool("a", {at(p1)}, 2, 5)}}});
  mux.mux().process().send_signal(SIGHUP);
  REQUIRE(eventually([&] { return mux.stats()["reloads"]["ok"] == 2; }, 5s));
  CHECK_FALSE(mux.stats()["pools"].contains("b"));
  CHECK(eventually([&] { return !serves(p3); }, 5s));
  CHECK(eventually([&] { return mux.mux().worker_pids().size() == 2; }, 10s));  // only a's two
  CHECK(serves(p1));
  CHECK(mux.stats()["requests"]["failed"] == 0);
}

TEST_CASE("SIGHUP that shrinks a pool below its live workers ends the roll at the new size", "[ops][reload]") {
  pools_instance mux(json{{"pools", {demo_pool("www", {"127.0.0.1:0"}, 3, 5)}}});
  const std::uint16_t port = mux.port("www");
  REQUIRE(eventually([&] { return mux.stats()["pools"]["www"]["pool"]["idle"] == 3; }, 20s));

  rewrite(mux, json{{"stats", "127.0.0.1:0"}, {"pools", {demo_pool("www", {"127.0.0.1:0"}, 1, 1)}}});
  mux.mux().process().send_signal(SIGHUP);
  REQUIRE(eventually([&] { return mux.stats()["reloads"]["ok"] == 1; }, 10s));
  // The idle timeout (300 s by default) must not be what brings the pool down to its maximum.
  CHECK(eventually(
      [&] {
        json s = mux.stats();
        return s["pools"]["www"]["roll"]["state"] == "idle" && s["pools"]["www"]["pool"]["size"] == 1 &&
               mux.mux().worker_pids().size() == 1;
      },
      30s));
  json s = mux.stats();
  INFO(s.dump(2) << "\nstderr:\n" << mux.stderr_text());
  CHECK(s["pools"]["www"]["pool"]["max"] == 1);
  CHECK(s["pools"]["www"]["pool"]["size"] == 1);
  CHECK(mux.mux().worker_pids().size() == 1);
  CHECK(serves(port));
  CHECK(s["requests"]["failed"] == 0);
}

TEST_CASE("SIGHUP that shrinks a pool whose new workers cannot start still brings it down to its maximum",
          "[ops][reload]") {
  pools_instance mux(json{{"pools", {demo_pool("www", {"127.0.0.1:0"}, 3, 5)}}});
  const std::uint16_t port = mux.port("www");
  REQUIRE(eventually([&] { return mux.stats()["pools"]["www"]["pool"]["idle"] == 3; }, 20s));

  json broken = demo_pool("www", {"127.0.0.1:0"}, 1, 1);
  broken["command"] = {"/nonexistent/fcgimux-test-program"};
  rewrite(mux, json{{"stats", "127.0.0.1:0"}, {"pools", {broken}}});
  mux.mux().process().send_signal(SIGHUP);
  REQUIRE(eventually([&] { return mux.stats()["pools"]["www"]["roll"]["state"] == "failed"; }, 20s));
  // The roll stopped with the old workers serving; over the new maximum, the idle extra ones go.
  CHECK(eventually(
      [&] { return mux.stats()["pools"]["www"]["pool"]["size"] == 1 && mux.mux().worker_pids().size() == 1; }, 30s));
  INFO(mux.stats().dump(2) << "\nstderr:\n" << mux.stderr_text());
  CHECK(serves(port));
}

namespace {

// Opens the FIFO for writing once fcgimux's reader has it open (until then, ENXIO); -1 if it never does.
int open_fifo_writer(const std::string& path) {
  int fd = -1;
  eventually([&] { return (fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC)) >= 0; }, 30s);
  return fd;
}

void write_all(int fd, const std::string& text) {
  REQUIRE(::fcntl(fd, F_SETFL, 0) == 0);  // blocking: the reader takes it all
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
}

}  // namespace

TEST_CASE("SIGHUP reads the file off the loop: while the read waits (a FIFO), requests and /stats are served",
          "[ops][reload]") {
  pools_instance mux(json{{"pools", {demo_pool("www", {"127.0.0.1:0"}, 1, 2)}}});
  const std::uint16_t port = mux.port("www");
  REQUIRE(serves(port));
  const std::string path = mux.config_path();
  REQUIRE(::unlink(path.c_str()) == 0);
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  const std::string next =
      json{{"stats", "127.0.0.1:0"}, {"pools", {demo_pool("www", {"127.0.0.1:0"}, 2, 3)}}}.dump();

  mux.mux().process().send_signal(SIGHUP);
  int fd = open_fifo_writer(path);
  REQUIRE(fd >= 0);
  // fcgimux's reader is now blocked in read(): the loop must not be.
  for (int i = 0; i < 5; ++i) CHECK(serves(port));
  CHECK(mux.stats()["reloads"]["ok"] == 0);
  mux.mux().process().send_signal(SIGHUP);  // comes during the read: handled after it
  CHECK(eventually([&] { return mux.stderr_text().find("still reading") != std::string::npos; }, 10s));
  write_all(fd, next);
  REQUIRE(eventually([&] { return mux.stats()["reloads"]["ok"] == 1; }, 10s));
  CHECK(mux.stats()["pools"]["www"]["pool"]["max"] == 3);

  // The second SIGHUP's read, now waiting on the FIFO in turn.
  fd = open_fifo_writer(path);
  REQUIRE(fd >= 0);
  CHECK(serves(port));
  write_all(fd, next);
  REQUIRE(eventually([&] { return mux.stats()["reloads"]["ok"] == 2; }, 10s));
  CHECK(mux.stats()["reloads"]["failed"] == 0);
  CHECK(serves(port));
  ::unlink(path.c_str());
  std::ofstream(path) << next;  // a plain file again for whatever reads it next
}
