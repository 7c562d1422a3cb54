// SPDX-License-Identifier: ISC
#include "src/pool/slow_start.hpp"

#include <algorithm>
#include <cstdint>

namespace fcgimux {

bool slow_start::starting(time_point now, duration length) const noexcept {
  if (state_ == phase::ramping) return length > duration::zero() && now - since_ < length;
  return state_ == phase::held && length > duration::zero();
}

std::size_t slow_start::weight(std::size_t configured, time_point now, duration length) const noexcept {
  const std::size_t full = std::max<std::size_t>(configured, 1) * weight_scale;
  if (!starting(now, length)) return full;
  const std::size_t floor = std::max<std::size_t>(full / floor_divisor, 1);
  if (state_ == phase::held) return floor;
  // Linear in the time since the ramp began, from the floor at 0 to full at `length`.
  const auto done = std::chrono::duration_cast<std::chrono::microseconds>(now - since_).count();
  const auto all = std::max<std::int64_t>(std::chrono::duration_cast<std::chrono::microseconds>(length).count(), 1);
  const auto grown = static_cast<std::size_t>(static_cast<double>(full - floor) * static_cast<double>(done) /
                                              static_cast<double>(all));
  return std::min(full, floor + grown);
}

}  // namespace fcgimux
