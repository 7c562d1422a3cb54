// SPDX-License-Identifier: ISC
// Remote FastCGI servers as pool members (issue 22), with the real fcgimux, real php-fpm servers
// (each with its own configuration, directory and free port), php-cgi as local workers and nginx:
// a pool of servers only, workers with servers as their overflow, max-conns and FCGI_GET_VALUES
// respected at the server (asserted from php-fpm's own status page), kept connections reused.

#include "tests/remote/fpm_server.hpp"
#include "tests/remote/remote_load.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/fcgi_client.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nginx_instance.hpp"
#include "tests/support/paths.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

// `clients` threads, each sending `each` requests (GETs and POSTs by turns, bodies of varying
// size); returns how many each server answered; every failure is recorded in `failures`.
std::map<std::string, int> load(const endpoint& front, const std::string& script, int clients, int each,
                                const std::string& query, std::vector<std::string>& failures) {
  std::map<std::string, int> by_server;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < each; ++i) {
        const int id = t * 1000 + i;
        const bool post = i % 2 == 1;
        auto o = post ? ask(front, script, "POST", "/answer.php" + query, body_for(id, 1 + (id * 997) % 70000))
                      : ask(front, script, "GET", "/answer.php" + query, "");
        std::lock_guard lock(mu);
        if (o.ok)
          ++by_server[o.server];
        else
          failures.push_back(o.why);
      }
    });
  for (auto& th : threads) th.join();
  return by_server;
}


