// SPDX-License-Identifier: ISC
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
using fcgimux::limit_source;
using fcgimux::pool_snapshot;
using fcgimux::pool_stats;
using fcgimux::server_info;
using fcgimux::server_state;
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
          .generation = 1,
          .roll = {},
          .workers = full ? std::vector{busy_worker(123, 40, 11.5, "/a\"b\\c\n.php", 250), idle_worker(124, 9, 3)}
                          : std::vector<worker_info>{},
          .servers = {}};
}

// Two servers, one in each of the states that matter to the series (and an address that needs
// escaping in a label: a unix path may hold a quote).
pool_snapshot with_servers(bool full) {
  pool_snapshot s = snapshot(full);
  server_info a;
  a.address = "127.0.0.1:9001";
  a.state = server_state::starting;
  a.weight = 2;
  a.effective_weight = 0.5;
  a.in_flight = 3;
  a.max = 5;
  a.max_from = limit_source::server;
  a.requests = 120;
  a.failures = 4;
  a.ejections = 1;
  a.latency = {.count = 10, .p50_ms = 2, .p90_ms = 3, .p99_ms = 8};
  a.checked = true;
  a.last_check_passed = true;
  server_info b;
  b.address = "unix:/run/a\"b.sock";
  b.state = server_state::ejected;
  s.servers = {a, b};
  return s;
}

void fill(stats& s, pool_stats& p) {
  p.view = snapshot;
  p.counts.requests_accepted = 50;
  p.counts.requests_completed = 47;
  p.counts.requests_rejected = 2;
  p.counts.responses_2xx = 40;
  p.counts.responses_5xx = 7;
  s.counts.connections_accepted = 11;
  p.counts.workers_spawned = 5;
  p.counts.workers_crashed = 1;
  p.counts.max_workers_reached = 4;
  p.counts.queue_peak = 12;
  s.version = "0.1.0 \"test\"";
  for (int i = 1; i <= 47; ++i) {
    p.queue_latency.record(std::chrono::microseconds(20 * i));
    p.service_latency.record(std::chrono::milliseconds(i));
  }
}

// A sample's key ("name{labels}" as written) split into its name and label values.
struct sample_key {
  std::string name;
  std::map<std::string, std::string> labels;
  bool ok = true;
};

sample_key split(const std::string& key) {
  sample_key k;
  const auto brace = key.find('{');
  k.name = key.substr(0, brace);
  if (brace == std::string::npos) return k;
  std::size_t i = brace + 1;
  while (i < key.size() && key[i] != '}') {
    const auto eq = key.find("=\"", i);
    if (eq == std::string::npos) return k.ok = false, k;
    const std::string label = key.substr(i, eq - i);
    std::string value;
    for (i = eq + 2; i < key.size() && key[i] != '"'; ++i) {
      if (key[i] == '\\' && i + 1 < key.size()) ++i;
      value += key[i];
    }
    if (i >= key.size()) return k.ok = false, k;
    k.labels[label] = value;
    ++i;  // the closing quote
    if (i < key.size() && key[i] == ',') ++i;
  }
  return k;
}

// The family a sample belongs to: its name, or the histogram whose _bucket, _sum or _count it is.
std::string family_of(const exposition& e, const std::string& name) {
  if (e.type.count(name)) return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      const std::string base = name.substr(0, name.size() - s.size());
      if (e.type.count(base) && e.type.at(base) == "histogram") return base;
    }
  }
  return {};
}

// The series that belong to no pool.
const std::set<std::string> process_wide = {"fcgimux_info",
                                            "fcgimux_uptime_seconds",
                                            "fcgimux_connections_active",
                                            "fcgimux_connections_accepted_total",
                                            "fcgimux_connections_refused_total",
                                            "fcgimux_connections_header_timeouts_total",
                                            "fcgimux_connections_idle_timeouts_total",
                                            "fcgimux_error_log_dropped_total",
                                            "fcgimux_reloads_total",
                                            "fcgimux_upgrades_total"};

