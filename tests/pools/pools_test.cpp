// SPDX-License-Identifier: ISC
// Several pools in one fcgimux (issue 14), with the real binary, php-cgi, fcgiwrap, the demo
// worker and nginx: routing by listener, per-pool counters and totals, isolation, per-pool stats.

#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/pools/pools_support.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nginx_instance.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/run_program.hpp"
#include "tests/support/thread_group.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>
#include <vector>

using namespace fcgimux::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

double median_ms(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// `n` sequential GETs to a pool's listener: the milliseconds each took; every one must be a 200.
std::vector<double> timed_gets(std::uint16_t port, const std::string& uri, int n) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = get(port, uri, 10s);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    REQUIRE(r.how == read_status::ok);
    REQUIRE(r.response.status == 200);
  }
  return ms;
}

std::uint64_t sample_of(const std::string& metrics, const std::string& series) {
  auto at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) throw std::runtime_error("no sample " + series);
  return std::stoull(metrics.substr(at + series.size() + 2));
}

}  // namespace

TEST_CASE("two pools behind nginx: each listener reaches its own program, counters exact, totals the sum", "[pools]") {
  temp_dir dir("fcgimux-pools-scripts");
  const std::string php_script = dir.file("who.php"), cgi_script = dir.file("who.cgi");
  write_file(php_script, "<?php header('Content-Type: text/plain'); echo 'php ', getenv('POOL_TAG'), \"\\n\";\n");
  write_file(cgi_script, "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\necho \"cgi $POOL_TAG\"\n", true);
  pools_instance mux(
      json{{"pools",
            {{{"name", "www"},
              {"command", {php_cgi_bin}},
              {"workers", 2},
              {"env", {{"POOL_TAG", "www-tag"}, {"PHP_FCGI_CHILDREN", "0"}}}},
             {{"name", "cgi"}, {"command", {fcgiwrap_bin}}, {"workers", 1}, {"env", {{"POOL_TAG", "cgi-tag"}}}}}}},
      {"--status-path", "/fcgimux-status"});
  nginx_instance www({.upstream = endpoint::tcp(mux.port("www")), .backups = {}, .script_filename = php_script});
  nginx_instance cgi({.upstream = endpoint::tcp(mux.port("cgi")), .backups = {}, .script_filename = cgi_script});

  for (int i = 0; i < 12; ++i) {
    auto r = http_request(www.port(), "GET", "/who?i=" + std::to_string(i));
    REQUIRE(r.status == 200);
    CHECK(r.body == "php www-tag\n");
  }
  for (int i = 0; i < 7; ++i) {
    auto r = http_request(cgi.port(), "GET", "/who?i=" + std::to_string(i));
    REQUIRE(r.status == 200);
    CHECK(r.body == "cgi cgi-tag\n");
  }

  json s = mux.stats("/stats?full");
  INFO(s.dump(2));
  const json& w = s["pools"]["www"];
  const json& c = s["pools"]["cgi"];
  CHECK(w["requests"]["completed"] == 12);
  CHECK(w["responses"]["2xx"] == 12);
  CHECK(c["requests"]["completed"] == 7);
  CHECK(c["responses"]["2xx"] == 7);
  CHECK(w["pool"]["min"] == 2);
  CHECK(c["pool"]["min"] == 1);
  CHECK(s["requests"]["completed"] == 19);
  CHECK(s["responses"]["2xx"] == 19);
  CHECK(s["pool"]["min"] == 3);
  CHECK(s["pool"]["size"] == w["pool"]["size"].get<int>() + c["pool"]["size"].get<int>());
  CHECK(s["workers_spawned"] == w["workers_spawned"].get<int>() + c["workers_spawned"].get<int>());
  CHECK(s["workers"].size() == w["workers"].size() + c["workers"].size());
  CHECK(w["workers"].size() == 2);

  // The status path answers with the stats of the pool it was asked through.
  // (php-fpm's page, in its JSON shape: the pool's own counters)
  auto status = get(mux.port("cgi"), "/fcgimux-status?json");
  REQUIRE(status.response.status == 200);
  json own = json::parse(status.response.body);
  CHECK(own["pool"] == "cgi");
  CHECK(own["accepted conn"] == 8);  // the status request itself is one of cgi's
  CHECK(own["total processes"] == 1);

  // Prometheus: one series per pool, labelled; promtool finds nothing to complain about.
  auto metrics = http_request(mux.stats_port(), "GET", "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(sample_of(metrics.body, "fcgimux_requests_completed_total{pool=\"www\"}") == 12);
  // The status request itself is one of cgi's.
  CHECK(sample_of(metrics.body, "fcgimux_requests_completed_total{pool=\"cgi\"}") == 8);
  CHECK(sample_of(metrics.body, "fcgimux_pool_min_workers{pool=\"cgi\"}") == 1);
  auto promtool = find_program("promtool");
  REQUIRE(promtool);
  const std::string file = dir.file("metrics.txt");
  std::ofstream(file) << metrics.body;
  auto check = run_child({*promtool, "check", "metrics"}, 20s, file);
  INFO("promtool: " << check.out << check.err);
  CHECK(check.exit_code == 0);
  CHECK(check.err.empty());
}

