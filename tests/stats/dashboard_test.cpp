// The dashboard in a real browser: headless Chromium loads "/", runs the page's script against the
// server for a few (virtual) seconds, and the DOM it dumps must show the fake pool's latest numbers.

#include "server_fixture.hpp"

#include "child_process.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>

using namespace std::chrono_literals;
using namespace fcgimux::test;

namespace {

std::string chromium_binary() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    if (auto p = find_program(name))
      return *p;
  FAIL("chromium not found: install it with scripts/deps.sh stats (Debian package chromium)");
  return {};
}

struct temp_dir {
  temp_dir() {
    char tmpl[] = "/tmp/fcgimux-chromium-XXXXXX";
    if (::mkdtemp(tmpl))
      path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    if (!path.empty())
      std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

std::vector<std::string> chromium_args(const std::string& profile, int budget_ms) {
  return {chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--disable-quic", "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile,
          "--virtual-time-budget=" + std::to_string(budget_ms)};
}

// The text of the element with this id, from a serialized DOM.
std::optional<std::string> element_text(const std::string& dom, const std::string& id) {
  const std::regex re("id=\"" + id + "\"[^>]*>([^<]*)<");
  std::smatch m;
  if (!std::regex_search(dom, m, re))
    return std::nullopt;
  return m[1].str();
}

}  // namespace

TEST_CASE("the dashboard shows live numbers in headless Chromium", "[dashboard][chromium]") {
  server_fixture f;
  // each scrape completes 7 more requests, so the page has a request rate to compute
  f.s.pool_view = [&f](bool full) {
    f.s.c.requests_completed += 7;
    f.s.c.requests_accepted += 7;
    return f.pool(full);
  };
  temp_dir profile;
  REQUIRE_FALSE(profile.path.empty());
  auto args = chromium_args(profile.path, 5000);
  args.push_back("--dump-dom");
  args.push_back(fmt::format("http://127.0.0.1:{}/", f.port));
  const child_result r = run_child(args, 90s);
  INFO("chromium stderr: " << r.err.substr(0, 4000));
  REQUIRE(r.started);
  REQUIRE_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  const std::string& dom = r.out;
  REQUIRE(dom.find("<canvas id=\"chart-pool\"") != std::string::npos);

  const int calls = f.pool.calls.load();
  INFO("pool_view calls: " << calls);
  REQUIRE(calls >= 2);  // the page polled more than once

  // pool size: a value the fake handed out, and not the first one (the page kept updating)
  const auto size = element_text(dom, "pool-size");
  REQUIRE(size);
  const std::size_t shown = std::stoul(*size);
  {
    std::lock_guard lock(f.pool.mutex);
    CHECK(std::find(f.pool.sizes_returned.begin(), f.pool.sizes_returned.end(), shown) !=
          f.pool.sizes_returned.end());
    CHECK(shown > f.pool.sizes_returned.front());
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
  // synthetic load that moves: latencies, a queue that grows and drains, workers that turn over
  f.s.pool_view = [&f](bool full) {
    const int n = f.pool.calls.load() + 1;
    for (int i = 0; i < 20 + 10 * (n % 5); ++i) {
      f.s.service_latency.record(std::chrono::microseconds(800 + 400 * ((i * 7 + n) % 13)));
      f.s.queue_latency.record(std::chrono::microseconds(30 + 60 * ((i * 5 + n) % 9)));
    }
    f.s.c.requests_accepted += 20 + 10 * (n % 5);
    f.s.c.requests_completed += 20 + 10 * (n % 5);
    f.s.c.responses_2xx += 20 + 10 * (n % 5);
    f.s.c.workers_spawned = 6;
    auto p = f.pool(full);
    p.size = 4 + (n / 6) % 3;
    p.busy = std::min<std::size_t>(p.size, 1 + (n % 4));
    p.idle = p.size - p.busy;
    p.starting = 0;
    p.queue_length = static_cast<std::size_t>(n % 9 > 5 ? n % 9 - 5 : 0);
    return p;
  };
  temp_dir profile;
  const std::string out = FCGIMUX_SOURCE_DIR "/docs/dashboard.png";
  auto args = chromium_args(profile.path, 60000);
  args.push_back("--hide-scrollbars");
  args.push_back("--window-size=1200,800");
  args.push_back("--screenshot=" + out);
  args.push_back(fmt::format("http://127.0.0.1:{}/", f.port));
  const child_result r = run_child(args, 120s);
  INFO(r.err.substr(0, 4000));
  REQUIRE(r.exit_code == 0);
  CHECK(std::filesystem::file_size(out) > 10000);
}