// Two pools with different figures everywhere: a (workers 101 busy, 102 idle) and b (201 busy,
// cannot serve).
struct two_pools {
  stats s;
  pool_stats a, b;
  two_pools() {
    using fcgimux::test::busy_worker, fcgimux::test::idle_worker;
    s.add_pool("a", a);
    s.add_pool("b", b);
    s.counts.connections_accepted = 11;
    s.counts.connections_active = 2;
    s.counts.connections_refused = 3;
    s.counts.connections_header_timeouts = 4;
    s.counts.connections_idle_timeouts = 5;
    a.view = [](bool full) {
      return fcgimux::test::snapshot_of(
          {1, 4, 3, 1, 1, 1, 6, 100}, true,
          full ? std::vector{busy_worker(101, 40, 11.5, "/a.php", 250), idle_worker(102, 9, 3)}
               : std::vector<worker_info>{});
    };
    b.view = [](bool full) {
      return fcgimux::test::snapshot_of(
          {2, 9, 7, 5, 0, 2, 60, 600}, false,
          full ? std::vector{busy_worker(201, 70, 21.5, "/b.php", 750)} : std::vector<worker_info>{});
    };
    std::uint64_t v = 1000;
    for (pool_stats* p : {&a, &b}) {
      auto& c = p->counts;
      for (std::uint64_t* f : {&c.requests_completed, &c.requests_accepted, &c.requests_rejected, &c.requests_timed_out,
                               &c.requests_aborted, &c.requests_failed, &c.responses_2xx, &c.responses_3xx,
                               &c.responses_4xx, &c.responses_5xx, &c.responses_other, &c.workers_spawned,
                               &c.workers_exited, &c.workers_crashed, &c.max_workers_reached, &c.queue_peak})
        *f = v += 13;
    }
    for (int i = 1; i <= 10; ++i) a.service_latency.record(std::chrono::milliseconds(1));
    for (int i = 1; i <= 30; ++i) b.service_latency.record(std::chrono::milliseconds(100));
    for (int i = 1; i <= 20; ++i) b.queue_latency.record(std::chrono::milliseconds(2));
  }
};

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
  pool_stats p;
  s.add_pool("default", p);
  fill(s, p);
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
      {"fcgimux_requests_accepted_total{pool=\"default\"}", 50},
      {"fcgimux_requests_completed_total{pool=\"default\"}", 47},
      {"fcgimux_requests_active{pool=\"default\"}", 3},
      {"fcgimux_requests_rejected_total{pool=\"default\"}", 2},
      {"fcgimux_responses_total{pool=\"default\",class=\"2xx\"}", 40},
      {"fcgimux_responses_total{pool=\"default\",class=\"5xx\"}", 7},
      {"fcgimux_connections_accepted_total", 11},
      {"fcgimux_workers_spawned_total{pool=\"default\"}", 5},
      {"fcgimux_workers_crashed_total{pool=\"default\"}", 1},
      {"fcgimux_max_workers_reached_total{pool=\"default\"}", 4},
      {"fcgimux_pool_workers{pool=\"default\"}", 3},
      {"fcgimux_pool_busy_workers{pool=\"default\"}", 2},
      {"fcgimux_pool_idle_workers{pool=\"default\"}", 1},
      {"fcgimux_pool_max_workers{pool=\"default\"}", 4},
      {"fcgimux_queue_length{pool=\"default\"}", 6},
      {"fcgimux_queue_peak{pool=\"default\"}", 12},
      {"fcgimux_queue_limit{pool=\"default\"}", 100},
      {"fcgimux_info{version=\"0.1.0 \\\"test\\\"\"}", 1},
      {"fcgimux_service_seconds_count{pool=\"default\"}", 47},
      {"fcgimux_service_seconds_bucket{pool=\"default\",le=\"+Inf\"}", 47},
      // 2^24 ns = 16.777216 ms: exactly the samples 1..16 ms lie below it
      {"fcgimux_service_seconds_bucket{pool=\"default\",le=\"0.016777216\"}", 16},
      {"fcgimux_queue_wait_seconds_count{pool=\"default\"}", 47},
      {"fcgimux_worker_requests_total{pool=\"default\",pid=\"123\"}", 40},
      {"fcgimux_worker_requests_total{pool=\"default\",pid=\"124\"}", 9},
      {"fcgimux_worker_busy{pool=\"default\",pid=\"123\"}", 1},
      {"fcgimux_worker_busy{pool=\"default\",pid=\"124\"}", 0},
      {"fcgimux_worker_state{pool=\"default\",pid=\"124\",state=\"idle\"}", 1},
  };
  for (const auto& [sample, value] : expected) {
    INFO(sample);
    CHECK(e.samples.at(sample) == value);
  }
  CHECK(e.samples.at("fcgimux_service_seconds_sum{pool=\"default\"}") == Approx(47 * 48 / 2 / 1000.0));
  CHECK(e.samples.at("fcgimux_worker_current_request_seconds{pool=\"default\",pid=\"123\"}") == Approx(0.25));
  CHECK(e.samples.count("fcgimux_worker_current_request_seconds{pool=\"default\",pid=\"124\"}") == 0);
}