TEST_CASE("a pool whose program crash-loops answers 503 and health says so, the other pool is not touched",
          "[pools][isolation]") {
  pools_instance mux(json{{"pools",
                           {{{"name", "a"}, {"command", {demo_bin}}, {"workers", 2}},
                            {{"name", "b"}, {"command", {"/bin/sh", "-c", "exit 1"}}, {"workers", 1}}}}});
  auto health = [&](const std::string& q) { return http_request(mux.stats_port(), "GET", "/healthz" + q).status; };
  // Three failed starts with back-off between them: seconds on a loaded machine, so a wide bound.
  REQUIRE(eventually([&] { return health("?pool=b") == 503; }, 60s));
  CHECK(health("?pool=a") == 200);
  CHECK(health("") == 503);
  CHECK(health("?pool=nope") == 404);

  const auto before = timed_gets(mux.port("a"), "/x", 100);
  std::atomic<bool> stop{false};
  std::atomic<int> b_503{0}, b_other{0};
  std::vector<std::thread> flood;
  for (int t = 0; t < 4; ++t)
    flood.emplace_back([&] {
      while (!stop) {
        auto r = get(mux.port("b"), "/y", 10s);
        (r.how == read_status::ok && r.response.status == 503 ? b_503 : b_other)++;
      }
    });
  const auto during = timed_gets(mux.port("a"), "/x", 100);
  stop = true;
  for (auto& t : flood) t.join();
  INFO("a's median before " << median_ms(before) << " ms, during b's flood " << median_ms(during) << " ms");
  CHECK(b_503 > 0);
  CHECK(b_other == 0);
  // Generous: the demo answers in well under a millisecond; a pool that waited on the other's
  // back-off (100 ms and up) or queue would be far past this.
  CHECK(median_ms(during) < median_ms(before) + 20);
  json s = mux.stats();
  CHECK(s["pools"]["a"]["requests"]["rejected"] == 0);
  CHECK(s["pools"]["a"]["responses"]["2xx"] == 200);
  CHECK(s["pools"]["b"]["requests"]["rejected"] == b_503.load());
  CHECK(s["pools"]["b"]["workers_crashed"].get<int>() >= 3);
  CHECK(s["pools"]["a"]["workers_crashed"] == 0);
}

TEST_CASE("a pool whose queue is full rejects its own requests only", "[pools][isolation]") {
  pools_instance mux(json{{"pools",
                           {{{"name", "a"}, {"command", {demo_bin}}, {"workers", 2}},
                            {{"name", "b"}, {"command", {demo_bin}}, {"workers", 1}, {"queue-limit", 2}}}}});
  REQUIRE(mux.mux().wait_for_workers(3, 10s));
  std::vector<int> b_status(6, 0);
  thread_group b;
  auto send = [&](int i) {
    b.spawn([&, i] { b_status[i] = get(mux.port("b"), "/slow?sleep_ms=3000", 30s).response.status; });
  };
  auto b_shows = [&](const char* part, const char* key, int n) {
    return eventually([&] { return mux.stats()["pools"]["b"][part][key] == n; }, 20s);
  };
  // In order, each step seen before the next: the first takes the worker, two queue, three are refused.
  send(0);
  REQUIRE(b_shows("pool", "busy", 1));
  send(1);
  send(2);
  REQUIRE(b_shows("queue", "length", 2));
  for (int i = 3; i < 6; ++i) send(i);
  REQUIRE(b_shows("requests", "rejected", 3));
  const auto during = timed_gets(mux.port("a"), "/x", 50);
  b.join();
  CHECK(std::count(b_status.begin(), b_status.end(), 200) == 3);
  CHECK(std::count(b_status.begin(), b_status.end(), 503) == 3);
  CHECK(median_ms(during) < 50);  // not queued behind b's 1.5 s requests
  json s = mux.stats();
  CHECK(s["pools"]["a"]["requests"]["rejected"] == 0);
  CHECK(s["pools"]["a"]["queue"]["peak"] == 0);
  CHECK(s["pools"]["b"]["queue"]["peak"] == 2);
  CHECK(s["requests"]["rejected"] == 3);
}

