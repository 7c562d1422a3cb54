// SPDX-License-Identifier: ISC
// Slow start (issue 22 item 3) through the real fcgimux with two real php-fpm servers: a server
// that comes back (frozen, then thawed: its checks fail, then pass) ramps up over --slow-start,
// getting a smaller share of the requests during its ramp than after it.

#include "tests/remote/fpm_server.hpp"
#include "tests/remote/remote_load.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/http_client.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

std::string state_of(const fcgimux_instance& mux, const std::string& address) {
  auto r = http_request(mux.stats_port(), "GET", "/stats");
  if (!r.ok || r.status != 200) return "";
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object()) return "";
  const auto& s = j["pools"]["default"]["servers"];
  return s.contains(address) ? s[address].value("state", "") : "";
}

bool state_is(const fcgimux_instance& mux, const std::string& address, const std::string& state,
              std::chrono::seconds within = 30s) {
  for (auto end = std::chrono::steady_clock::now() + within; std::chrono::steady_clock::now() < end;) {
    if (state_of(mux, address) == state) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void signal_all(fpm_server& s, int sig) {
  ::kill(s.process().pid(), sig);
  for (pid_t p : descendants_of(s.process().pid())) ::kill(p, sig);
}

// Four clients sending GETs (each a short sleep at the server, so that requests overlap) for
// `during`; how many each server answered.
std::map<std::string, int> load_for(const fcgimux_instance& mux, const std::string& script,
                                    std::chrono::steady_clock::duration during, std::vector<std::string>& failures) {
  std::map<std::string, int> by;
  std::mutex mu;
  const auto end = std::chrono::steady_clock::now() + during;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      while (std::chrono::steady_clock::now() < end) {
        auto out = ask(mux.address(), script, "GET", "/answer.php?sleep=20", "");
        std::lock_guard l(mu);
        out.ok ? ++by[out.server] : (failures.push_back(out.why), 0);
      }
    });
  for (auto& t : ts) t.join();
  return by;
}

double share(std::map<std::string, int>& by, const std::string& mark) {
  const int all = by["a"] + by["b"];
  return all > 0 ? static_cast<double>(by[mark]) / all : 0;
}

}  // namespace

TEST_CASE("slow start: a recovered server gets a smaller share during its ramp than after it", "[remote][slow_start]") {
  // Two processes more than max-conns: a check always finds one free (php-fpm answers
  // FCGI_GET_VALUES in a process of the pool), so only the frozen server fails its checks.
  fpm_server a("a", 6), b("b", 6);
  fcgimux_options o;
  o.args = {"--stats",          "127.0.0.1:0",
            "--server",         a.address() + ",max-conns=4",
            "--server",         b.address() + ",max-conns=4",
            "--slow-start",     "10",
            "--check-interval", "0.2",
            "--check-timeout",  "0.5",
            "--fall",           "1",
            "--rise",           "1"};
  fcgimux_instance mux(o);
  REQUIRE(mux.stats_port() != 0);
  // Present at start-up: both ramp from their first passed check, then are up.
  CHECK(state_is(mux, b.address(), "starting"));
  REQUIRE(state_is(mux, b.address(), "up", 60s));

  signal_all(b, SIGSTOP);
  const bool went_down = state_is(mux, b.address(), "down");
  signal_all(b, SIGCONT);
  INFO(mux.stderr_text());
  REQUIRE(went_down);
  // Back: its ramp begins at the check that passed.
  REQUIRE(state_is(mux, b.address(), "starting"));
  std::vector<std::string> failures;
  auto ramping = load_for(mux, a.script(), 4s, failures);  // the first 40 % of its ramp at most
  const bool still_starting = state_of(mux, b.address()) == "starting";
  REQUIRE(state_is(mux, b.address(), "up", 60s));
  auto after = load_for(mux, a.script(), 4s, failures);
  INFO("during the ramp a=" << ramping["a"] << " b=" << ramping["b"] << "; after a=" << after["a"]
                            << " b=" << after["b"] << "\n"
                            << joined(failures));
  CHECK(failures.empty());
  CHECK(still_starting);
  // Enough requests on both sides for a share to mean something, even on a loaded machine.
  REQUIRE(ramping["a"] + ramping["b"] >= 20);
  REQUIRE(after["a"] + after["b"] >= 20);
  // At under 40 % of its weight and four clients, least outstanding gives it little; at full
  // weight about half. Bounds wide enough for a busy machine's uneven answer times.
  CHECK(share(ramping, "b") < 0.3);
  CHECK(share(after, "b") > 0.3);
  CHECK(share(ramping, "b") < share(after, "b"));
}