TEST_CASE("two pools: every per-pool family has one sample per pool, labelled", "[stats][prometheus]") {
  two_pools t;
  const exposition e = parse(t.s.to_prometheus());
  CHECK(e.malformed.empty());

  // per family: the pools its samples carry, and each label set but the pool, with its pools
  std::map<std::string, std::set<std::string>> pools_of_family;
  std::map<std::string, std::multiset<std::string>> pools_of_series;  // by name{labels but pool}
  for (const auto& [key, value] : e.samples) {
    INFO(key);
    const sample_key k = split(key);
    REQUIRE(k.ok);
    const std::string family = family_of(e, k.name);
    REQUIRE_FALSE(family.empty());
    if (process_wide.count(family)) {
      CHECK(k.labels.count("pool") == 0);
      continue;
    }
    REQUIRE(k.labels.count("pool") == 1);
    const std::string pool = k.labels.at("pool");
    CHECK((pool == "a" || pool == "b"));
    pools_of_family[family].insert(pool);
    auto rest = k.labels;
    rest.erase("pool");
    std::string series = k.name;
    for (const auto& [l, v] : rest) series += "," + l + "=" + v;
    pools_of_series[series].insert(pool);
    // a worker's series is in its own pool
    if (rest.count("pid")) CHECK(pool == (rest.at("pid")[0] == '1' ? "a" : "b"));
  }
  for (const std::string& name : process_wide) {
    INFO(name);
    CHECK(e.type.count(name) == 1);
    std::size_t n = 0;
    for (const auto& [key, value] : e.samples) n += split(key).name == name ? 1 : 0;
    const bool by_result = name == "fcgimux_reloads_total" || name == "fcgimux_upgrades_total";
    CHECK(n == (by_result ? 2u : 1u));  // result="ok" and "failed"
  }
  // every family but the process-wide ones shows both pools (these pools have no remote server:
  // the per-server families are empty here, and tested with servers on their own)
  for (const auto& [family, type] : e.type) {
    INFO(family);
    if (process_wide.count(family) || family.rfind("fcgimux_server_", 0) == 0) continue;
    CHECK(pools_of_family[family] == std::set<std::string>{"a", "b"});
  }
  // one sample per pool: every series but a worker's comes once for a and once for b
  for (const auto& [series, pools] : pools_of_series) {
    INFO(series);
    if (series.find(",pid=") != std::string::npos)
      CHECK(pools.size() == 1);
    else
      CHECK(pools == std::multiset<std::string>{"a", "b"});
  }
  for (const char* family : {"fcgimux_pool_min_workers",
                             "fcgimux_pool_max_workers",
                             "fcgimux_pool_workers",
                             "fcgimux_pool_busy_workers",
                             "fcgimux_pool_idle_workers",
                             "fcgimux_pool_starting_workers",
                             "fcgimux_pool_can_serve",
                             "fcgimux_queue_length",
                             "fcgimux_queue_peak",
                             "fcgimux_queue_limit",
                             "fcgimux_requests_accepted_total",
                             "fcgimux_requests_completed_total",
                             "fcgimux_requests_active",
                             "fcgimux_requests_rejected_total",
                             "fcgimux_requests_timed_out_total",
                             "fcgimux_requests_aborted_total",
                             "fcgimux_requests_failed_total",
                             "fcgimux_responses_total",
                             "fcgimux_workers_spawned_total",
                             "fcgimux_workers_exited_total",
                             "fcgimux_workers_crashed_total",
                             "fcgimux_max_workers_reached_total",
                             "fcgimux_queue_wait_seconds",
                             "fcgimux_service_seconds",
                             "fcgimux_latency_window_seconds",
                             "fcgimux_worker_requests_total",
                             "fcgimux_worker_busy",
                             "fcgimux_worker_state",
                             "fcgimux_worker_uptime_seconds",
                             "fcgimux_worker_current_request_seconds"}) {
    INFO(family);
    CHECK(pools_of_family[family] == std::set<std::string>{"a", "b"});
  }

  // and each pool's sample has that pool's value
  for (const auto& [name, p] : {std::pair<std::string, const pool_stats*>{"a", &t.a}, {"b", &t.b}}) {
    const auto& c = p->counts;
    const fcgimux::pool_snapshot snap = p->snapshot(false);
    const std::string l = "{pool=\"" + name + "\"}";
    const std::string lc = "{pool=\"" + name + "\",class=\"";
    const std::pair<std::string, std::uint64_t> expected[] = {
        {"fcgimux_pool_min_workers" + l, snap.min},
        {"fcgimux_pool_max_workers" + l, snap.max},
        {"fcgimux_pool_workers" + l, snap.size},
        {"fcgimux_pool_busy_workers" + l, snap.busy},
        {"fcgimux_pool_idle_workers" + l, snap.idle},
        {"fcgimux_pool_starting_workers" + l, snap.starting},
        {"fcgimux_pool_can_serve" + l, std::uint64_t{snap.can_serve}},
        {"fcgimux_queue_length" + l, snap.queue_length},
        {"fcgimux_queue_limit" + l, snap.queue_limit},
        {"fcgimux_queue_peak" + l, c.queue_peak},
        {"fcgimux_requests_accepted_total" + l, c.requests_accepted},
        {"fcgimux_requests_completed_total" + l, c.requests_completed},
        {"fcgimux_requests_active" + l, c.requests_accepted - c.requests_completed},
        {"fcgimux_requests_rejected_total" + l, c.requests_rejected},
        {"fcgimux_requests_timed_out_total" + l, c.requests_timed_out},
        {"fcgimux_requests_aborted_total" + l, c.requests_aborted},
        {"fcgimux_requests_failed_total" + l, c.requests_failed},
        {"fcgimux_responses_total" + lc + "2xx\"}", c.responses_2xx},
        {"fcgimux_responses_total" + lc + "3xx\"}", c.responses_3xx},
        {"fcgimux_responses_total" + lc + "4xx\"}", c.responses_4xx},
        {"fcgimux_responses_total" + lc + "5xx\"}", c.responses_5xx},
        {"fcgimux_responses_total" + lc + "other\"}", c.responses_other},
        {"fcgimux_workers_spawned_total" + l, c.workers_spawned},
        {"fcgimux_workers_exited_total" + l, c.workers_exited},
        {"fcgimux_workers_crashed_total" + l, c.workers_crashed},
        {"fcgimux_max_workers_reached_total" + l, c.max_workers_reached},
        {"fcgimux_service_seconds_count" + l, p->service_latency.count()},
        {"fcgimux_queue_wait_seconds_count" + l, p->queue_latency.count()},
    };
    for (const auto& [sample, value] : expected) {
      INFO(sample);
      REQUIRE(e.samples.count(sample) == 1);
      CHECK(e.samples.at(sample) == static_cast<double>(value));
    }
  }
  CHECK(e.samples.at("fcgimux_service_seconds_sum{pool=\"a\"}") == Approx(0.010));
  CHECK(e.samples.at("fcgimux_service_seconds_sum{pool=\"b\"}") == Approx(3.0));
  CHECK(e.samples.at("fcgimux_latency_window_seconds{pool=\"a\",stage=\"service\",percentile=\"99\"}") ==
        Approx(0.001).epsilon(1.0 / 16));
  CHECK(e.samples.at("fcgimux_latency_window_seconds{pool=\"b\",stage=\"service\",percentile=\"50\"}") ==
        Approx(0.1).epsilon(1.0 / 16));
  CHECK(e.samples.at("fcgimux_latency_window_seconds{pool=\"b\",stage=\"queue\",percentile=\"50\"}") ==
        Approx(0.002).epsilon(1.0 / 16));
  CHECK(e.samples.at("fcgimux_latency_window_seconds{pool=\"a\",stage=\"queue\",percentile=\"50\"}") == 0);
  CHECK(e.samples.at("fcgimux_worker_requests_total{pool=\"a\",pid=\"101\"}") == 40);
  CHECK(e.samples.at("fcgimux_worker_requests_total{pool=\"a\",pid=\"102\"}") == 9);
  CHECK(e.samples.at("fcgimux_worker_requests_total{pool=\"b\",pid=\"201\"}") == 70);
  CHECK(e.samples.at("fcgimux_worker_current_request_seconds{pool=\"b\",pid=\"201\"}") == Approx(0.75));
  CHECK(e.samples.at("fcgimux_connections_accepted_total") == 11);
  CHECK(e.samples.at("fcgimux_connections_active") == 2);
  CHECK(e.samples.at("fcgimux_connections_refused_total") == 3);
  CHECK(e.samples.at("fcgimux_connections_header_timeouts_total") == 4);
  CHECK(e.samples.at("fcgimux_connections_idle_timeouts_total") == 5);
}

