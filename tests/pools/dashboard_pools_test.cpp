// SPDX-License-Identifier: ISC
// The dashboard with two real pools, in headless Chromium: the pools side by side, one pool in
// detail, and charts that start with the history fcgimux kept before the page was opened.

#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/pools/pools_support.hpp"
#include "tests/support/chromium.hpp"
#include "tests/support/paths.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <thread>

using namespace fcgimux::test;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_CASE("the dashboard shows every pool and one in detail, with the minutes before it was opened",
          "[pools][dashboard][chromium]") {
  pools_instance mux(json{{"pools",
                           {{{"name", "www"}, {"command", {demo_bin}}, {"workers", 3}},
                            {{"name", "api"}, {"command", {demo_bin}}, {"workers", 1}, {"max-workers", 2}}}}});
  for (int i = 0; i < 9; ++i) REQUIRE(get(mux.port("api"), "/x").response.status == 200);
  // fcgimux samples once a second on its own: by the time the page opens it has a past.
  REQUIRE(eventually([&] { return mux.stats("/history?pool=api")["series"]["size"].size() >= 3; }, 10s));
  json history = mux.stats("/history?pool=api");
  CHECK(history["interval_s"] == 1);
  CHECK(history["series"]["size"].back() == 1);

  const child_result r = chromium_dump_dom("http://127.0.0.1:" + std::to_string(mux.stats_port()) + "/?pool=api", 3000);
  INFO("chromium stderr: " << r.err.substr(0, 4000));
  REQUIRE(r.started);
  REQUIRE_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  const std::string& dom = r.out;
  // Side by side: one row per pool.
  CHECK(dom.find("data-pool=\"www\"") != std::string::npos);
  CHECK(dom.find("data-pool=\"api\"") != std::string::npos);
  // In detail: api's own figures, not the totals (4 to 5 workers) nor www's (3).
  CHECK(element_text(dom, "selected-name") == "api");
  CHECK(element_text(dom, "pool-min") == "1");
  CHECK(element_text(dom, "pool-max") == "2");
  CHECK(element_text(dom, "req-completed") == "9");
  // The charts started from fcgimux's history, not from nothing.
  const auto kept = element_text(dom, "history-samples");
  REQUIRE(kept);
  CHECK(std::stoi(*kept) >= 3);
}
