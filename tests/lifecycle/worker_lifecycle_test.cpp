// SPDX-License-Identifier: ISC
// Workers come and go (timeouts, retirement, php-cgi's own recycling, crashes) without a request
// being lost or answered wrongly.

#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <vector>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

std::string pid_in(const std::string& body) {
  auto p = body.find("pid ");
  return p == std::string::npos ? std::string()
                                : body.substr(p + 4, body.find_first_not_of("0123456789", p + 4) - p - 4);
}

}  // namespace

TEST_CASE("request-timeout: 504, the worker is killed and replaced") {
  fcgimux_instance f(demo_pool({"-n", "1", "--request-timeout", "0.5"}));
  auto before = pid_in(get(f.port(), "/hello").response.body);
  REQUIRE_FALSE(before.empty());
  auto t0 = std::chrono::steady_clock::now();
  auto r = get(f.port(), "/stuck?hang=1");
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(r.response.status == 504);
  CHECK(took >= 0.45);
  CHECK(took < 3);
  auto after = get(f.port(), "/hello");
  CHECK(after.response.status == 200);
  CHECK(pid_in(after.response.body) != before);
  auto s = stats_of(f);
  CHECK(s["requests"]["timed_out"] == 1);
  CHECK(s["responses"]["5xx"] == 1);
}

TEST_CASE("max-requests retires a worker after N requests, with no request failing") {
  fcgimux_instance f(demo_pool({"-n", "1", "--max-requests", "3"}));
  std::vector<std::string> pids;
  for (int i = 0; i < 9; ++i) {
    auto r = get(f.port(), "/hello");
    REQUIRE(r.response.status == 200);
    pids.push_back(pid_in(r.response.body));
  }
  CHECK(pids[0] == pids[2]);
  CHECK(pids[3] != pids[2]);
  CHECK(pids[3] == pids[5]);
  CHECK(pids[6] != pids[5]);
  CHECK(std::set<std::string>(pids.begin(), pids.end()).size() == 3);
  CHECK(stats_of(f)["workers_crashed"] == 0);
}

TEST_CASE("php-cgi recycling itself (PHP_FCGI_MAX_REQUESTS=50) under load: not one request fails") {
  temp_dir dir;
  std::string script = dir.path() + "/pid.php";
  std::ofstream(script) << "<?php echo 'pid ', getmypid(), \"\\n\";";
  fcgimux_options o;
  o.args = {"--stats", "127.0.0.1:0", "-n", "3"};
  o.command = {php_cgi_bin};
  o.env = {"PHP_FCGI_MAX_REQUESTS=50", "PHP_FCGI_CHILDREN=0"};
  fcgimux_instance f(o);
  constexpr int clients = 8, each = 60;
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> t;
  for (int c = 0; c < clients; ++c)
    t.emplace_back([&] {
      for (int i = 0; i < each; ++i) {
        fcgi_client cl(endpoint::tcp(f.port()));
        request_spec r;
        r.params = cgi_params("GET", "/pid.php");
        r.params.emplace_back("SCRIPT_FILENAME", script);
        auto how = cl.exchange(r, 20s);
        auto resp = parse_cgi_response(cl.response(1).out);
        if (how == read_status::ok && resp.status == 200 && resp.body.rfind("pid ", 0) == 0)
          ++ok;
        else
          ++bad;
      }
    });
  for (auto& x : t) x.join();
  CHECK(bad == 0);
  CHECK(ok == clients * each);
  auto s = stats_of(f);
  // 480 requests over workers that each serve 50: at least 9 workers were started.
  CHECK(s["workers_spawned"].get<int>() >= 9);
  CHECK(s["requests"]["failed"] == 0);
  CHECK(s["workers_crashed"] == 0);
}

TEST_CASE("SIGKILL of a random worker every 100 ms under load: every request answered, the pool recovers") {
  fcgimux_instance f(demo_pool({"-n", "4"}));
  REQUIRE(f.wait_for_workers(4, 5s));
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, bad_gateway{0}, other{0};
  std::vector<std::thread> t;
  for (int c = 0; c < 6; ++c)
    t.emplace_back([&] {
      while (!stop) {
        auto r = get(f.port(), "/w?sleep_ms=20", 10s);
        if (r.how == read_status::ok && r.response.status == 200)
          ++ok;
        else if (r.how == read_status::ok && r.response.status == 502)
          ++bad_gateway;
        else
          ++other;
      }
    });
  std::mt19937 rng(42);
  int kills = 0;
  for (int i = 0; i < 25; ++i) {
    std::this_thread::sleep_for(100ms);
    auto pids = f.worker_pids();
    if (pids.empty()) continue;
    ::kill(pids[rng() % pids.size()], SIGKILL);
    ++kills;
  }
  stop = true;
  for (auto& x : t) x.join();
  INFO("200: " << ok << ", 502: " << bad_gateway << ", other: " << other << ", kills: " << kills);
  CHECK(other == 0);
  CHECK(ok > 0);
  CHECK(kills >= 20);
  CHECK(eventually([&] { return stats_of(f)["pool"]["idle"] == 4; }, 5s));
  CHECK(get(f.port(), "/after").response.status == 200);
  auto s = stats_of(f);
  CHECK(s["workers_crashed"].get<int>() >= 20);
  CHECK(s["requests"]["active"] == 0);
}
