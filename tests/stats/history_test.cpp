// SPDX-License-Identifier: ISC
// stats_history alone: the ring of the last ten minutes, the request rate from completed deltas,
// and the totals as the sums of the pools, sampled by hand at chosen instants.

#include "src/stats/history.hpp"
#include "src/stats/stats.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using fcgimux::pool_snapshot;
using fcgimux::pool_stats;
using fcgimux::stats;
using fcgimux::stats_history;

namespace {

using list = std::vector<double>;

list values(const nlohmann::json& history, const char* name) { return history.at("series").at(name).get<list>(); }

// The start of a 10 s period of the histograms' clock, so every sample below lands in one window.
const fcgimux::clock_type::time_point t0 = fcgimux::clock_type::time_point{} + 1000 * 10s;

// What sampling reads of a pool.
pool_snapshot snap(std::size_t size, std::size_t busy, std::size_t idle, std::size_t queue) {
  pool_snapshot p;
  p.size = size;
  p.busy = busy;
  p.idle = idle;
  p.queue_length = queue;
  return p;
}

}  // namespace

TEST_CASE("an empty history has every series, empty", "[history]") {
  stats s;
  pool_stats p;
  s.add_pool("a", p);
  const stats_history h(s);
  CHECK(h.samples() == 0);
  for (const std::string pool : {"", "a"}) {
    const nlohmann::json j = h.to_json(pool.empty() ? std::nullopt : std::optional<std::string_view>(pool));
    CHECK(j.at("interval_s") == 1);
    std::set<std::string> names;
    for (const auto& [name, v] : j.at("series").items()) {
      names.insert(name);
      CHECK(v == nlohmann::json::array());
    }
    CHECK(names == std::set<std::string>{"size", "busy", "idle", "queue", "rate", "service_p50", "service_p99",
                                         "queue_p50", "queue_p99"});
  }
  CHECK(h.to_json("b").is_null());
  CHECK(h.to_json("A").is_null());
}

TEST_CASE("the ring keeps the newest 600 samples, oldest first", "[history]") {
  static_assert(stats_history::capacity == 600);
  static_assert(stats_history::interval == 1s);
  stats s;
  pool_stats p;
  s.add_pool("a", p);
  std::size_t n = 0;
  p.view = [&n](bool) {
    ++n;
    return snap(n, n % 5, 0, 2 * n);
  };
  stats_history h(s);

  for (int i = 0; i < 599; ++i) h.take(t0 + i * 1s);
  CHECK(h.samples() == 599);
  list expected;
  for (std::size_t k = 1; k <= 599; ++k) expected.push_back(static_cast<double>(k));
  CHECK(values(h.to_json("a"), "size") == expected);

  h.take(t0 + 599s);
  CHECK(h.samples() == 600);
  CHECK(values(h.to_json("a"), "size").size() == 600);
  CHECK(values(h.to_json("a"), "size").front() == 1);
  CHECK(values(h.to_json("a"), "size").back() == 600);

  // 650 samples in all: the first 50 are gone, 51..650 remain in order
  for (int i = 600; i < 650; ++i) h.take(t0 + i * 1s);
  CHECK(n == 650);
  CHECK(h.samples() == 600);
  for (const std::string pool : {"a", ""}) {
    INFO("pool '" << pool << "'");
    const nlohmann::json j = h.to_json(pool.empty() ? std::nullopt : std::optional<std::string_view>(pool));
    list size, busy, queue;
    for (std::size_t k = 51; k <= 650; ++k) {
      size.push_back(static_cast<double>(k));
      busy.push_back(static_cast<double>(k % 5));
      queue.push_back(static_cast<double>(2 * k));
    }
    CHECK(values(j, "size") == size);
    CHECK(values(j, "busy") == busy);
    CHECK(values(j, "queue") == queue);
    for (const auto& [name, v] : j.at("series").items()) {
      INFO(name);
      CHECK(v.size() == 600);
    }
  }

  // and it keeps going round: one more lap and a half
  for (int i = 650; i < 1550; ++i) h.take(t0 + i * 1s);
  const list size = values(h.to_json("a"), "size");
  REQUIRE(size.size() == 600);
  CHECK(size.front() == 951);
  CHECK(size.back() == 1550);
}

