// SPDX-License-Identifier: ISC
#pragma once
// The arithmetic of a remote server's health, free of I/O and clocks so that it is tested alone
// (tests/daemon/test_health_check.cpp): how long an ejection lasts, and the rise/fall counting of
// active checks. server_set runs the timers and the checks themselves.

#include <chrono>
#include <cstddef>

namespace fcgimux {

/// The most an ejection is doubled: 2^5 = 32 times --eject-time (5 min 20 s at the default 10 s).
/// Long enough that a server down for good costs a request every few minutes only; short enough
/// that one back after a reboot or a deploy takes traffic again within minutes, without a restart.
inline constexpr std::size_t max_eject_doublings = 5;

/// How long an ejection lasts when `earlier` ejections came in a row before it (none answered
/// a request since): `base` doubled per earlier one, at most max_eject_doublings times.
std::chrono::steady_clock::duration eject_length(std::chrono::steady_clock::duration base, std::size_t earlier) noexcept;

/// Active checks' verdict on one server: down after `fall` failed checks in a row, up again after
/// `rise` passed ones in a row. A server starts up (its first request or check says otherwise).
class check_state {
 public:
  check_state(std::size_t rise, std::size_t fall) noexcept : rise_(rise), fall_(fall) {}
  /// Counts one check's result; true when it turned the server up or down.
  bool record(bool passed) noexcept;
  bool up() const noexcept { return up_; }
  /// New counts (a reload), keeping the verdict.
  void set_counts(std::size_t rise, std::size_t fall) noexcept { rise_ = rise, fall_ = fall; }

 private:
  std::size_t rise_, fall_;
  std::size_t run_ = 0;  // checks in a row that disagree with the verdict
  bool up_ = true;
};

}  // namespace fcgimux
