// SPDX-License-Identifier: ISC
// Defects found in review, each kept fixed by a test that reproduced it.

#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/paths.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <thread>
#include <vector>

using namespace fcgimux::test;
using namespace std::chrono_literals;

TEST_CASE("two multiplexed uploads past --body-buffer on one connection and one worker both finish") {
  fcgimux_instance f(demo_pool({"-n", "1", "--body-buffer", "65536"}));
  fcgi_client c(f.address());
  std::string body1(100000, 'a'), body3(100000, 'b');
  c.send_begin(1, 1, fcgimux::proto::flag_keep_conn);
  c.send_params(1, cgi_params("POST", "/echo", body1.size()));
  c.send_stdin(1, std::string_view(body1).substr(0, 70000), 65535, false);
  REQUIRE(c.flush());
  std::this_thread::sleep_for(200ms);
  c.send_begin(3, 1, fcgimux::proto::flag_keep_conn);
  c.send_params(3, cgi_params("POST", "/echo", body3.size()));
  c.send_stdin(3, std::string_view(body3).substr(0, 70000), 65535, false);
  REQUIRE(c.flush());
  std::this_thread::sleep_for(200ms);
  c.send_stdin(1, std::string_view(body1).substr(70000));
  c.send_stdin(3, std::string_view(body3).substr(70000));
  REQUIRE(c.read_responses({1, 3}, 15s) == read_status::ok);
  CHECK(parse_cgi_response(c.response(1).out).body == body1);
  CHECK(parse_cgi_response(c.response(3).out).body == body3);
}

TEST_CASE("a front that leaves mid-upload: its worker finishes first, others go to a new worker") {
  fcgimux_instance f(demo_pool({"-n", "1", "-N", "2", "--body-buffer", "65536"}));
  {
    fcgi_client a(f.address());
    a.send_begin(1, 1, 0);
    a.send_params(1, cgi_params("POST", "/echo?sleep_ms=1200", 300000));
    a.send_stdin(1, std::string(200000, 'x'), 65535, false);
    REQUIRE(a.flush());
    REQUIRE(eventually([&] { return stats_of(f)["pool"]["busy"] == 1; }, 3s));
  }
  std::this_thread::sleep_for(300ms);
  // Still busy: STDIN was closed for it and it is sleeping, not handed back after a probation.
  CHECK(stats_of(f)["pool"]["busy"] == 1);
  auto t0 = std::chrono::steady_clock::now();
  auto r = get(f.port(), "/hello");
  CHECK(r.response.status == 200);
  CHECK(std::chrono::steady_clock::now() - t0 < 900ms);
  CHECK(eventually([&] { return stats_of(f)["pool"]["busy"] == 0; }, 5s));
  auto s = stats_of(f);
  CHECK(s["requests"]["aborted"] == 1);
  CHECK(s["responses"]["5xx"] == 0);
  CHECK(s["pool"]["size"] == 2);
}

TEST_CASE("STDIN past --body-buffer before the PARAMS end closes only that connection") {
  fcgimux_instance f(demo_pool({"-n", "1", "--body-buffer", "65536"}));
  fcgi_client c(f.address());
  c.send_begin(1, 1, 0);
  c.send_stdin(1, std::string(70000, 'z'), 65535, false);
  c.flush();
  CHECK(c.read_until_closed(5s) == read_status::ok);
  CHECK(get(f.port(), "/hello").response.status == 200);
  CHECK(stats_of(f)["requests"]["active"] == 0);
}

TEST_CASE("a URL that crashes every worker does not empty the pool for long") {
  fcgimux_instance f(demo_pool({"-n", "2"}));
  for (int i = 0; i < 8; ++i) CHECK(get(f.port(), "/boom?crash=1").response.status == 502);
  auto t0 = std::chrono::steady_clock::now();
  CHECK(get(f.port(), "/hello", 10s).response.status == 200);
  CHECK(std::chrono::steady_clock::now() - t0 < 2500ms);
}

