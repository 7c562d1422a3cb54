// SPDX-License-Identifier: ISC
// The pool follows the load: event-driven growth, the spawn-rate cap, slow release.

#include "tests/lifecycle/lifecycle_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

using namespace fcgimux::test;
using namespace std::chrono_literals;

TEST_CASE("the pool grows from 1 to N under load and returns to the minimum after the idle timeout") {
  fcgimux_instance f(demo_pool({"-n", "1", "-N", "6", "-w", "1"}));
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i)
    clients.emplace_back([&] {
      auto r = get(f.port(), "/slow?sleep_ms=800");
      if (r.how == read_status::ok && r.response.status == 200) ++ok;
    });
  CHECK(eventually([&] { return stats_of(f)["pool"]["size"] == 6; }, 3s));
  for (auto& t : clients) t.join();
  CHECK(ok == 6);
  // Idle for 1 s, then one worker per pass (every 0.25 s) until the minimum is left.
  CHECK(eventually([&] { return stats_of(f)["pool"]["size"] == 1; }, 8s));
  auto s = stats_of(f);
  CHECK(s["workers_spawned"] == 6);  // no flapping: nothing started again while shrinking
  CHECK(s["pool"]["busy"] == 0);
  CHECK(get(f.port(), "/after").response.status == 200);
}

TEST_CASE("max-spawn-rate caps how fast the pool grows") {
  // 2 per second with a bucket of 2: at most 3 workers in the first half second, all 8 after
  // about 2.5 s. The requests last longer than that, so the demand is still there at the end.
  fcgimux_instance f(demo_pool({"-n", "1", "-N", "8", "--max-spawn-rate", "2"}));
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&] {
      if (get(f.port(), "/slow?sleep_ms=5000").response.status == 200) ++ok;
    });
  std::this_thread::sleep_for(400ms);
  auto early = stats_of(f)["pool"]["size"].get<int>();
  CHECK(early <= 3);
  std::this_thread::sleep_for(600ms);
  CHECK(stats_of(f)["pool"]["size"].get<int>() <= 5);  // 1 s in: 1 + 2 + 2 at the very most
  CHECK(eventually([&] { return stats_of(f)["pool"]["size"] == 8; }, 4s));
  for (auto& t : clients) t.join();
  CHECK(ok == 8);
  CHECK(stats_of(f)["max_workers_reached"].get<int>() >= 0);
}

TEST_CASE("by default a burst gets every worker it needs at once") {
  fcgimux_instance f(demo_pool({"-n", "1", "-N", "8"}));
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i) clients.emplace_back([&] { get(f.port(), "/slow?sleep_ms=1500"); });
  CHECK(eventually([&] { return stats_of(f)["pool"]["size"] == 8; }, 1200ms));
  for (auto& t : clients) t.join();
}

TEST_CASE("spare keeps idle workers ready") {
  fcgimux_instance f(demo_pool({"-n", "1", "-N", "6", "--spare", "2"}));
  CHECK(eventually([&] { return stats_of(f)["pool"]["idle"].get<int>() >= 2; }, 3s));
  std::thread busy([&] { get(f.port(), "/slow?sleep_ms=1000"); });
  // One busy: the pool starts another so that two stay idle.
  CHECK(eventually(
      [&] {
        auto s = stats_of(f)["pool"];
        return s["busy"] == 1 && s["idle"].get<int>() >= 2;
      },
      3s));
  busy.join();
}