// Waits until fcgimux's stats say `n` workers are idle: ready, their exec done (a worker that is
// still starting takes no request, and the server would get it).
bool workers_idle(const fcgimux_instance& mux, std::size_t n) {
  for (int i = 0; i < 500; ++i) {
    auto r = http_request(mux.stats_port(), "GET", "/stats");
    if (r.ok && r.status == 200) {
      auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (j.is_object() && j["pool"]["idle"] == n) return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}


}  // namespace

TEST_CASE("a pool of servers only: GETs and POSTs spread over three php-fpm, every answer the right one", "[remote]") {
  fpm_server a("a", 4), b("b", 4), c("c", 4);
  fcgimux_options o;
  o.args = {"--stats",  "off",
            "--server", a.address() + ",max-conns=4",
            "--server", b.address() + ",max-conns=4",
            "--server", c.address() + ",max-conns=4"};
  fcgimux_instance mux(o);
  std::vector<std::string> failures;
  auto by_server = load(mux.address(), a.script(), 12, 10, "", failures);
  INFO(joined(failures) << mux.stderr_text() << a.log());
  CHECK(failures.empty());
  CHECK(by_server["a"] + by_server["b"] + by_server["c"] == 120);
  CHECK(by_server["a"] > 0);
  CHECK(by_server["b"] > 0);
  CHECK(by_server["c"] > 0);
  // Nothing was spawned: the servers are the pool.
  CHECK(mux.worker_pids().empty());
}

TEST_CASE("workers first, servers as their overflow: the server gets requests only while the workers are busy",
          "[remote]") {
  fpm_server fpm("remote", 4);
  fcgimux_options o;
  o.args = {"--stats", "127.0.0.1:0",       "-n",       "2",
            "--env",   "SERVER_MARK=local", "--server", fpm.address() + ",max-conns=4"};
  o.command = {php_cgi_bin};
  fcgimux_instance mux(o);
  REQUIRE(workers_idle(mux, 2));
  // One at a time: an idle worker is always there, so the server gets nothing.
  std::map<std::string, int> seq;
  for (int i = 0; i < 20; ++i) {
    auto r = ask(mux.address(), fpm.script(), i % 2 ? "POST" : "GET", "/answer.php", i % 2 ? body_for(i, 5000) : "");
    INFO(r.why << mux.stderr_text());
    REQUIRE(r.ok);
    ++seq[r.server];
  }
  CHECK(seq["local"] == 20);
  CHECK(fpm.peak() == 0);  // the server ran no request
  // Six slow ones at once: two workers take two, the server the other four.
  std::vector<std::string> failures;
  auto burst = load(mux.address(), fpm.script(), 6, 1, "?sleep=1500", failures);
  INFO(joined(failures) << mux.stderr_text());
  CHECK(failures.empty());
  CHECK(burst["local"] == 2);
  CHECK(burst["remote"] == 4);
}

TEST_CASE("prefer servers: the workers are the servers' overflow", "[remote]") {
  fpm_server fpm("remote", 2);
  fcgimux_options o;
  o.args = {
      "--stats",  "127.0.0.1:0", "-n", "2", "--env", "SERVER_MARK=local", "--server", fpm.address() + ",max-conns=2",
      "--prefer", "servers"};
  o.command = {php_cgi_bin};
  fcgimux_instance mux(o);
  REQUIRE(workers_idle(mux, 2));
  for (int i = 0; i < 10; ++i) {
    auto r = ask(mux.address(), fpm.script(), "GET", "/answer.php", "");
    INFO(r.why << mux.stderr_text());
    REQUIRE(r.ok);
    CHECK(r.server == "remote");
  }
  std::vector<std::string> failures;
  auto burst = load(mux.address(), fpm.script(), 4, 1, "?sleep=1500", failures);
  INFO(joined(failures) << mux.stderr_text());
  CHECK(failures.empty());
  CHECK(burst["remote"] == 2);
  CHECK(burst["local"] == 2);
}

TEST_CASE("max-conns: never more requests in flight at a server than its limit, the rest wait in fcgimux's queue",
          "[remote]") {
  fpm_server fpm("one", 6);
  fcgimux_options o;
  o.args = {"--stats", "off", "--server", fpm.address() + ",max-conns=2"};
  fcgimux_instance mux(o);
  std::vector<std::string> failures;
  auto by_server = load(mux.address(), fpm.script(), 8, 2, "?sleep=300", failures);
  INFO(joined(failures) << mux.stderr_text() << fpm.log());
  CHECK(failures.empty());
  CHECK(by_server["one"] == 16);
  // The server's own count: at most 2 requests were ever in flight there at once, and 2 were.
  CHECK(fpm.peak() == 2);
  // Kept connections: the 16 requests went over the connections fcgimux kept open (2), not a
  // connection each (each closed one would be in TIME_WAIT at one end or the other); the one
  // closed is the test's own, made to see that php-fpm listens.
  CHECK(ended_connections(fpm.where().port) <= 1);
  CHECK(fpm.status()["accepted conn"] >= 16);  // php-fpm counts the requests it took: all of them
}

TEST_CASE("no max-conns: php-fpm names no FCGI_MAX_CONNS, so the default limit of 5 holds", "[remote]") {
  fpm_server fpm("one", 8);
  fcgimux_options o;
  o.args = {"--stats", "off", "--server", fpm.address()};
  fcgimux_instance mux(o);
  std::vector<std::string> failures;
  auto by_server = load(mux.address(), fpm.script(), 10, 1, "?sleep=800", failures);
  INFO(joined(failures) << mux.stderr_text());
  CHECK(failures.empty());
  CHECK(by_server["one"] == 10);
  CHECK(fpm.peak() == 5);
  CHECK(mux.stderr_text().find("names no FCGI_MAX_CONNS: max-conns 5, a connection per request") != std::string::npos);
}

TEST_CASE("nginx in front: kept connections through fcgimux to two php-fpm, GETs and POSTs", "[remote]") {
  fpm_server a("a", 3), b("b", 3);
  fcgimux_options o;
  o.args = {"--stats", "off", "--server", a.address() + ",max-conns=3", "--server", b.address() + ",max-conns=3"};
  fcgimux_instance mux(o);
  nginx_options n;
  n.upstream = mux.address();
  n.keepalive = true;
  n.script_filename = a.script();
  nginx_instance nginx(n);
  std::map<std::string, int> by_server;
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      http_connection conn(nginx.port());
      for (int i = 0; i < 15; ++i) {
        const bool post = i % 3 == 0;
        const std::string body = post ? body_for(t * 100 + i, 2000 + i * 311) : "";
        auto r = conn.request(post ? "POST" : "GET", "/answer.php?sleep=" + std::to_string(20 * (i % 4)), body, 30s);
        auto a = parse_answer(r.body);
        std::lock_guard lock(mu);
        if (r.ok && r.status == 200 && a.ok && a.length == body.size() && a.crc == crc32_hex(body))
          ++by_server[a.server];
        else
          failures.push_back(std::to_string(r.status) + " " + r.error + " " + r.body);
      }
    });
  for (auto& th : threads) th.join();
  INFO(joined(failures) << mux.stderr_text() << nginx.error_log());
  CHECK(failures.empty());
  CHECK(by_server["a"] + by_server["b"] == 60);
  CHECK(by_server["a"] > 0);
  CHECK(by_server["b"] > 0);
}