TEST_CASE("a flat file and a one-pool pools file serve alike, as pool default", "[pools][config]") {
  temp_dir dir("fcgimux-pools-config");
  write_file(dir.file("flat.json"),
             json{{"listen", "127.0.0.1:0"}, {"stats", "127.0.0.1:0"}, {"workers", 2}, {"command", {demo_bin}}}.dump());
  for (const bool pools_file : {false, true}) {
    INFO((pools_file ? "pools file" : "flat file"));
    std::unique_ptr<fcgimux_instance> flat;
    std::unique_ptr<pools_instance> pooled;
    std::uint16_t port = 0, stats_port = 0;
    if (pools_file) {
      pooled = std::make_unique<pools_instance>(
          json{{"pools", {{{"name", "default"}, {"workers", 2}, {"command", {demo_bin}}}}}});
      port = pooled->port("default");
      stats_port = pooled->stats_port();
    } else {
      flat = std::make_unique<fcgimux_instance>(
          fcgimux_options{.args = {"-c", dir.file("flat.json")}, .command = {}, .env = {}, .listen_tcp = false});
      port = flat->wait_for_port("listening on 127.0.0.1:", 10s);
      stats_port = flat->wait_for_port("stats on 127.0.0.1:", 10s);
    }
    REQUIRE(port != 0);
    for (int i = 0; i < 5; ++i) CHECK(get(port, "/x?bytes=3").response.body == "abc");
    auto r = http_request(stats_port, "GET", "/stats");
    REQUIRE(r.status == 200);
    json s = json::parse(r.body);
    REQUIRE(s["pools"].size() == 1);
    const json& d = s["pools"]["default"];
    CHECK(d["pool"]["min"] == 2);
    CHECK(d["requests"]["completed"] == 5);
    for (const char* key : {"pool", "requests", "responses", "workers_spawned"}) CHECK(s[key] == d[key]);
  }
}

TEST_CASE("pool configuration errors: one line naming the pool and the key, exit 2", "[pools][config]") {
  temp_dir dir("fcgimux-pools-errors");
  const json demo = json::array({std::string(demo_bin)});
  auto pool = [&](const std::string& name, const std::string& listen) {
    return json{{"name", name}, {"listen", listen}, {"command", demo}};
  };
  json over = pool("api", "127.0.0.1:0");
  over["workers"] = 4;
  over["max-workers"] = 2;
  json typo = pool("api", "127.0.0.1:0");
  typo["wrokers"] = 2;
  const std::uint16_t free = free_tcp_port();
  const std::string taken = "127.0.0.1:" + std::to_string(free);
  const std::vector<std::pair<json, std::string>> cases = {
      {json{{"pools", {pool("www", "127.0.0.1:0"), over}}}, "pool \"api\": max-workers (2) must be >= workers (4)"},
      {json{{"pools", {typo}}}, "pool \"api\": unknown key \"wrokers\""},
      {json{{"pools", {pool("www", "127.0.0.1:0"), pool("www", "127.0.0.1:0")}}},
       "pool \"www\": a second pool of that name"},
      {json{{"pools", {pool("www", taken), pool("api", taken)}}},
       "pool \"api\": listen: '" + taken + "' is already pool \"www\"'s"},
  };
  int n = 0;
  for (const auto& [config, line] : cases) {
    const std::string file = dir.file("bad" + std::to_string(n++) + ".json");
    std::ofstream(file) << config.dump();
    auto r = run_fcgimux({"-c", file}, 5s);
    INFO(config.dump() << "\nstderr: " << r.stderr_text);
    REQUIRE(r.finished);
    CHECK(r.status.exited);
    CHECK(r.status.code == 2);
    CHECK(r.stderr_text == "fcgimux: error: " + line + "\n");
  }
}
