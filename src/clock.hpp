#pragma once
// The one clock of fcgimux's timeouts and latencies.

#include <chrono>

namespace fcgimux {

using clock_type = std::chrono::steady_clock;

}  // namespace fcgimux
