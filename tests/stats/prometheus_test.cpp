#include "src/stats/stats.hpp"

#include "fake_workers.hpp"
#include "tests/support/run_program.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

using namespace std::chrono_literals;
using fcgimux::pool_snapshot;
using fcgimux::stats;
using fcgimux::worker_info;

namespace {

struct exposition {
  std::map<std::string, std::string> help, type;  ///< by family name
  std::map<std::string, double> samples;          ///< by "name{labels}" as written
  std::vector<std::string> malformed;
};

// Just enough of the 0.0.4 text format to look values up; promtool does the real validation.
exposition parse(const std::string& text) {
  exposition e;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      const std::string rest = line.substr(7);
      const auto sp = rest.find(' ');
      (line[2] == 'H' ? e.help : e.type)[rest.substr(0, sp)] = rest.substr(sp + 1);
      continue;
    }
    const auto sp = line.rfind(' ');
    if (sp == std::string::npos) {
      e.malformed.push_back(line);
      continue;
    }
    const std::string value = line.substr(sp + 1);
    e.samples[line.substr(0, sp)] = value == "+Inf" ? INFINITY : std::strtod(value.c_str(), nullptr);
  }
  return e;
}

pool_snapshot snapshot(bool full) {
  using fcgimux::test::busy_worker, fcgimux::test::idle_worker;
  // the busy worker's URI must never reach a label unescaped
  return {.min = 1,
          .max = 4,
          .size = 3,
          .busy = 2,
          .idle = 1,
          .queue_length = 6,
          .queue_limit = 100,
          .can_serve = true,
          .workers = full ? std::vector{busy_worker(123, 40, 11.5, "/a\"b\\c\n.php", 250), idle_worker(124, 9, 3)}
                          : std::vector<worker_info>{}};
}

void fill(stats& s) {
  s.pool_view = snapshot;
  s.c.requests_accepted = 50;
  s.c.requests_completed = 47;
  s.c.requests_rejected = 2;
  s.c.responses_2xx = 40;
  s.c.responses_5xx = 7;
  s.c.connections_accepted = 11;
  s.c.workers_spawned = 5;
  s.c.workers_crashed = 1;
  s.c.max_workers_reached = 4;
  s.c.queue_peak = 12;
  s.version = "0.1.0 \"test\"";
  for (int i = 1; i <= 47; ++i) {
    s.queue_latency.record(std::chrono::microseconds(20 * i));
    s.service_latency.record(std::chrono::milliseconds(i));
  }
}

struct promtool_result {
  int exit_code;
  std::string output;
};

promtool_result promtool_check(const std::string& metrics) {
  const auto promtool = fcgimux::test::find_program("promtool");
  if (!promtool) FAIL("promtool not found: install it with scripts/deps.sh stats (Debian package prometheus)");
  char path[] = "/tmp/fcgimux-metrics-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path) << metrics;
  const auto r = fcgimux::test::run_child({*promtool, "check", "metrics"}, 30s, path);
  ::unlink(path);
  REQUIRE(r.started);
  REQUIRE_FALSE(r.timed_out);
  return {r.exit_code, r.out + r.err};
}

}  // namespace

