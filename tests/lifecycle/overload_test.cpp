// SPDX-License-Identifier: ISC
// Overload is answered at once with 503 + Retry-After, never with a pile-up.

#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/support/http_client.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("past --queue-limit a request gets 503 at once") {
  fcgimux_instance f(demo_pool({"-n", "1", "--queue-limit", "2"}));
  std::atomic<int> ok{0};
  std::vector<std::thread> t;
  t.emplace_back([&] { ok += get(f.port(), "/a?sleep_ms=1500").response.status == 200; });
  REQUIRE(eventually([&] { return stats_of(f)["pool"]["busy"] == 1; }, 3s));
  for (int i = 0; i < 2; ++i) t.emplace_back([&] { ok += get(f.port(), "/queued").response.status == 200; });
  REQUIRE(eventually([&] { return stats_of(f)["queue"]["length"] == 2; }, 3s));
  auto t0 = std::chrono::steady_clock::now();
  auto r = get(f.port(), "/one-too-many");
  CHECK(seconds_since(t0) < 0.5);
  CHECK(r.how == read_status::ok);
  CHECK(r.response.status == 503);
  CHECK(r.response.header("Retry-After") == "1");
  CHECK_FALSE(r.response.body.empty());
  for (auto& x : t) x.join();
  CHECK(ok == 3);
  auto s = stats_of(f);
  CHECK(s["requests"]["rejected"] == 1);
  CHECK(s["queue"]["peak"] == 2);
}

TEST_CASE("after --queue-timeout a waiting request gets 503") {
  fcgimux_instance f(demo_pool({"-n", "1", "--queue-timeout", "0.3"}));
  std::thread busy([&] { CHECK(get(f.port(), "/a?sleep_ms=1500").response.status == 200); });
  REQUIRE(eventually([&] { return stats_of(f)["pool"]["busy"] == 1; }, 3s));
  auto t0 = std::chrono::steady_clock::now();
  auto r = get(f.port(), "/waits");
  double waited = seconds_since(t0);
  CHECK(r.response.status == 503);
  CHECK(waited >= 0.25);
  CHECK(waited < 1.2);
  busy.join();
  CHECK(stats_of(f)["requests"]["timed_out"] == 1);
}

TEST_CASE("a program that cannot start: 503 at once, a clear log line, /healthz 503") {
  fcgimux_options o;
  o.args = {"--stats", "127.0.0.1:0", "-n", "2"};
  o.command = {"/nonexistent/fcgi-app"};
  fcgimux_instance f(o);
  // Three failed starts (100, 200, 400 ms of back-off) and the pool gives up waiting.
  CHECK(eventually([&] { return get(f.port(), "/x", 5s).response.status == 503; }, 5s));
  auto t0 = std::chrono::steady_clock::now();
  auto r = get(f.port(), "/y", 5s);
  CHECK(r.response.status == 503);
  CHECK(seconds_since(t0) < 0.5);
  CHECK(f.stderr_text().find("No such file or directory") != std::string::npos);
  auto h = http_request(f.stats_port(), "GET", "/healthz");
  CHECK(h.status == 503);
  // It keeps probing with back-off instead of a fork loop.
  auto spawned = stats_of(f)["workers_spawned"].get<int>();
  CHECK(spawned < 12);
}
