// SPDX-License-Identifier: ISC
#include "src/stats/saturation.hpp"

namespace fcgimux {

double saturation_of(std::size_t busy, std::size_t queued, std::size_t max_workers) noexcept {
  if (max_workers == 0) return 0.0;
  return static_cast<double>(busy + queued) / static_cast<double>(max_workers);
}

void saturation_window::push(double v) noexcept {
  if (count_ == samples) {
    sum_ -= ring_[next_];
  } else {
    ++count_;
  }
  ring_[next_] = v;
  sum_ += v;
  next_ = (next_ + 1) % samples;
  // Re-add from scratch once a round: a running sum of doubles drifts over days of pushes.
  if (next_ == 0) {
    sum_ = 0;
    for (std::size_t i = 0; i < count_; ++i) sum_ += ring_[i];
  }
}

}  // namespace fcgimux
