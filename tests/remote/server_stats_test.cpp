// SPDX-License-Identifier: ISC
// Per-server stats (issue 22 item 6) through the real fcgimux with real php-fpm servers:
// pools.NAME.servers in /stats and the fcgimux_server_* series in /metrics move with the requests,
// a killed server shows down or ejected, and one a SIGHUP removed shows draining while its
// requests finish, then is gone.

#include "tests/remote/fpm_server.hpp"
#include "tests/remote/remote_load.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/net.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/thread_group.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

nlohmann::json servers_of(const fcgimux_instance& mux) {
  auto r = http_request(mux.stats_port(), "GET", "/stats");
  if (!r.ok || r.status != 200) return nullptr;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object()) return nullptr;
  return j["pools"]["default"]["servers"];
}

std::string metrics_of(const fcgimux_instance& mux) {
  auto r = http_request(mux.stats_port(), "GET", "/metrics");
  return r.ok && r.status == 200 ? r.body : std::string();
}

// Polls /stats until `ok` holds for the servers object; false after `within` (a loaded machine).
bool stats_show(const fcgimux_instance& mux, const std::function<bool(const nlohmann::json&)>& ok,
                std::chrono::seconds within = 30s) {
  for (auto end = std::chrono::steady_clock::now() + within; std::chrono::steady_clock::now() < end;) {
    const auto s = servers_of(mux);
    if (s.is_object() && ok(s)) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

std::string state_of(const nlohmann::json& servers, const std::string& address) {
  return servers.contains(address) ? servers[address].value("state", "") : "gone";
}

std::string server_json(const fpm_server& s) { return R"({"address": ")" + s.address() + R"(", "max-conns": 2})"; }

}  // namespace

TEST_CASE("per-server stats: counts move with the requests, a killed server is down, a removed one drains then goes",
          "[remote][stats]") {
  fpm_server a("a", 2), b("b", 2), c("c", 2);
  temp_dir dir{"fcgimux-server-stats"};
  const std::string file = dir.file("fcgimux.json");
  auto write = [&](const std::string& servers) {
    write_file(file, R"({"stats": "127.0.0.1:0", "check-interval": 0.2, "check-timeout": 1, "fall": 2,
                         "rise": 1, "servers": [)" +
                         servers + "]}");
  };
  write(server_json(a) + "," + server_json(b) + "," + server_json(c));
  fcgimux_options o;
  o.args = {"-c", file};
  fcgimux_instance mux(o);
  REQUIRE(mux.stats_port() != 0);

  // 30 GETs one after the other: each server's count is the number of answers it gave.
  std::map<std::string, int> seen;
  std::vector<std::string> failures;
  for (int i = 0; i < 30; ++i) {
    auto out = ask(mux.address(), a.script(), "GET", "/answer.php", "");
    out.ok ? ++seen[out.server] : (failures.push_back(out.why), 0);
  }
  REQUIRE(failures.empty());
  // The checks ended at least once for every server by now (or soon: every 0.2 s).
  REQUIRE(stats_show(mux, [&](const nlohmann::json& s) {
    for (const fpm_server* f : {&a, &b, &c})
      if (!s.contains(f->address()) || s[f->address()]["last_check"].is_null()) return false;
    return true;
  }));
  nlohmann::json s = servers_of(mux);
  INFO(s.dump(2) << mux.stderr_text());
  REQUIRE(s.size() == 3);
  for (const fpm_server* f : {&a, &b, &c}) {
    const auto& v = s[f->address()];
    CHECK(v["state"] == "up");
    CHECK(v["requests"] == seen[f->mark()]);
    CHECK(v["failures"] == 0);
    CHECK(v["in_flight"] == 0);
    CHECK(v["max"] == 2);
    CHECK(v["max_from"] == "configured");
    CHECK(v["weight"] == 1);
    CHECK(v["effective_weight"] == 1.0);
    CHECK(v["latency_ms"]["count"] == seen[f->mark()]);
    if (seen[f->mark()] > 0) CHECK(v["latency_ms"]["p99"].get<double>() > 0);
    CHECK(v["last_check"]["result"] == "passed");
  }
  std::string m = metrics_of(mux);
  for (const fpm_server* f : {&a, &b, &c}) {
    const std::string labels = "{pool=\"default\",server=\"" + f->address() + "\"}";
    CHECK(m.find("fcgimux_server_requests_total" + labels + " " + std::to_string(seen[f->mark()]) + "\n") !=
          std::string::npos);
    CHECK(m.find("fcgimux_server_up" + labels + " 1\n") != std::string::npos);
  }

  // c killed: its checks fail (and a request that reaches it fails over), so it is down or ejected.
  // Its children first found, then killed with it: once the master is gone they are no longer
  // its descendants, and would go on answering on the listening socket they share.
  const auto children = descendants_of(c.process().pid());
  ::kill(c.process().pid(), SIGKILL);
  for (pid_t p : children) ::kill(p, SIGKILL);
  for (int i = 0; i < 10; ++i) {
    auto out = ask(mux.address(), a.script(), "GET", "/answer.php", "");
    if (!out.ok) failures.push_back(out.why);
  }
  CHECK(failures.empty());
  // Ejected (passive, by the failed-over request) can come before the next check has run: its
  // failure is waited for too, every 0.2 s.
  CHECK(stats_show(mux, [&](const nlohmann::json& s) {
    const auto st = state_of(s, c.address());
    return (st == "down" || st == "ejected") && s[c.address()]["last_check"]["result"] == "failed";
  }));
  m = metrics_of(mux);
  CHECK(m.find("fcgimux_server_up{pool=\"default\",server=\"" + c.address() + "\"} 0\n") != std::string::npos);

  // Two slow requests at a, then a SIGHUP without a: draining while they finish, then gone.
  thread_group slow;
  std::mutex mu;
  std::map<std::string, int> slow_seen;
  for (int i = 0; i < 4; ++i)
    slow.spawn([&] {
      auto out = ask(mux.address(), a.script(), "GET", "/answer.php?sleep=3000", "");
      std::lock_guard l(mu);
      out.ok ? ++slow_seen[out.server] : (failures.push_back(out.why), 0);
    });
  // Least outstanding with max-conns 2 each: two at a, two at b.
  REQUIRE(stats_show(mux, [&](const nlohmann::json& s) { return s[a.address()]["in_flight"] == 2; }));
  write(server_json(b));
  mux.process().send_signal(SIGHUP);
  CHECK(stats_show(mux, [&](const nlohmann::json& s) {
    return state_of(s, a.address()) == "draining" && s[a.address()]["in_flight"] == 2 &&
           state_of(s, c.address()) == "gone";
  }));
  slow.join();
  CHECK(failures.empty());
  CHECK(slow_seen["a"] == 2);
  CHECK(stats_show(mux, [&](const nlohmann::json& s) { return state_of(s, a.address()) == "gone" && s.size() == 1; }));
  // b's two processes were both busy with slow requests, so its checks (answered by one of
  // them) may have timed out meanwhile: it is up again at the next check.
  CHECK(stats_show(mux, [&](const nlohmann::json& s) { return state_of(s, b.address()) == "up"; }));
  m = metrics_of(mux);
  INFO(m);
  REQUIRE_FALSE(m.empty());
  CHECK(m.find("server=\"" + a.address() + "\"") == std::string::npos);
  CHECK(m.find("fcgimux_server_up{pool=\"default\",server=\"" + b.address() + "\"} 1\n") != std::string::npos);
}

TEST_CASE("a SIGHUP that turns the checks on (check-interval from 0) starts them, one that turns them off ends them",
          "[remote][stats]") {
  fpm_server a("a", 2);
  const std::string dead = "127.0.0.1:" + std::to_string(free_tcp_port());  // nothing listens there
  temp_dir dir{"fcgimux-checks-on"};
  const std::string file = dir.file("fcgimux.json");
  auto write = [&](const std::string& interval) {
    write_file(file, R"({"stats": "127.0.0.1:0", "check-interval": )" + interval +
                         R"(, "check-timeout": 1, "fall": 2, "rise": 1, "servers": [)" + server_json(a) +
                         R"(, {"address": ")" + dead + R"(", "max-conns": 2}]})");
  };
  write("0");
  fcgimux_options o;
  o.args = {"-c", file};
  fcgimux_instance mux(o);
  REQUIRE(mux.stats_port() != 0);
  auto out = ask(mux.address(), a.script(), "GET", "/answer.php", "");
  REQUIRE(out.ok);
  // No check runs: nothing has looked at the dead server yet (no request went there either).
  auto s = servers_of(mux);
  INFO(s.dump(2) << mux.stderr_text());
  CHECK(state_of(s, dead) == "up");
  CHECK(s[dead]["last_check"].is_null());

  write("0.2");
  mux.process().send_signal(SIGHUP);
  CHECK(stats_show(mux, [&](const nlohmann::json& v) {
    return state_of(v, dead) == "down" && v[dead]["last_check"]["result"] == "failed" &&
           v[a.address()]["last_check"]["result"] == "passed" && state_of(v, a.address()) == "up";
  }));

  write("0");
  mux.process().send_signal(SIGHUP);
  // Without checks nothing would ever bring it up again: it is up, as every server starts, and
  // its own requests decide (--max-fails).
  CHECK(stats_show(mux, [&](const nlohmann::json& v) { return state_of(v, dead) == "up"; }));
  // And no check runs any more. An absence is seen only over time: seven of the old intervals,
  // which a slow machine can only make too few to notice one, never a false failure.
  const auto before = servers_of(mux);
  std::this_thread::sleep_for(1500ms);
  const auto after = servers_of(mux);
  INFO(before.dump(2) << after.dump(2));
  CHECK(after[a.address()]["last_check"]["at"] == before[a.address()]["last_check"]["at"]);
  CHECK(after[dead]["last_check"]["at"] == before[dead]["last_check"]["at"]);
}
