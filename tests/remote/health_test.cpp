// SPDX-License-Identifier: ISC
// Health of remote servers (issue 22 item 4), with the real fcgimux and real php-fpm servers: a
// request a server read and dropped unanswered is sent once more to another server when that is
// safe (no body, an idempotent method), never a POST whose body went out.

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

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

long stats_counter(const fcgimux_instance& mux, const std::string& name) {
  auto r = http_request(mux.stats_port(), "GET", "/stats");
  if (!r.ok || r.status != 200) return -1;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j["requests"].contains(name)) return -1;
  return j["requests"][name].get<long>();
}

}  // namespace

TEST_CASE("a server killed mid-request: its GETs are answered by another server, only its POSTs fail",
          "[remote][health]") {
  fpm_server a("a", 3), b("b", 3), c("c", 3);
  fcgimux_options o;
  o.args = {"--stats",      "127.0.0.1:0",
            "--server",     a.address() + ",max-conns=3",
            "--server",     b.address() + ",max-conns=3",
            "--server",     c.address() + ",max-conns=3",
            "--eject-time", "30"};
  fcgimux_instance mux(o);
  // Nine clients for nine slots, each request 300 ms long: every server, b too, has three requests
  // in flight at any moment, read and being worked on, when b's php-fpm is killed.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> get_failures, post_failures;
  std::atomic<int> answered_by_b{0}, answered{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 9; ++t)
    clients.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        const bool post = t % 3 == 2;
        const int id = t * 1000 + i;
        auto out = post ? ask(mux.address(), a.script(), "POST", "/answer.php?sleep=300", body_for(id, 100 + id % 5000))
                        : ask(mux.address(), a.script(), "GET", "/answer.php?sleep=300", "");
        std::lock_guard lock(mu);
        if (out.ok) {
          ++answered;
          if (out.server == "b") ++answered_by_b;
        } else {
          (post ? post_failures : get_failures).push_back(out.why);
        }
      }
    });
  // b has served for a while (its slots are full from then on) before it dies.
  for (int i = 0; i < 1000 && answered_by_b < 6; ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(answered_by_b >= 6);
  for (pid_t p : descendants_of(b.process().pid())) ::kill(p, SIGKILL);
  ::kill(b.process().pid(), SIGKILL);
  REQUIRE(b.process().wait_exit(10s));
  const int at_kill = answered;
  // The survivors go on serving everyone.
  for (int i = 0; i < 1000 && answered < at_kill + 30; ++i) std::this_thread::sleep_for(10ms);
  stop = true;
  for (auto& th : clients) th.join();

  const std::string log = mux.stderr_text();
  const std::size_t replayed = count_of(log, "sending it once more, to another member");
  INFO(joined(get_failures) << joined(post_failures) << log);
  CHECK(answered >= at_kill + 30);
  // No GET fails: each one b dropped was sent once more.
  CHECK(get_failures.empty());
  // b had three requests when it died, one per connection, and each connection may have taken
  // one more as it died (sent as the last answer came): each of these was replayed (a GET) or
  // answered 502 (a POST whose body went out is never sent again).
  CHECK(replayed + post_failures.size() >= 1);
  CHECK(replayed + post_failures.size() <= 6);
  for (auto& why : post_failures) CHECK(why.find("502") != std::string::npos);
  // fcgimux counts what the clients saw.
  CHECK(stats_counter(mux, "failed") == static_cast<long>(post_failures.size()));
}