TEST_CASE("a killed server: its refused connects are sent elsewhere, it is ejected, no request fails", "[remote]") {
  fpm_server a("a", 3), b("b", 3), c("c", 3);
  fcgimux_options o;
  o.args = {"--stats",      "off",
            "--server",     a.address() + ",max-conns=3",
            "--server",     b.address() + ",max-conns=3",
            "--server",     c.address() + ",max-conns=3",
            "--eject-time", "30"};
  fcgimux_instance mux(o);
  std::vector<std::string> failures;
  auto before = load(mux.address(), a.script(), 6, 6, "", failures);
  REQUIRE(failures.empty());
  REQUIRE(before["b"] > 0);
  // SIGKILL to php-fpm's master and its children: its kept connections close, connects are refused.
  auto group = descendants_of(b.process().pid());
  for (pid_t p : group) ::kill(p, SIGKILL);
  REQUIRE(b.process().wait_exit(10s));
  auto after = load(mux.address(), a.script(), 6, 10, "", failures);
  INFO(joined(failures) << mux.stderr_text());
  CHECK(failures.empty());
  CHECK(after["a"] + after["c"] == 60);
  CHECK(after["b"] == 0);
  CHECK(mux.stderr_text().find("server " + b.address() + " failed 3 requests in a row; ejected for 30.0 s") !=
        std::string::npos);
}

TEST_CASE("a server that answers FCGI_MAX_CONNS=1 gets one connection and one request at a time", "[remote]") {
  // The demo answers GET_VALUES at once with FCGI_MAX_CONNS=1 and serves one connection at a time.
  const std::uint16_t port = free_tcp_port();
  spawn_options so;
  so.argv = {demo_bin, "--listen", "127.0.0.1:" + std::to_string(port)};
  child_process demo(so);
  REQUIRE(wait_connectable(endpoint::tcp(port), 10s));
  fcgimux_options o;
  o.args = {"--stats", "off", "--server", "127.0.0.1:" + std::to_string(port)};
  fcgimux_instance mux(o);
  std::atomic<bool> done{false};
  std::atomic<int> most{0};
  std::thread watch([&] {
    while (!done) {
      most = std::max(most.load(), connections_to(port));
      std::this_thread::sleep_for(2ms);
    }
  });
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      for (int i = 0; i < 3; ++i) {
        fcgi_client c(mux.address());
        request_spec r;
        r.params = cgi_params("GET", "/?sleep_ms=100");
        if (c.exchange(r, 30s) == read_status::ok && parse_cgi_response(c.response(1).out).status == 200) ++ok;
      }
    });
  for (auto& th : clients) th.join();
  done = true;
  watch.join();
  INFO(mux.stderr_text());
  CHECK(ok == 12);
  CHECK(most == 1);
  CHECK(mux.stderr_text().find("says FCGI_MAX_CONNS=1: max-conns 1") != std::string::npos);
}
