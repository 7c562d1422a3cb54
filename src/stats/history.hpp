// SPDX-License-Identifier: ISC
#pragma once
// The last ten minutes of what the dashboard charts, kept by fcgimux itself: a page opened during
// an incident shows what led to it. One sample a second, per pool and for the totals; a fixed
// ring, so the memory is bounded (about 22 KB a series) and sampling allocates nothing once a
// pool has its series.

#include "src/base/clock.hpp"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace fcgimux {

class stats;

class stats_history {
 public:
  static constexpr std::size_t capacity = 600;
  static constexpr std::chrono::seconds interval{1};

  /// The charted values at one sample; rate is requests completed per second since the last one.
  struct sample {
    float size = 0, busy = 0, idle = 0, queue = 0, rate = 0;
    float service_p50 = 0, service_p99 = 0, queue_p50 = 0, queue_p99 = 0;
  };

  explicit stats_history(const stats& s);

  /// Takes one sample of every pool and of the totals.
  void take(clock_type::time_point now);
  /// {"interval_s", "series": {"size": [...], ...}} oldest first, for the pool named (the totals
  /// without a name). Null when no such pool.
  nlohmann::json to_json(std::optional<std::string_view> pool) const;
  std::size_t samples() const noexcept { return totals_.count; }

 private:
  struct series {
    std::array<sample, capacity> ring{};
    std::size_t next = 0, count = 0;
    std::uint64_t last_completed = 0;
    clock_type::time_point last_at{};
    void push(const sample& s);
  };

  /// The series of the pool of that name, made on first use (pools come and go with reloads).
  series& series_of(const std::string& pool);

  const stats& stats_;
  series totals_;
  std::vector<std::pair<std::string, series>> pools_;
};

}  // namespace fcgimux
