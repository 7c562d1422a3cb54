// SPDX-License-Identifier: ISC
// Workers that are not what the configuration says (a kcgi app under KEEP_CONN, programs that
// pre-fork), and a stop that neither spawns, nor refuses what open connections still ask for,
// nor leaves a process behind.

#include "backends.hpp"
#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nginx_instance.hpp"
#include "tests/support/test_data.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <thread>

using namespace fcgimux::test;
using fcgimux::proto::flag_keep_conn;

namespace {

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

backend kcgi_backend() {
  backend b = demo_backend();
  b.command.push_back("--kcgi");  // exits with status 0 on FCGI_KEEP_CONN, as kcgi apps do
  return b;
}

// GETs for `how_long`, one connection each; returns how many were answered 200.
int get_for(const fcgimux_instance& mux, std::chrono::milliseconds how_long, int* total) {
  int ok = 0;
  *total = 0;
  auto until = std::chrono::steady_clock::now() + how_long;
  while (std::chrono::steady_clock::now() < until) {
    auto r = get(mux.port(), "/data?bytes=10", 5s);
    ++*total;
    if (r.how == read_status::ok && r.response.status == 200) ++ok;
  }
  return ok;
}

}  // namespace

TEST_CASE("a kcgi app under --keep-conn yes backs off and the log names --keep-conn no", "[hardening][workers]") {
  fcgimux_instance mux(behind_fcgimux(kcgi_backend(), {"-n", "1", "--keep-conn", "yes", "--stats", "127.0.0.1:0"}));
  int total = 0;
  get_for(mux, 3s, &total);
  auto s = stats_of(mux);
  INFO("requests sent " << total << "\n" << mux.stderr_text());
  // Exiting without an answer is a failure whatever the exit status: the spawns back off
  // (100 ms, 200 ms, 400 ms, ...) instead of one per request.
  CHECK(s["workers_spawned"].get<int>() <= 12);
  CHECK(count_of(mux.stderr_text(), "--keep-conn no") == 1);
}

TEST_CASE("keep-conn auto switches a pool of kcgi apps to a connection per request", "[hardening][workers]") {
  fcgimux_instance mux(behind_fcgimux(kcgi_backend(), {"-n", "2", "--keep-conn", "auto", "--stats", "127.0.0.1:0"}));
  // The first request finds out (and gets its 502, it may have run); every later one is served.
  get(mux.port(), "/data?bytes=10", 5s);
  int total = 0;
  int ok = get_for(mux, 1500ms, &total);
  INFO(mux.stderr_text());
  CHECK(total > 20);
  CHECK(ok == total);
  CHECK(count_of(mux.stderr_text(), "switching to a connection per request") == 1);
  auto s = stats_of(mux);
  CHECK(s["workers_spawned"].get<int>() <= 4);
}

TEST_CASE("keep-conn auto keeps connections with workers that take them", "[hardening][workers]") {
  temp_dir dir;
  backend b = php_backend(dir);
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "1", "--keep-conn", "auto", "--stats", "127.0.0.1:0"}));
  REQUIRE(mux.wait_for_workers(1, 10s));
  pid_t w = mux.worker_pids().front();
  for (int i = 0; i < 20; ++i) {
    fcgi_client c(mux.address());
    REQUIRE_READ_OK(c.exchange(backend_request(b, "GET", "/data?bytes=5"), 10s), mux);
  }
  // One kept connection: php-cgi accepted once.
  CHECK(mux.worker_pids() == std::vector<pid_t>{w});
  CHECK(count_of(mux.stderr_text(), "switching") == 0);
}

TEST_CASE("stopping leaves no pre-forked child of a worker behind", "[hardening][workers]") {
  auto name = GENERATE(as<std::string>{}, "fcgiwrap", "php-cgi");
  INFO(name);
  temp_dir dir;
  backend b = backend_named(name, dir);
  if (name == "fcgiwrap") {
    b.command.push_back("-c");
    b.command.push_back("4");
  } else {
    b.env = {"PHP_FCGI_CHILDREN=4"};
  }
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "2"}));
  fcgi_client c(mux.address());
  REQUIRE_READ_OK(c.exchange(backend_request(b, "GET", "/data?bytes=5"), 10s), mux);
  std::vector<pid_t> all;
  REQUIRE(eventually(
      [&] {
        all = descendants_of(mux.process().pid());
        return all.size() >= 1 + 2 * 5;  // fcgimux, two workers, four children each
      },
      10s));
  mux.process().send_signal(SIGTERM);
  auto st = mux.process().wait_exit(15s);
  REQUIRE(st);
  CHECK(st->exited);
  CHECK(st->code == 0);
  CHECK(eventually(
      [&] {
        for (pid_t p : all)
          if (process_alive(p)) return false;
        return true;
      },
      3s));
  for (pid_t p : all) {
    INFO("process " << p);
    CHECK_FALSE(process_alive(p));
  }
}

