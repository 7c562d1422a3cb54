// SPDX-License-Identifier: ISC
#include "src/stats/histogram.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

using fcgimux::latency_histogram;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

// The start of a 10 s period, far from the clock's epoch, so tests control slot boundaries.
const latency_histogram::time_point t0 = latency_histogram::time_point{} + 1000 * latency_histogram::slot_width;

// The q-quantile of sorted samples by the same rank rule as the histogram (rank q*n, at least 1).
double exact_quantile_ms(const std::vector<nanoseconds>& sorted, double q) {
  const auto rank = static_cast<std::size_t>(std::ceil(std::max(q * static_cast<double>(sorted.size()), 1.0)));
  return duration<double, std::milli>(sorted[rank - 1]).count();
}

}  // namespace

TEST_CASE("every latency lands in the bucket whose edges enclose it", "[histogram]") {
  std::size_t previous = 0;
  for (double v = 1; v < 2e11; v *= 1.003) {
    const auto ns = nanoseconds(static_cast<std::int64_t>(v));
    const std::size_t i = latency_histogram::bucket_index(ns);
    REQUIRE(i < latency_histogram::bucket_count);
    REQUIRE(i >= previous);  // monotonic
    previous = i;
    const auto u = static_cast<std::uint64_t>(ns.count());
    if (i > 0) REQUIRE(u > latency_histogram::bucket_lower_ns(i));
    if (i + 1 < latency_histogram::bucket_count) REQUIRE(u <= latency_histogram::bucket_upper_ns(i));
    if (i > 0 && i + 1 < latency_histogram::bucket_count) {
      // log-linear: a bucket is never wider than 1/16 of its lower edge
      const double lo = static_cast<double>(latency_histogram::bucket_lower_ns(i));
      const double hi = static_cast<double>(latency_histogram::bucket_upper_ns(i));
      REQUIRE((hi - lo) / lo <= 1.0 / 16 + 1e-12);
    }
  }
  CHECK(latency_histogram::bucket_index(-5ns) == 0);
  CHECK(latency_histogram::bucket_index(8192ns) == 0);
  CHECK(latency_histogram::bucket_index(8193ns) == 1);
  CHECK(latency_histogram::bucket_index(nanoseconds(std::int64_t{1} << 36)) == latency_histogram::bucket_count - 2);
  CHECK(latency_histogram::bucket_index(nanoseconds((std::int64_t{1} << 36) + 1)) ==
        latency_histogram::bucket_count - 1);
  CHECK(latency_histogram::bucket_index(hours(24)) == latency_histogram::bucket_count - 1);
  // the documented range: about 10 us to about 60 s
  CHECK(latency_histogram::bucket_upper_ns(0) == 8192);
  CHECK(latency_histogram::bucket_lower_ns(latency_histogram::bucket_count - 1) == (std::uint64_t{1} << 36));
}

TEST_CASE("percentiles of 1..1000 ms stay within one bucket of the exact ones", "[histogram]") {
  latency_histogram h;
  std::vector<nanoseconds> samples;
  for (int i = 1000; i >= 1; --i)  // recorded out of order on purpose
    samples.push_back(milliseconds(i));
  for (auto d : samples) h.record(d, t0 + 1s);
  std::sort(samples.begin(), samples.end());

  const auto p = h.window_percentiles(t0 + 2s);
  CHECK(p.count == 1000);
  for (auto [q, got] : {std::pair{0.50, p.p50_ms}, {0.90, p.p90_ms}, {0.99, p.p99_ms}}) {
    const double exact = exact_quantile_ms(samples, q);
    INFO("q=" << q << " exact=" << exact << " histogram=" << got);
    CHECK(std::abs(got - exact) <= exact / 16);
  }
  CHECK(h.count() == 1000);
  CHECK(h.sum() == milliseconds(500500));
}