TEST_CASE("to_prometheus(pool) is that pool's samples and the process-wide ones", "[stats][prometheus]") {
  two_pools t;
  const exposition all = parse(t.s.to_prometheus());
  for (const std::string pool : {"a", "b"}) {
    INFO("only " << pool);
    const exposition one = parse(t.s.to_prometheus(pool));
    CHECK(one.malformed.empty());
    CHECK(one.type == all.type);  // every family is still declared
    CHECK(one.help == all.help);
    // exactly the samples of the whole exposition that are not another pool's (uptime moves on)
    std::map<std::string, double> expected;
    for (const auto& [key, value] : all.samples) {
      const sample_key k = split(key);
      if (k.labels.count("pool") && k.labels.at("pool") != pool) continue;
      if (k.name == "fcgimux_uptime_seconds") continue;
      expected[key] = value;
    }
    std::map<std::string, double> got = one.samples;
    REQUIRE(got.erase("fcgimux_uptime_seconds") == 1);
    CHECK(got == expected);
    std::size_t own = 0;
    for (const auto& [key, value] : got) {
      const sample_key k = split(key);
      if (k.labels.count("pool")) {
        CHECK(k.labels.at("pool") == pool);
        ++own;
      }
    }
    CHECK(own > 40);  // not an empty rendering that trivially has no other pool in it
  }
}