TEST_CASE("a second SIGTERM stops at once and leaves no worker behind, even one deaf to SIGTERM") {
  // An ignored signal survives exec: this demo worker ignores SIGTERM.
  fcgimux_options o;
  o.args = {"--stats", "off", "-n", "1", "--stop-grace", "30"};
  o.command = {"/bin/sh", "-c", std::string("trap '' TERM; exec ") + demo_bin};
  fcgimux_instance f(o);
  REQUIRE(f.wait_for_workers(1, 5s));
  REQUIRE(get(f.port(), "/hello").response.status == 200);
  auto workers = f.worker_pids();
  REQUIRE(workers.size() == 1);
  f.process().send_signal(SIGTERM);
  std::this_thread::sleep_for(200ms);
  CHECK(process_alive(workers[0]));  // deaf to the first SIGTERM
  f.process().send_signal(SIGTERM);
  auto st = f.process().wait_exit(5s);
  REQUIRE(st.has_value());
  CHECK(st->exited);
  CHECK(st->code == 0);
  CHECK(eventually([&] { return !process_alive(workers[0]); }, 2s));
}

TEST_CASE("SIGTERM: requests in flight are answered in full, then fcgimux exits 0") {
  for (int round = 0; round < 5; ++round) {
    fcgimux_instance f(demo_pool({"-n", "2"}));
    std::vector<std::thread> clients;
    std::atomic<int> answered{0};
    for (int i = 0; i < 3; ++i)
      clients.emplace_back([&, i] {
        auto r = get(f.port(), "/slow?sleep_ms=" + std::to_string(300 + 100 * i) + "&bytes=100000");
        if (r.how == read_status::ok && r.response.status == 200 && r.response.body.size() == 100000) ++answered;
      });
    // All three taken in (after SIGTERM new connections are refused, by design).
    REQUIRE(eventually([&] { return stats_of(f)["requests"]["accepted"] == 3; }, 3s));
    f.process().send_signal(SIGTERM);
    for (auto& t : clients) t.join();
    auto st = f.process().wait_exit(10s);
    REQUIRE(st.has_value());
    CHECK(st->exited);
    CHECK(st->code == 0);
    CHECK(answered == 3);
  }
}

TEST_CASE("fronts that close while their request is handed to a worker are counted once") {
  // The request leaves the queue when a worker frees up; a front closing in the same moment must
  // find it at its worker (given up there), not still "queued" and finished a second time later.
  // The gap was one loop turn, rarely hit here; with the hand-over delayed by 1 ms (an experiment,
  // not kept) this test counted 44,880 completed for 41,639 accepted until start_exchange took the
  // request over at once.
  fcgimux_instance f(demo_pool({"-n", "2"}));
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::vector<std::thread> fronts;
  for (int t = 0; t < 24; ++t) {
    fronts.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        fcgi_client c(f.address());
        c.send_begin(1, 1, 0);
        c.send_params(1, cgi_params("GET", "/hello", 0));
        c.send_stdin(1, "");
        if (c.flush()) ++sent;
        // Closed after 0 to 2 ms: queued, being handed over, or at a worker by then.
        std::this_thread::sleep_for(std::chrono::microseconds((i * 7 + t * 13) % 2000));
        c.close();
      }
    });
  }
  std::this_thread::sleep_for(3s);
  stop = true;
  for (auto& t : fronts) t.join();
  REQUIRE(sent > 100);
  REQUIRE(eventually([&] { return stats_of(f)["requests"]["active"] == 0; }, 10s));
  auto s = stats_of(f);
  INFO(s.dump());
  CHECK(s["requests"]["completed"] == s["requests"]["accepted"]);
  CHECK(s["requests"]["accepted"].get<int>() <= sent.load());
  // Served by workers that are all back and healthy.
  REQUIRE(eventually([&] { return stats_of(f)["pool"]["busy"] == 0; }, 10s));
  CHECK(get(f.port(), "/hello").response.status == 200);
}