TEST_CASE("percentiles of a skewed mix match the exact ones", "[histogram]") {
  // 90 fast requests at 200 us and 10 slow ones at 40 ms: p50 is fast, p99 is slow
  latency_histogram h;
  std::vector<nanoseconds> samples;
  for (int i = 0; i < 90; ++i) samples.push_back(200us);
  for (int i = 0; i < 10; ++i) samples.push_back(40ms);
  for (auto d : samples) h.record(d, t0);
  const auto p = h.window_percentiles(t0);
  CHECK(p.p50_ms == Approx(0.2).epsilon(1.0 / 16));
  CHECK(p.p90_ms == Approx(0.2).epsilon(1.0 / 16));
  CHECK(p.p99_ms == Approx(40.0).epsilon(1.0 / 16));
  CHECK(h.window_quantile_ms(0.95, t0) == Approx(40.0).epsilon(1.0 / 16));
}

TEST_CASE("an empty histogram reports zeros", "[histogram]") {
  latency_histogram h;
  const auto p = h.window_percentiles(t0);
  CHECK(p.count == 0);
  CHECK(p.p50_ms == 0);
  CHECK(p.p99_ms == 0);
  CHECK(h.count() == 0);
  for (const auto& b : h.prometheus_buckets()) CHECK(b.count == 0);
}

TEST_CASE("the window forgets samples older than 60 s and keeps the lifetime totals", "[histogram]") {
  latency_histogram h;
  for (int i = 0; i < 10; ++i) h.record(1ms, t0 + 1s);
  for (int i = 0; i < 10; ++i) h.record(100ms, t0 + 31s);

  CHECK(h.window_count(t0 + 32s) == 20);
  CHECK(h.window_percentiles(t0 + 32s).p99_ms == Approx(100.0).epsilon(1.0 / 16));
  CHECK(h.window_percentiles(t0 + 32s).p50_ms == Approx(1.0).epsilon(1.0 / 16));
  // 59 s after t0 the first slot is still inside the window, at 60 s it has left
  CHECK(h.window_count(t0 + 59s) == 20);
  CHECK(h.window_count(t0 + 60s) == 10);
  CHECK(h.window_percentiles(t0 + 65s).p50_ms == Approx(100.0).epsilon(1.0 / 16));
  CHECK(h.window_count(t0 + 90s) == 0);
  CHECK(h.window_percentiles(t0 + 95s).p99_ms == 0);
  CHECK(h.count() == 20);

  // a sample 60 s later lands in the same ring slot: the slot's old contents must be cleared
  h.record(5ms, t0 + 61s);
  CHECK(h.window_count(t0 + 61s) == 11);
  CHECK(h.window_count(t0 + 95s) == 1);
  CHECK(h.count() == 21);
}

TEST_CASE("merged_window_percentiles: the percentiles of every histogram's samples together", "[histogram]") {
  // pool a: 100 samples at 1 ms; pool b: 100 at 100 ms; c: empty
  latency_histogram a, b, c, both;
  for (int i = 0; i < 100; ++i) {
    a.record(1ms, t0 + 1s);
    b.record(100ms, t0 + 2s);
    both.record(1ms, t0 + 1s);
    both.record(100ms, t0 + 2s);
  }
  const std::vector<const latency_histogram*> hs{&a, &b, &c};
  const auto m = latency_histogram::merged_window_percentiles(hs, t0 + 3s);
  CHECK(m.count == 200);
  // half the samples at 1 ms: the median is the largest of them, p90 and p99 are b's
  CHECK(m.p50_ms >= a.window_percentiles(t0 + 3s).p50_ms);
  CHECK(m.p50_ms <= b.window_percentiles(t0 + 3s).p50_ms);
  CHECK(m.p50_ms == Approx(1.0).epsilon(1.0 / 16));
  CHECK(m.p90_ms == Approx(100.0).epsilon(1.0 / 16));
  CHECK(m.p99_ms == Approx(100.0).epsilon(1.0 / 16));
  // exactly what one histogram holding all the samples gives, whichever overload and order
  const auto one = both.window_percentiles(t0 + 3s);
  for (const auto& got : {m, latency_histogram::merged_window_percentiles({&c, &b, &a}, t0 + 3s)}) {
    CHECK(got.count == one.count);
    CHECK(got.p50_ms == one.p50_ms);
    CHECK(got.p90_ms == one.p90_ms);
    CHECK(got.p99_ms == one.p99_ms);
  }
  // one histogram merged alone is its own percentiles
  const auto only_b = latency_histogram::merged_window_percentiles({&b}, t0 + 3s);
  CHECK(only_b.count == 100);
  CHECK(only_b.p50_ms == b.window_percentiles(t0 + 3s).p50_ms);

  // unequal counts move the median: 10 fast and 100 slow
  latency_histogram few;
  for (int i = 0; i < 10; ++i) few.record(1ms, t0);
  const auto skewed = latency_histogram::merged_window_percentiles({&few, &b}, t0 + 3s);
  CHECK(skewed.count == 110);
  CHECK(skewed.p50_ms == Approx(100.0).epsilon(1.0 / 16));

  // each histogram's window applies: 61 s on, a's samples (at t0 + 1 s) have left, b's too
  CHECK(latency_histogram::merged_window_percentiles(hs, t0 + 65s).count == 0);
  CHECK(latency_histogram::merged_window_percentiles(hs, t0 + 65s).p99_ms == 0);
  latency_histogram late;
  for (int i = 0; i < 5; ++i) late.record(20ms, t0 + 55s);
  const auto after = latency_histogram::merged_window_percentiles({&a, &b, &late}, t0 + 62s);
  CHECK(after.count == 5);
  CHECK(after.p50_ms == Approx(20.0).epsilon(1.0 / 16));

  // nothing to merge
  const auto none = latency_histogram::merged_window_percentiles(std::vector<const latency_histogram*>{}, t0);
  CHECK(none.count == 0);
  CHECK(none.p50_ms == 0);
  CHECK(none.p99_ms == 0);
}

