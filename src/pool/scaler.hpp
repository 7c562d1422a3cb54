// SPDX-License-Identifier: ISC
#pragma once
// The pool-sizing policy, kept free of I/O so it can be tested alone (docs/scaling.md).
// Growth is driven by events: every time a request has to wait, the pool is asked for as many
// workers as the waiting requests need, limited only by --max-workers and a token bucket of
// --max-spawn-rate. Shrinking is slow: one idle worker per pass, idle for --idle-timeout.

#include <chrono>
#include <cstddef>

namespace fcgimux {

struct scaler_config {
  std::size_t min = 1;
  std::size_t max = 1;
  std::size_t spare = 0;
  double max_spawn_rate = 10;  ///< workers per second; also the bucket's depth (at least 1)
  double idle_timeout = 300;   ///< seconds
};

/// What the pool looks like to the policy.
struct pool_counts {
  std::size_t live = 0;  ///< starting + idle + busy (not stopping)
  std::size_t starting = 0;
  std::size_t idle = 0;
  std::size_t queued = 0;  ///< requests waiting for a worker
};

class scaler {
 public:
  using clock = std::chrono::steady_clock;

  explicit scaler(const scaler_config& cfg, clock::time_point now = clock::now());

  /// Workers the pool lacks right now, before the rate limit.
  std::size_t wanted(const pool_counts& p) const noexcept;
  /// How many to start now: wanted() limited by the tokens in the bucket, which it spends.
  std::size_t take_starts(const pool_counts& p, clock::time_point now) noexcept;
  /// When the bucket next holds a whole token (for a retry timer when take_starts() fell short).
  clock::time_point next_token_at(clock::time_point now) const noexcept;
  /// Whether a worker idle since `idle_since` may be released now (never below the minimum,
  /// never while requests wait).
  bool may_release(const pool_counts& p, clock::time_point idle_since, clock::time_point now) const noexcept;

 private:
  void refill(clock::time_point now) noexcept;

  scaler_config cfg_;
  double tokens_;
  clock::time_point last_refill_;
};

}  // namespace fcgimux
