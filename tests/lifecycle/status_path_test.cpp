// SPDX-License-Identifier: ISC
// --status-path: fcgimux answers its stats over FastCGI itself, even while every worker is busy.

#include "tests/lifecycle/lifecycle_support.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace fcgimux::test;
using namespace std::chrono_literals;

TEST_CASE("status-path answers php-fpm's JSON and Prometheus text without a worker") {
  auto o = demo_pool({"-n", "1", "--status-path", "/fcgimux-status"});
  fcgimux_instance f(o);
  std::thread busy([&] { CHECK(get(f.port(), "/slow?sleep_ms=800").response.status == 200); });
  REQUIRE(eventually([&] { return stats_of(f)["pool"]["busy"] == 1; }, 3s));
  auto t0 = std::chrono::steady_clock::now();
  auto json = get(f.port(), "/fcgimux-status?json");
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms);  // not queued behind the busy worker
  REQUIRE(json.response.status == 200);
  CHECK(json.response.header("Content-Type") == "application/json");
  auto doc = nlohmann::json::parse(json.response.body);
  CHECK(doc["active processes"] == 1);
  CHECK(doc["accepted conn"].get<int>() >= 2);
  auto full = nlohmann::json::parse(get(f.port(), "/fcgimux-status?json&full").response.body);
  REQUIRE(full["processes"].size() == 1);
  CHECK(full["processes"][0]["state"] == "Running");
  auto metrics = get(f.port(), "/fcgimux-status?metrics");
  CHECK(metrics.response.body.find("fcgimux_requests_accepted_total") != std::string::npos);
  busy.join();
}

TEST_CASE("status-path ?json&full answers valid JSON while a worker serves a URI that is not UTF-8") {
  auto o = demo_pool({"-n", "1", "--status-path", "/fcgimux-status"});
  fcgimux_instance f(o);
  std::thread busy([&] { CHECK(get(f.port(), "/caf\xe9?sleep_ms=800").response.status == 200); });
  REQUIRE(eventually([&] { return stats_of(f)["pool"]["busy"] == 1; }, 3s));
  auto full = get(f.port(), "/fcgimux-status?json&full");
  REQUIRE(full.how == read_status::ok);
  REQUIRE(full.response.status == 200);
  auto doc = nlohmann::json::parse(full.response.body);
  REQUIRE(doc["processes"].size() == 1);
  // U+FFFD for the stray byte; the query string is cut without --stats-show-query
  CHECK(doc["processes"][0]["request uri"] == "/caf\xef\xbf\xbd");
  busy.join();
}