TEST_CASE("per-server series carry pool and server labels", "[stats][prometheus]") {
  stats s;
  pool_stats p;
  s.add_pool("default", p);
  fill(s, p);
  p.view = with_servers;
  const exposition e = parse(s.to_prometheus());
  CHECK(e.malformed.empty());
  const std::string a = "pool=\"default\",server=\"127.0.0.1:9001\"";
  const std::string b = "pool=\"default\",server=\"unix:/run/a\\\"b.sock\"";
  CHECK(e.type.at("fcgimux_server_requests_total") == "counter");
  CHECK(e.type.at("fcgimux_server_in_flight") == "gauge");
  CHECK(e.samples.at("fcgimux_server_up{" + a + "}") == 1);  // starting takes requests
  CHECK(e.samples.at("fcgimux_server_up{" + b + "}") == 0);
  CHECK(e.samples.at("fcgimux_server_state{" + a + ",state=\"starting\"}") == 1);
  CHECK(e.samples.at("fcgimux_server_state{" + a + ",state=\"up\"}") == 0);
  CHECK(e.samples.at("fcgimux_server_state{" + b + ",state=\"ejected\"}") == 1);
  CHECK(e.samples.at("fcgimux_server_in_flight{" + a + "}") == 3);
  CHECK(e.samples.at("fcgimux_server_max{" + a + "}") == 5);
  CHECK(e.samples.at("fcgimux_server_weight{" + a + "}") == 2);
  CHECK(e.samples.at("fcgimux_server_effective_weight{" + a + "}") == 0.5);
  CHECK(e.samples.at("fcgimux_server_requests_total{" + a + "}") == 120);
  CHECK(e.samples.at("fcgimux_server_failures_total{" + a + "}") == 4);
  CHECK(e.samples.at("fcgimux_server_ejections_total{" + a + "}") == 1);
  CHECK(e.samples.at("fcgimux_server_latency_window_seconds{" + a + ",percentile=\"99\"}") == Approx(0.008));
  CHECK(e.samples.at("fcgimux_server_last_check_passed{" + a + "}") == 1);
  // Not checked yet: no sample rather than a false 0.
  CHECK(e.samples.count("fcgimux_server_last_check_passed{" + b + "}") == 0);
}