TEST_CASE("the rate is requests completed per second since the previous sample", "[history]") {
  stats s;
  pool_stats p;
  s.add_pool("a", p);
  stats_history h(s);

  p.counts.requests_completed = 5000;  // what came before the first sample is no rate
  h.take(t0);
  p.counts.requests_completed += 10;
  h.take(t0 + 1s);
  h.take(t0 + 2s);  // nothing completed
  p.counts.requests_completed += 40;
  h.take(t0 + 4s);  // 40 over 2 s
  p.counts.requests_completed += 3;
  h.take(t0 + 4500ms);                 // 3 over half a second
  p.counts.requests_accepted += 1000;  // accepted, not completed: no rate
  h.take(t0 + 5500ms);

  CHECK(values(h.to_json("a"), "rate") == list{0, 10, 0, 20, 6, 0});
  CHECK(values(h.to_json(std::nullopt), "rate") == list{0, 10, 0, 20, 6, 0});
}

TEST_CASE("the totals are the sums of the pools, the latencies merged", "[history]") {
  stats s;
  pool_stats a, b;
  s.add_pool("a", a);
  s.add_pool("b", b);
  a.view = [](bool full) {
    CHECK_FALSE(full);  // sampling never asks for the workers
    return snap(3, 2, 1, 4);
  };
  b.view = [](bool) { return snap(10, 1, 8, 0); };
  // equal counts: a serves in 1 ms, b in 100 ms; only b's requests queue (5 ms)
  for (int i = 0; i < 40; ++i) {
    a.service_latency.record(1ms, t0);
    b.service_latency.record(100ms, t0);
    b.queue_latency.record(5ms, t0);
  }
  stats_history h(s);
  h.take(t0);
  a.counts.requests_completed += 7;
  b.counts.requests_completed += 100;
  h.take(t0 + 1s);
  a.counts.requests_completed += 1;
  h.take(t0 + 2s);

  const nlohmann::json ja = h.to_json("a"), jb = h.to_json("b"), jt = h.to_json(std::nullopt);
  CHECK(values(ja, "size") == list{3, 3, 3});
  CHECK(values(jb, "size") == list{10, 10, 10});
  CHECK(values(jt, "size") == list{13, 13, 13});
  CHECK(values(jt, "busy") == list{3, 3, 3});
  CHECK(values(jt, "idle") == list{9, 9, 9});
  CHECK(values(jt, "queue") == list{4, 4, 4});
  CHECK(values(ja, "rate") == list{0, 7, 1});
  CHECK(values(jb, "rate") == list{0, 100, 0});
  CHECK(values(jt, "rate") == list{0, 107, 1});

  for (double v : values(ja, "service_p99")) CHECK(v == Approx(1).epsilon(1.0 / 16));
  for (double v : values(jb, "service_p50")) CHECK(v == Approx(100).epsilon(1.0 / 16));
  for (double v : values(ja, "queue_p99")) CHECK(v == 0);
  for (double v : values(jb, "queue_p50")) CHECK(v == Approx(5).epsilon(1.0 / 16));
  // the totals' percentiles come from the merged samples: half at 1 ms, half at 100 ms
  for (double v : values(jt, "service_p50")) CHECK(v == Approx(1).epsilon(1.0 / 16));
  for (double v : values(jt, "service_p99")) CHECK(v == Approx(100).epsilon(1.0 / 16));
  for (double v : values(jt, "queue_p50")) CHECK(v == Approx(5).epsilon(1.0 / 16));
  for (double v : values(jt, "queue_p99")) CHECK(v == Approx(5).epsilon(1.0 / 16));

  // the percentiles follow the one-minute window of the instant sampled
  h.take(t0 + 70s);
  CHECK(values(h.to_json(std::nullopt), "service_p99").back() == 0);
  CHECK(values(h.to_json("b"), "service_p50").back() == 0);
}

TEST_CASE("a pool without a view samples as zeros", "[history]") {
  stats s;
  pool_stats a, b;
  s.add_pool("a", a);
  s.add_pool("b", b);
  b.view = [](bool) { return snap(2, 1, 1, 0); };
  stats_history h(s);
  h.take(t0);
  CHECK(values(h.to_json("a"), "size") == list{0});
  CHECK(values(h.to_json(std::nullopt), "size") == list{2});
  CHECK(values(h.to_json(std::nullopt), "idle") == list{1});
}

TEST_CASE("a pool name that names no pool has no history, the empty name included", "[history]") {
  stats s;
  pool_stats p;
  s.add_pool("a", p);
  const stats_history h(s);
  CHECK(h.to_json(std::string_view{}).is_null());
  CHECK_FALSE(h.to_json(std::nullopt).is_null());
  pool_stats late;
  s.add_pool("late", late);  // registered after the history was made: it has no series
  CHECK(h.to_json("late").is_null());
}
