// SPDX-License-Identifier: ISC
#pragma once
// The one clock of fcgimux's timeouts and latencies.

#include <chrono>

namespace fcgimux {

using clock_type = std::chrono::steady_clock;

/// A setting in (fractional) seconds as the clock's duration.
inline clock_type::duration to_duration(std::chrono::duration<double> seconds) {
  return std::chrono::duration_cast<clock_type::duration>(seconds);
}

}  // namespace fcgimux