TEST_CASE("promtool check metrics accepts the exposition", "[stats][prometheus][promtool]") {
  SECTION("with servers in every family, an address that needs escaping") {
    stats s;
    pool_stats p;
    s.add_pool("default", p);
    fill(s, p);
    p.view = with_servers;
    const auto r = promtool_check(s.to_prometheus());
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.empty());
  }
  SECTION("with workers, samples and odd label text") {
    stats s;
    pool_stats p;
    s.add_pool("default", p);
    fill(s, p);
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
  SECTION("fresh, one pool without a view or samples") {
    stats s;
    pool_stats p;
    s.add_pool("default", p);
    const auto r = promtool_check(s.to_prometheus());
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.empty());
  }
  SECTION("two pools, and one pool's exposition") {
    two_pools t;
    for (const std::string& text : {t.s.to_prometheus(), t.s.to_prometheus("a"), t.s.to_prometheus("b")}) {
      const auto r = promtool_check(text);
      INFO(r.output);
      CHECK(r.exit_code == 0);
      CHECK(r.output.empty());
    }
  }
  SECTION("promtool itself rejects a broken exposition (the check is live)") {
    const auto r = promtool_check("# TYPE fcgimux_x counter\nfcgimux_x{pid=\"1\" 1\n");
    CHECK(r.exit_code != 0);
  }
}

// Not run by default: how long one scrape holds the event loop. ./fcgimux_stats_tests "[.bench]"
TEST_CASE("rendering cost with 64 workers", "[.bench]") {
  stats s;
  pool_stats ps;
  s.add_pool("default", ps);
  fill(s, ps);
  ps.view = [](bool full) {
    pool_snapshot p = snapshot(false);
    if (full)
      for (int i = 0; i < 64; ++i) {
        worker_info w;
        w.pid = 10000 + i;
        w.state = i % 2 ? fcgimux::member_state::busy : fcgimux::member_state::idle;
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
