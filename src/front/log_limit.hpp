// SPDX-License-Identifier: ISC
#pragma once
// A budget for log lines a peer can cause at will (refused connections, head timeouts): at most one
// a second, the next one saying how many were left out, so a flood cannot fill the log.

#include "src/base/clock.hpp"

#include <chrono>
#include <cstdint>

namespace fcgimux {

class log_limit {
 public:
  /// True when a line may be written now; `left_out` is then how many were not written before it.
  bool allow(std::uint64_t& left_out) noexcept {
    const auto now = clock_type::now();
    if (now < next_) {
      ++left_out_;
      return false;
    }
    next_ = now + std::chrono::seconds(1);
    left_out = left_out_;
    left_out_ = 0;
    return true;
  }

 private:
  clock_type::time_point next_{};
  std::uint64_t left_out_ = 0;
};

}  // namespace fcgimux
