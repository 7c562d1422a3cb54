// SPDX-License-Identifier: ISC
#pragma once
// Slow start (--slow-start, HAProxy's `slowstart` as the model): a server that joins, recovers or
// is checked good for the first time ramps its balancing weight up linearly from a floor to its
// full weight, so that a cold server (empty opcache, cold caches, a JIT still warming) is not
// handed its full share at once. Free of I/O and clocks, tested alone (tests/daemon/test_slow_start.cpp):
// server_set passes the time in.

#include <chrono>
#include <cstddef>

namespace fcgimux {

/// Balancing units per unit of configured weight: what lets a weight of 1 ramp in small steps.
inline constexpr std::size_t weight_scale = 256;

/// Where a server's ramp stands.
class slow_start {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  /// The server is to ramp once it is seen good: at the floor until begin().
  void hold() noexcept { state_ = phase::held; }
  /// The ramp starts now (a passed check, the end of an ejection, a server added by a reload).
  void begin(time_point now) noexcept {
    state_ = phase::ramping;
    since_ = now;
  }
  /// Waiting at the floor for begin().
  bool held() const noexcept { return state_ == phase::held; }
  /// No ramp (the server went down, or slow start is off).
  void cancel() noexcept { state_ = phase::off; }
  /// Held, or ramping and `length` not over at `now`.
  bool starting(time_point now, duration length) const noexcept;
  /// The balancing weight of a server of weight `configured` at `now` (configured * weight_scale when
  /// not starting). Never below the floor, never 0: a starting server still takes a little.
  std::size_t weight(std::size_t configured, time_point now, duration length) const noexcept;

  /// The share of its full weight a starting server has at least: 1/32, HAProxy's ~3 %.
  static constexpr std::size_t floor_divisor = 32;

 private:
  enum class phase : unsigned char { off, held, ramping };
  phase state_ = phase::off;
  time_point since_{};
};

}  // namespace fcgimux
