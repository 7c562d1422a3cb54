// SPDX-License-Identifier: ISC
#include "src/pool/health_check.hpp"

#include <algorithm>

namespace fcgimux {

std::chrono::steady_clock::duration eject_length(std::chrono::steady_clock::duration base, std::size_t earlier) noexcept {
  return base * (std::size_t{1} << std::min(earlier, max_eject_doublings));
}

bool check_state::record(bool passed) noexcept {
  if (passed == up_) {
    run_ = 0;
    return false;
  }
  // A count of 0 would never turn: it acts as 1.
  if (++run_ < std::max<std::size_t>(passed ? rise_ : fall_, 1)) return false;
  up_ = passed;
  run_ = 0;
  return true;
}

}  // namespace fcgimux