namespace {

// Waits (generously: the machine is loaded) until fcgimux's log holds `what`.
bool log_shows(const fcgimux_instance& mux, const std::string& what, std::chrono::seconds within = 20s) {
  for (auto end = std::chrono::steady_clock::now() + within; std::chrono::steady_clock::now() < end;) {
    if (mux.stderr_text().find(what) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void signal_all(fpm_server& s, int sig) {
  ::kill(s.process().pid(), sig);
  for (pid_t p : descendants_of(s.process().pid())) ::kill(p, sig);
}

// `n` GETs at once, each 500 ms long, and which server answered each. With both servers up and
// three slots each, six at once cannot all go to a: whatever the balancer's tie-break, b answers
// some; a request sent after the one before it ended would leave that to the tie-break.
std::map<std::string, int> at_once(const fcgimux_instance& mux, const fpm_server& s, int n,
                                   std::vector<std::string>& failures) {
  std::map<std::string, int> seen;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&] {
      auto out = ask(mux.address(), s.script(), "GET", "/answer.php?sleep=500", "");
      std::lock_guard lock(mu);
      out.ok ? ++seen[out.server] : (failures.push_back(out.why), 0);
    });
  for (auto& t : threads) t.join();
  return seen;
}

int healthz(const fcgimux_instance& mux, const std::string& pool) {
  auto r = http_request(mux.stats_port(), "GET", "/healthz?pool=" + pool);
  return r.ok ? r.status : -1;
}

}  // namespace

TEST_CASE("a frozen server fails its ping checks and is down until it answers them again", "[remote][health]") {
  fpm_server a("a", 3), b("b", 3);
  fcgimux_options o;
  // Checks of php-fpm's ping.path every 200 ms; a frozen server's connect succeeds (its kernel
  // still accepts) and only the answer's timeout shows it.
  o.args = {"--stats",
            "127.0.0.1:0",
            "--server",
            a.address() + ",max-conns=3",
            "--server",
            b.address() + ",max-conns=3",
            "--check-interval",
            "0.2",
            "--check-timeout",
            "0.5",
            "--check-path",
            "/ping",
            "--fall",
            "2",
            "--rise",
            "2",
            "--request-timeout",
            "10"};
  fcgimux_instance mux(o);
  std::vector<std::string> failures;
  auto seen = at_once(mux, a, 6, failures);
  INFO(joined(failures) << mux.stderr_text());
  REQUIRE(failures.empty());
  REQUIRE(seen["b"] > 0);

  signal_all(b, SIGSTOP);
  const std::string down = "server " + b.address() + " failed 2 checks in a row";
  const bool went_down = log_shows(mux, down);
  // Down: every request goes to a, none waits on the frozen b.
  seen.clear();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    auto out = ask(mux.address(), a.script(), "GET", "/answer.php", "");
    out.ok ? ++seen[out.server] : (failures.push_back(out.why), 0);
  }
  const auto took = std::chrono::steady_clock::now() - t0;
  signal_all(b, SIGCONT);
  const bool came_back = log_shows(mux, "server " + b.address() + " passed 2 checks in a row; up again");
  INFO(joined(failures) << mux.stderr_text());
  REQUIRE(went_down);
  CHECK(failures.empty());
  CHECK(seen["a"] == 20);
  CHECK(took < 8s);  // 20 requests that never wait for a 10 s request timeout at b
  REQUIRE(came_back);
  seen = at_once(mux, a, 6, failures);
  CHECK(failures.empty());
  CHECK(seen["b"] > 0);
}

TEST_CASE("every server down by its checks: requests get a fast 503, /healthz?pool= says 503, until one is back",
          "[remote][health]") {
  fpm_server a("a", 2);
  fcgimux_options o;
  o.args = {"--stats",          "127.0.0.1:0", "--server",        a.address() + ",max-conns=2",
            "--check-interval", "0.2",         "--check-timeout", "0.5",
            "--fall",           "2",           "--rise",          "1"};
  fcgimux_instance mux(o);
  REQUIRE(ask(mux.address(), a.script(), "GET", "/answer.php", "").ok);
  CHECK(healthz(mux, "default") == 200);
  signal_all(a, SIGSTOP);
  const bool went_down = log_shows(mux, "server " + a.address() + " failed 2 checks in a row");
  const auto t0 = std::chrono::steady_clock::now();
  auto refused = ask(mux.address(), a.script(), "GET", "/answer.php", "");
  const auto took = std::chrono::steady_clock::now() - t0;
  const int health_down = healthz(mux, "default");
  signal_all(a, SIGCONT);
  const bool came_back = log_shows(mux, "server " + a.address() + " passed 1 checks in a row; up again");
  INFO(mux.stderr_text() << refused.why);
  REQUIRE(went_down);
  CHECK_FALSE(refused.ok);
  CHECK(refused.why.find("503") != std::string::npos);
  CHECK(took < 2s);
  CHECK(health_down == 503);
  REQUIRE(came_back);
  CHECK(healthz(mux, "default") == 200);
  CHECK(ask(mux.address(), a.script(), "GET", "/answer.php", "").ok);
}
