// SPDX-License-Identifier: ISC
#pragma once
// A latency histogram cheap enough for the data path: fixed log-linear buckets (HDR-like: 16 linear
// steps per power of two, 8.192 us to 68.7 s), a lifetime copy for Prometheus, and a ring of 10 s
// slots that gives percentiles over the last minute. No allocation after construction, no locks:
// fcgimux records and scrapes on one io_context thread.

#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <initializer_list>
#include <span>
#include <vector>

namespace fcgimux {

/// Percentiles of the sliding window, in milliseconds (0 when the window holds no sample).
struct latency_percentiles {
  std::uint64_t count = 0;  ///< samples in the window
  double p50_ms = 0, p90_ms = 0, p99_ms = 0;
};

/// One Prometheus histogram bucket: observations <= le_seconds (cumulative, lifetime).
struct cumulative_bucket {
  double le_seconds = 0;  ///< upper bound; +infinity for the last one
  std::uint64_t count = 0;
};

/// Latency distribution: lifetime buckets for Prometheus, a one-minute window for percentiles.
class latency_histogram {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  /// log2 of the number of linear steps per power of two (16 steps: <= 6.25 % bucket width).
  static constexpr unsigned sub_bits = 4;
  /// Values up to 2^min_exponent ns (8.192 us) share the first bucket.
  static constexpr unsigned min_exponent = 13;
  /// Values above 2^max_exponent ns (68.7 s) share the last bucket.
  static constexpr unsigned max_exponent = 36;
  /// Number of buckets: underflow, the log-linear range, overflow.
  static constexpr std::size_t bucket_count = 2 + (max_exponent - min_exponent) * (1u << sub_bits);
  /// Width of one window slot.
  static constexpr std::chrono::seconds slot_width{10};
  /// Number of slots in the window: percentiles cover the last 50 to 60 s.
  static constexpr std::size_t slot_count = 6;

  /// Empty; every array is allocated in place, nothing later.
  latency_histogram() = default;

  /// Records one latency; reads the coarse monotonic clock (a few ns) to place it in the window.
  void record(std::chrono::nanoseconds d) noexcept { record(d, coarse_now()); }

  /// Records one latency that ended at `now` (pass the time the caller already has).
  void record(std::chrono::nanoseconds d, time_point now) noexcept {
    if (now >= slot_end_) [[unlikely]]
      advance(now);
    const std::size_t i = bucket_index(d);
    ++lifetime_[i];
    ++slots_[current_].counts[i];
    ++count_;
    sum_ns_ += d.count() > 0 ? static_cast<std::uint64_t>(d.count()) : 0;
  }

  /// The bucket a latency falls into; O(1): one bit scan, one shift. Bucket i holds
  /// (bucket_lower_ns(i), bucket_upper_ns(i)], so Prometheus' "<= le" counts are exact at edges.
  static constexpr std::size_t bucket_index(std::chrono::nanoseconds d) noexcept {
    const auto v = d.count() > 0 ? static_cast<std::uint64_t>(d.count()) - 1 : 0;
    if (v < (std::uint64_t{1} << min_exponent)) return 0;
    if (v >= (std::uint64_t{1} << max_exponent)) return bucket_count - 1;
    const unsigned e = static_cast<unsigned>(std::bit_width(v)) - 1;
    const std::size_t sub = (v >> (e - sub_bits)) & ((1u << sub_bits) - 1);
    return 1 + (e - min_exponent) * (std::size_t{1} << sub_bits) + sub;
  }

  /// Lower edge of bucket i in ns (exclusive, except 0 for the first bucket).
  static constexpr std::uint64_t bucket_lower_ns(std::size_t i) noexcept {
    if (i == 0) return 0;
    if (i >= bucket_count - 1) return std::uint64_t{1} << max_exponent;
    const std::size_t k = i - 1;
    const unsigned e = min_exponent + static_cast<unsigned>(k >> sub_bits);
    const std::uint64_t sub = k & ((1u << sub_bits) - 1);
    return ((std::uint64_t{1} << sub_bits) + sub) << (e - sub_bits);
  }

  /// Upper edge of bucket i in ns, inclusive (the last bucket has none: returns its lower edge).
  static constexpr std::uint64_t bucket_upper_ns(std::size_t i) noexcept {
    return i + 1 >= bucket_count ? bucket_lower_ns(i) : bucket_lower_ns(i + 1);
  }

  /// steady_clock's timeline (CLOCK_MONOTONIC) at tick resolution (1-4 ms): ample for 10 s slots
  /// and several times cheaper than steady_clock::now().
  static time_point coarse_now() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return time_point{std::chrono::duration_cast<time_point::duration>(std::chrono::seconds(ts.tv_sec) +
                                                                       std::chrono::nanoseconds(ts.tv_nsec))};
  }

  /// Samples recorded since start.
  std::uint64_t count() const noexcept { return count_; }
  /// Sum of all samples since start.
  std::chrono::nanoseconds sum() const noexcept {
    return std::chrono::nanoseconds{static_cast<std::chrono::nanoseconds::rep>(sum_ns_)};
  }
  /// Samples since start in bucket i.
  std::uint64_t lifetime_bucket(std::size_t i) const noexcept { return lifetime_[i]; }

  /// p50/p90/p99 over the window that ends at `now`.
  latency_percentiles window_percentiles(time_point now) const noexcept;
  /// The same over several histograms at once (the pools' totals).
  static latency_percentiles merged_window_percentiles(std::span<const latency_histogram* const> hs,
                                                       time_point now) noexcept;
  static latency_percentiles merged_window_percentiles(std::initializer_list<const latency_histogram*> hs,
                                                       time_point now) noexcept;
  /// The q-quantile (0..1) over the window that ends at `now`, in ms; 0 when empty.
  double window_quantile_ms(double q, time_point now) const noexcept;
  /// Samples in the window that ends at `now`.
  std::uint64_t window_count(time_point now) const noexcept;

  /// Cumulative lifetime counts at every power of two from 2^min_exponent ns, then +Inf.
  std::vector<cumulative_bucket> prometheus_buckets() const;

 private:
  using bucket_array = std::array<std::uint64_t, bucket_count>;
  struct slot {
    std::int64_t period = -1;  ///< which 10 s period (steady clock epoch / slot_width) it holds
    bucket_array counts{};
  };

  void advance(time_point now) noexcept;
  bucket_array window_counts(time_point now) const noexcept;
  static double quantile_ms(const bucket_array& counts, std::uint64_t total, double q) noexcept;
  static std::int64_t period_of(time_point t) noexcept;

  bucket_array lifetime_{};
  std::array<slot, slot_count> slots_{};
  std::size_t current_ = 0;
  time_point slot_end_{};  ///< when the current slot's period ends; the epoch forces a first advance
  std::uint64_t count_ = 0;
  std::uint64_t sum_ns_ = 0;
};

}  // namespace fcgimux
