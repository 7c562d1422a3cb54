// SPDX-License-Identifier: ISC
#include "src/stats/histogram.hpp"

#include <algorithm>
#include <limits>

namespace fcgimux {

std::int64_t latency_histogram::period_of(time_point t) noexcept {
  return static_cast<std::int64_t>(t.time_since_epoch() / slot_width);
}

// Runs once per 10 s at most; the slot it lands on is either still current or older than the
// window, so clearing it never loses a sample the window needs.
void latency_histogram::advance(time_point now) noexcept {
  const std::int64_t p = period_of(now);
  const auto idx = static_cast<std::size_t>(p % static_cast<std::int64_t>(slot_count));
  slot& s = slots_[idx];
  if (s.period != p) {
    s.counts.fill(0);
    s.period = p;
  }
  current_ = idx;
  slot_end_ = time_point{std::chrono::duration_cast<time_point::duration>(slot_width * (p + 1))};
}

latency_histogram::bucket_array latency_histogram::window_counts(time_point now) const noexcept {
  bucket_array sum{};
  const std::int64_t p = period_of(now);
  for (const slot& s : slots_) {
    if (s.period < 0 || s.period > p || s.period <= p - static_cast<std::int64_t>(slot_count)) continue;
    for (std::size_t i = 0; i < bucket_count; ++i) sum[i] += s.counts[i];
  }
  return sum;
}

// Linear interpolation inside the bucket, as Prometheus' histogram_quantile does: with 16 steps
// per octave the error stays below one bucket width (6.25 %) and is far smaller for spread samples.
double latency_histogram::quantile_ms(const bucket_array& counts, std::uint64_t total, double q) noexcept {
  if (total == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const double rank = std::max(q * static_cast<double>(total), 1.0);
  double before = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    if (counts[i] == 0) continue;
    const double in_bucket = static_cast<double>(counts[i]);
    if (before + in_bucket >= rank) {
      const double lo = static_cast<double>(bucket_lower_ns(i));
      if (i == bucket_count - 1) return lo / 1e6;
      const double hi = static_cast<double>(bucket_upper_ns(i));
      return (lo + (hi - lo) * (rank - before) / in_bucket) / 1e6;
    }
    before += in_bucket;
  }
  return static_cast<double>(bucket_lower_ns(bucket_count - 1)) / 1e6;
}

std::uint64_t latency_histogram::window_count(time_point now) const noexcept {
  const bucket_array counts = window_counts(now);
  std::uint64_t total = 0;
  for (auto c : counts) total += c;
  return total;
}

double latency_histogram::window_quantile_ms(double q, time_point now) const noexcept {
  const bucket_array counts = window_counts(now);
  std::uint64_t total = 0;
  for (auto c : counts) total += c;
  return quantile_ms(counts, total, q);
}

latency_percentiles latency_histogram::window_percentiles(time_point now) const noexcept {
  return merged_window_percentiles({this}, now);
}

latency_percentiles latency_histogram::merged_window_percentiles(std::initializer_list<const latency_histogram*> hs,
                                                                 time_point now) noexcept {
  return merged_window_percentiles(std::span<const latency_histogram* const>(hs.begin(), hs.size()), now);
}

latency_percentiles latency_histogram::merged_window_percentiles(std::span<const latency_histogram* const> hs,
                                                                 time_point now) noexcept {
  bucket_array counts{};
  for (const latency_histogram* h : hs) {
    const bucket_array one = h->window_counts(now);
    for (std::size_t i = 0; i < bucket_count; ++i) counts[i] += one[i];
  }
  latency_percentiles r;
  for (auto c : counts) r.count += c;
  r.p50_ms = quantile_ms(counts, r.count, 0.50);
  r.p90_ms = quantile_ms(counts, r.count, 0.90);
  r.p99_ms = quantile_ms(counts, r.count, 0.99);
  return r;
}

// Octave edges are bucket edges, so every cumulative count is exact rather than estimated.
std::vector<cumulative_bucket> latency_histogram::prometheus_buckets() const {
  std::vector<cumulative_bucket> out;
  out.reserve(max_exponent - min_exponent + 2);
  std::uint64_t cumulative = 0;
  std::size_t i = 0;
  for (unsigned e = min_exponent; e <= max_exponent; ++e) {
    const std::uint64_t edge = std::uint64_t{1} << e;
    for (; i < bucket_count - 1 && bucket_upper_ns(i) <= edge; ++i) cumulative += lifetime_[i];
    out.push_back({static_cast<double>(edge) / 1e9, cumulative});
  }
  out.push_back({std::numeric_limits<double>::infinity(), count_});
  return out;
}

}  // namespace fcgimux