TEST_CASE("to_prometheus carries the counters, gauges and histograms", "[stats][prometheus]") {
  stats s;
  fill(s);
  const exposition e = parse(s.to_prometheus());
  CHECK(e.malformed.empty());
  for (const auto& [name, type] : e.type) {
    INFO(name);
    CHECK(name.rfind("fcgimux_", 0) == 0);
    CHECK(e.help.count(name) == 1);
    if (type == "counter") CHECK(name.size() > 6);
    if (type == "counter") CHECK(name.substr(name.size() - 6) == "_total");
  }
  CHECK(e.type.at("fcgimux_requests_accepted_total") == "counter");
  CHECK(e.type.at("fcgimux_pool_busy_workers") == "gauge");
  CHECK(e.type.at("fcgimux_service_seconds") == "histogram");
  CHECK(e.type.at("fcgimux_queue_wait_seconds") == "histogram");
  CHECK(e.type.at("fcgimux_worker_requests_total") == "counter");
  // every figure fill() and snapshot() set, under its name and labels
  const std::pair<const char*, double> expected[] = {
      {"fcgimux_requests_accepted_total", 50},
      {"fcgimux_requests_completed_total", 47},
      {"fcgimux_requests_active", 3},
      {"fcgimux_requests_rejected_total", 2},
      {"fcgimux_responses_total{class=\"2xx\"}", 40},
      {"fcgimux_responses_total{class=\"5xx\"}", 7},
      {"fcgimux_connections_accepted_total", 11},
      {"fcgimux_workers_spawned_total", 5},
      {"fcgimux_workers_crashed_total", 1},
      {"fcgimux_max_workers_reached_total", 4},
      {"fcgimux_pool_workers", 3},
      {"fcgimux_pool_busy_workers", 2},
      {"fcgimux_pool_idle_workers", 1},
      {"fcgimux_pool_max_workers", 4},
      {"fcgimux_queue_length", 6},
      {"fcgimux_queue_peak", 12},
      {"fcgimux_queue_limit", 100},
      {"fcgimux_info{version=\"0.1.0 \\\"test\\\"\"}", 1},
      {"fcgimux_service_seconds_count", 47},
      {"fcgimux_service_seconds_bucket{le=\"+Inf\"}", 47},
      // 2^24 ns = 16.777216 ms: exactly the samples 1..16 ms lie below it
      {"fcgimux_service_seconds_bucket{le=\"0.016777216\"}", 16},
      {"fcgimux_queue_wait_seconds_count", 47},
      {"fcgimux_worker_requests_total{pid=\"123\"}", 40},
      {"fcgimux_worker_requests_total{pid=\"124\"}", 9},
      {"fcgimux_worker_busy{pid=\"123\"}", 1},
      {"fcgimux_worker_busy{pid=\"124\"}", 0},
      {"fcgimux_worker_state{pid=\"124\",state=\"idle\"}", 1},
  };
  for (const auto& [sample, value] : expected) {
    INFO(sample);
    CHECK(e.samples.at(sample) == value);
  }
  CHECK(e.samples.at("fcgimux_service_seconds_sum") == Approx(47 * 48 / 2 / 1000.0));
  CHECK(e.samples.at("fcgimux_worker_current_request_seconds{pid=\"123\"}") == Approx(0.25));
  CHECK(e.samples.count("fcgimux_worker_current_request_seconds{pid=\"124\"}") == 0);
}

TEST_CASE("promtool check metrics accepts the exposition", "[stats][prometheus][promtool]") {
  SECTION("with workers, samples and odd label text") {
    stats s;
    fill(s);
    const auto r = promtool_check(s.to_prometheus());
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.empty());
  }
  SECTION("fresh, without a pool") {
    stats s;
    const auto r = promtool_check(s.to_prometheus());
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.empty());
  }
  SECTION("promtool itself rejects a broken exposition (the check is live)") {
    const auto r = promtool_check("# TYPE fcgimux_x counter\nfcgimux_x{pid=\"1\" 1\n");
    CHECK(r.exit_code != 0);
  }
}

// Not run by default: how long one scrape holds the event loop. ./fcgimux_stats_tests "[.bench]"
TEST_CASE("rendering cost with 64 workers", "[.bench]") {
  stats s;
  fill(s);
  s.pool_view = [](bool full) {
    pool_snapshot p = snapshot(false);
    if (full)
      for (int i = 0; i < 64; ++i) {
        worker_info w;
        w.pid = 10000 + i;
        w.state = i % 2 ? "busy" : "idle";
        w.has_current = i % 2;
        w.current_uri = "/index.php?page=" + std::to_string(i);
        p.workers.push_back(w);
      }
    return p;
  };
  constexpr int n = 2000;
  std::size_t bytes = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) bytes += s.to_json(true).dump(2).size();
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) bytes += s.to_prometheus().size();
  auto t2 = std::chrono::steady_clock::now();
  std::printf("to_json(true)+dump: %.1f us, to_prometheus: %.1f us\n",
              std::chrono::duration<double, std::micro>(t1 - t0).count() / n,
              std::chrono::duration<double, std::micro>(t2 - t1).count() / n);
  CHECK(bytes > 0);
}