TEST_CASE("a stop spawns nothing, serves requests on open connections and closes idle ones", "[hardening][workers]") {
  backend b = demo_backend();
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "3", "--verbose", "--stats", "127.0.0.1:0"}));
  REQUIRE(mux.wait_for_workers(3, 10s));
  fcgi_client busy(mux.address());  // a request in flight when the stop begins
  fcgi_client idle(mux.address());  // a kept connection with nothing in flight
  fcgi_client mpx(mux.address());   // a multiplexing front with one request in flight
  REQUIRE_READ_OK(idle.exchange(backend_request(b, "GET", "/data?bytes=3", "", flag_keep_conn), 10s), mux);
  // Long enough that both are still at their workers after the waits below on a loaded machine.
  busy.send_request(backend_request(b, "GET", "/?sleep_ms=6000", "", flag_keep_conn));
  REQUIRE(busy.flush());
  mpx.send_request(backend_request(b, "GET", "/?sleep_ms=6000", "", flag_keep_conn));
  REQUIRE(mpx.flush());
  REQUIRE(eventually([&] { return stats_of(mux)["pool"]["busy"] == 2; }, 10s));  // both at workers
  mux.process().send_signal(SIGTERM);
  REQUIRE(eventually([&] { return mux.stderr_text().find("then stopping") != std::string::npos; }, 10s));

  // The idle worker dies during the stop: nothing replaces it.
  auto full = http_request(mux.stats_port(), "GET", "/stats?full");
  REQUIRE(full.status == 200);
  int killed = 0;
  auto doc = nlohmann::json::parse(full.body);
  for (auto& w : doc["workers"])
    if (w["state"] == "idle") {
      ::kill(w["pid"].get<int>(), SIGKILL);
      ++killed;
    }
  CHECK(killed == 1);

  // A request that arrives on an open connection while workers are up is served, not refused.
  request_spec second = backend_request(b, "GET", "/data?bytes=7", "", flag_keep_conn);
  second.id = 2;
  mpx.send_request(second);
  REQUIRE(mpx.flush());
  REQUIRE_READ_OK(mpx.read_responses({1, 2}, 10s), mux);
  CHECK(parse_cgi_response(mpx.response(1).out).status == 200);
  CHECK(parse_cgi_response(mpx.response(2).out).body == pattern_bytes(7));
  REQUIRE_READ_OK(busy.read_response(1, 10s), mux);
  CHECK(parse_cgi_response(busy.response(1).out).status == 200);
  // The idle kept connection was closed, so that a web server reconnects elsewhere.
  CHECK(idle.read_until_closed(5s) == read_status::ok);

  auto st = mux.process().wait_exit(15s);
  REQUIRE(st);
  CHECK(st->code == 0);
  INFO(mux.stderr_text());
  CHECK(count_of(mux.stderr_text(), " started: ") == 3);
}

TEST_CASE("nginx with keep-alive under load fails no request while fcgimux drains", "[hardening][workers][nginx]") {
  // nginx's upstream has a backup server, as a stopping instance's traffic needs somewhere to
  // go: connections refused once fcgimux stops accepting go there. What fcgimux controls is the
  // rest: no 503 while workers are up, and no request on a kept connection cut or reset.
  backend b = demo_backend();
  fcgimux_instance stopping(behind_fcgimux(b, {"-n", "4"}));
  fcgimux_instance backup(behind_fcgimux(b, {"-n", "4"}));
  nginx_options o;
  o.upstream = stopping.address();
  o.keepalive = true;
  o.keepalive_connections = 16;
  o.backups = {backup.address()};
  nginx_instance nginx(o);
  std::atomic<bool> run{true};
  std::mutex m;
  std::map<int, int> statuses;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      http_connection c(nginx.port());
      for (int i = 0; run; ++i) {
        std::size_t n = 100 + static_cast<std::size_t>(t * 1000 + i) % 5000;
        auto r = c.request("GET", "/data?sleep_ms=2&bytes=" + std::to_string(n), {}, 10s);
        std::lock_guard lock(m);
        ++statuses[r.ok ? r.status : 0];
        if (!r.ok || r.status != 200 || r.body != pattern_bytes(n))
          failures.push_back(r.ok ? "status " + std::to_string(r.status) + ": " + r.body.substr(0, 80) : r.error);
      }
    });
  }
  // Load first, then the stop under it, then load on the backup: counted, not timed, so that a
  // loaded machine that serves fewer requests a second still sees each phase.
  auto answered = [&] {
    std::lock_guard lock(m);
    return statuses[200];
  };
  CHECK(eventually([&] { return answered() >= 300; }, 60s));
  stopping.process().send_signal(SIGTERM);
  auto st = stopping.process().wait_exit(15s);
  const int at_stop = answered();
  CHECK(eventually([&] { return answered() >= at_stop + 200; }, 60s));
  run = false;
  for (auto& c : clients) c.join();
  REQUIRE(st);
  CHECK(st->code == 0);
  std::string errors;
  for (auto& line : split_lines(nginx.error_log()))
    if (line.find("[error]") != std::string::npos) errors += line + "\n";
  INFO("nginx errors:\n" << errors << "stopping fcgimux:\n" << stopping.stderr_text());
  std::string failed;
  for (auto& f : failures) failed += f + "\n";
  INFO("failures:\n" << failed);
  CHECK(failures.empty());
  CHECK(statuses[503] == 0);
  CHECK(statuses[200] > 500);
}
