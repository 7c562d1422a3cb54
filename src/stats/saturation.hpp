// SPDX-License-Identifier: ISC
#pragma once
// A pool's saturation: how much of its capacity the work it has now would take, the number an
// autoscaler targets (docs/scaling.md). Instant, and as the mean of the last 30 one-second samples,
// which a Horizontal Pod Autoscaler can target without flapping.

#include <array>
#include <cstddef>

namespace fcgimux {

/// (busy members + queued requests) / max workers; 0 when the pool has no maximum. Past 1 when
/// requests wait: the queue says by how much the pool is short, which busy members alone cannot.
double saturation_of(std::size_t busy, std::size_t queued, std::size_t max_workers) noexcept;

/// The mean of the last `samples` values pushed (one a second: stats::sample_saturation).
class saturation_window {
 public:
  /// 30 s: two HPA syncs (15 s). Short enough that a load step shows in the next sync or the one
  /// after; long enough that the sampling noise of a pool of a few workers (one busy worker of 8
  /// is 0.125, beyond the HPA's 0.1 tolerance) averages out between two syncs.
  static constexpr std::size_t samples = 30;

  /// Adds one sample, dropping the oldest once `samples` are held.
  void push(double v) noexcept;
  /// The mean of the samples held; 0 before the first.
  double mean() const noexcept { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  std::size_t count() const noexcept { return count_; }

 private:
  std::array<double, samples> ring_{};
  std::size_t next_ = 0, count_ = 0;
  double sum_ = 0;
};

}  // namespace fcgimux