TEST_CASE("Prometheus buckets are exact cumulative counts at power-of-two edges", "[histogram]") {
  latency_histogram h;
  std::vector<std::int64_t> values_ns;
  for (std::int64_t v = 1000; v < 120'000'000'000; v = v * 13 / 10) values_ns.push_back(v);
  values_ns.push_back(std::int64_t{1} << 20);  // exactly on an edge: counts as <= le
  for (auto v : values_ns) h.record(nanoseconds(v), t0);

  const auto buckets = h.prometheus_buckets();
  REQUIRE(buckets.size() == latency_histogram::max_exponent - latency_histogram::min_exponent + 2);
  std::uint64_t previous = 0;
  for (std::size_t k = 0; k + 1 < buckets.size(); ++k) {
    const auto edge_ns = std::int64_t{1} << (latency_histogram::min_exponent + k);
    CHECK(buckets[k].le_seconds == Approx(static_cast<double>(edge_ns) / 1e9));
    std::uint64_t expected = 0;
    for (auto v : values_ns) expected += v <= edge_ns ? 1 : 0;
    INFO("le=" << buckets[k].le_seconds);
    CHECK(buckets[k].count == expected);
    CHECK(buckets[k].count >= previous);
    previous = buckets[k].count;
  }
  CHECK(std::isinf(buckets.back().le_seconds));
  CHECK(buckets.back().count == values_ns.size());
  std::int64_t sum = 0;
  for (auto v : values_ns) sum += v;
  CHECK(h.sum().count() == sum);
}

TEST_CASE("the coarse clock runs on steady_clock's timeline", "[histogram]") {
  const auto coarse = latency_histogram::coarse_now();
  const auto fine = steady_clock::now();
  CHECK(fine - coarse < 100ms);
  CHECK(coarse - fine < 100ms);
}

// Not run by default (timings on a shared 2-core box are noise): ./fcgimux_stats_tests "[.bench]"
TEST_CASE("record() cost", "[.bench]") {
  latency_histogram h;
  constexpr int n = 20'000'000;
  auto start = steady_clock::now();
  for (int i = 0; i < n; ++i) h.record(nanoseconds(10'000 + (i & 0xffff) * 1000), start);
  const auto with_now = steady_clock::now();
  for (int i = 0; i < n; ++i) h.record(nanoseconds(10'000 + (i & 0xffff) * 1000));
  const auto end = steady_clock::now();
  std::printf("record(d, now): %.2f ns, record(d): %.2f ns\n",
              duration<double, std::nano>(with_now - start).count() / n,
              duration<double, std::nano>(end - with_now).count() / n);
  CHECK(h.count() == 2u * n);
}
