// SPDX-License-Identifier: ISC
// The dashboard in a real browser: headless Chromium loads "/", runs the page's script against the
// server for a few (virtual) seconds, and the DOM it dumps must show the fake pool's latest numbers.

#include "server_fixture.hpp"

#include "tests/support/chromium.hpp"
#include "tests/support/temp_dir.hpp"

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <regex>

using namespace std::chrono_literals;
using namespace fcgimux::test;

TEST_CASE("the dashboard shows live numbers in headless Chromium", "[dashboard][chromium]") {
  server_fixture f;
  // each scrape completes 7 more requests, so the page has a request rate to compute
  f.on_server([&f] {
    f.ps().view = [&f](bool full) {
      f.ps().counts.requests_completed += 7;
      f.ps().counts.requests_accepted += 7;
      return f.pool()(full);
    };
  });
  const child_result r = chromium_dump_dom(fmt::format("http://127.0.0.1:{}/", f.port), 5000);
  INFO("chromium stderr: " << r.err.substr(0, 4000));
  REQUIRE(r.started);
  REQUIRE_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  const std::string& dom = r.out;
  REQUIRE(dom.find("<canvas id=\"chart-pool\"") != std::string::npos);

  const int calls = f.pool().calls.load();
  INFO("pool view calls: " << calls);
  REQUIRE(calls >= 2);  // the page polled more than once

  // pool size: a value the fake handed out, and not the first one (the page kept updating)
  const auto size = element_text(dom, "pool-size");
  REQUIRE(size);
  const std::size_t shown = std::stoul(*size);
  {
    std::lock_guard lock(f.pool().mutex);
    CHECK(std::find(f.pool().sizes_returned.begin(), f.pool().sizes_returned.end(), shown) !=
          f.pool().sizes_returned.end());
    CHECK(shown > f.pool().sizes_returned.front());
  }
  CHECK(element_text(dom, "pool-max") == "8");
  CHECK(element_text(dom, "queue-limit") == "1024");
  // the request rate comes from "completed" deltas between two polls
  const auto rate = element_text(dom, "req-rate");
  REQUIRE(rate);
  CHECK(std::strtod(rate->c_str(), nullptr) > 0);
  // the worker table from /stats?full, with the busy worker's current URI
  CHECK(dom.find("<td>4242</td>") != std::string::npos);
  CHECK(dom.find("<td>4343</td>") != std::string::npos);
  const std::regex uri("<td class=\"uri\">/fake-live-([0-9]+)\\.php</td>");
  std::smatch m;
  REQUIRE(std::regex_search(dom, m, uri));
  CHECK(std::stoi(m[1].str()) >= 2);
  CHECK(element_text(dom, "status")->rfind("live", 0) == 0);
}

// Regenerates docs/dashboard.png; run by hand: ./fcgimux_stats_tests "[.screenshot]"
TEST_CASE("dashboard screenshot", "[.screenshot]") {
  server_fixture f;
  // Synthetic, smoothly varying load (the picture documents the page, not fcgimux's performance).
  int tick = 0;
  auto view = [&f, &tick](bool full) {
    const double load = 0.5 + 0.4 * std::sin(++tick / 5.0);
    const auto per_tick = static_cast<std::uint64_t>(120 + 160 * load);
    for (std::uint64_t i = 0; i < per_tick; ++i) {
      const double spread = static_cast<double>((i * 37) % 100) / 100.0;
      const double tail = i % 50 == 0 ? 4.0 : 1.0;
      f.ps().service_latency.record(std::chrono::microseconds(static_cast<int>((1500 + 2500 * load * spread) * tail)));
      f.ps().queue_latency.record(
          std::chrono::microseconds(static_cast<int>((20 + 400 * load * load * spread) * tail)));
    }
    f.ps().counts.requests_accepted += per_tick;
    f.ps().counts.requests_completed += per_tick;
    f.ps().counts.responses_2xx += per_tick;
    f.ps().counts.workers_spawned = 9;
    f.ps().counts.workers_exited = 3;
    f.ps().counts.queue_peak = 6;
    fcgimux::pool_snapshot p;
    p.min = 2;
    p.max = 8;
    p.size = 4 + static_cast<std::size_t>(std::lround(3 * load));
    p.busy = std::min(p.size, static_cast<std::size_t>(std::lround(p.size * load)));
    p.idle = p.size - p.busy;
    p.queue_length = load > 0.75 ? static_cast<std::size_t>(std::lround((load - 0.75) * 40)) : 0;
    p.queue_limit = 1024;
    p.can_serve = true;
    if (full) {
      static constexpr const char* uris[] = {"/index.php", "/api/orders.php?page=3", "/search.php?q=fcgi", "/cart.php",
                                             "/feed.php"};
      for (std::size_t w = 0; w < p.size; ++w) {
        fcgimux::worker_info wi;
        wi.pid = 31410 + static_cast<int>(w) * 7;
        wi.state = w < p.busy ? fcgimux::member_state::busy : fcgimux::member_state::idle;
        wi.requests = 400 + w * 131 + static_cast<std::uint64_t>(tick) * (w < p.busy ? 3 : 1);
        wi.uptime_s = 600 - 60.0 * static_cast<double>(w) + tick;
        wi.has_current = w < p.busy;
        if (wi.has_current) {
          wi.current_uri = uris[(w + static_cast<std::size_t>(tick)) % 5];
          wi.current_elapsed_ms = 0.4 + static_cast<double>((w * 13 + static_cast<std::size_t>(tick)) % 30) / 10.0;
        }
        p.workers.push_back(wi);
      }
    }
    return p;
  };
  f.on_server([&] { f.ps().view = view; });
  fcgimux::test::temp_dir profile("fcgimux-chromium");
  const std::string out = FCGIMUX_SOURCE_DIR "/docs/dashboard.png";
  auto args = chromium_args(profile.path(), 60000);
  args.push_back("--hide-scrollbars");
  args.push_back("--window-size=1200,800");
  args.push_back("--screenshot=" + out);
  args.push_back(fmt::format("http://127.0.0.1:{}/", f.port));
  const child_result r = run_child(args, 120s);
  INFO(r.err.substr(0, 4000));
  REQUIRE(r.exit_code == 0);
  CHECK(std::filesystem::file_size(out) > 10000);
}
