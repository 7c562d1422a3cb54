// SPDX-License-Identifier: ISC
#pragma once
// What a worker used while it served one request, for php-fpm's `last request cpu` and `last
// request memory` (stats/fpm_status.hpp; docs/php-fpm-status.md): its CPU time and its resident
// peak, read from /proc as the request starts and ends.
//
// php-fpm measures inside its child (times() and the Zend allocator's peak). fcgimux can only look
// at the process from outside: /proc/PID/stat's utime, stime, cutime and cstime (the four times()
// gives, in clock ticks), and /proc/PID/status's VmHWM, the process's resident peak, which writing
// "5" to /proc/PID/clear_refs resets to its current resident size at the request's start. Each is
// one open, read (or write) and close of a procfs file the kernel fills from memory: no disk, no
// wait, a few microseconds; the loop never blocks on them.

#include "src/base/clock.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace fcgimux {

/// utime + stime + cutime + cstime, in clock ticks, of a /proc/PID/stat line; nullopt if malformed.
std::optional<std::uint64_t> stat_cpu_ticks(std::string_view stat);
/// VmHWM of a /proc/PID/status text, in bytes; nullopt without one (a zombie has none).
std::optional<std::uint64_t> status_peak_rss(std::string_view status);

/// One worker's figures for its last request. Measured only between begin() and end().
class worker_usage {
 public:
  /// A request goes to worker `pid` now: its CPU time so far, and its resident peak reset.
  void begin(int pid, clock_type::time_point now);
  /// It ended now: the CPU it took over the request's wall time, and the peak since begin().
  /// Without a begin() (measuring was off when the request started) nothing changes.
  void end(int pid, clock_type::time_point now);

  /// CPU time over wall time of the last request measured, in percent (above 100 with threads
  /// or children); 0 before any.
  double last_cpu_percent() const noexcept { return last_cpu_; }
  /// The resident peak during the last request, in bytes; 0 before any, or when the peak could
  /// not be reset (it would be the process's lifetime peak, not the request's).
  std::uint64_t last_memory() const noexcept { return last_memory_; }

 private:
  bool begun_ = false;
  std::optional<std::uint64_t> start_ticks_;
  bool peak_reset_ = false;
  clock_type::time_point start_at_{};
  double last_cpu_ = 0;
  std::uint64_t last_memory_ = 0;
};

}  // namespace fcgimux
