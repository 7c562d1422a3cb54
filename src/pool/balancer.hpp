// SPDX-License-Identifier: ISC
#pragma once
// Which server of a pool takes the next request, free of I/O so that it is tested alone
// (tests/daemon/test_balancer.cpp). A server with no room (in flight = its limit) is never picked:
// a request that finds no room waits in the pool's queue, the only waiting place, never in a
// server's backlog. Backup servers are picked only when no other server has room.

#include "src/config/config.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace fcgimux {

/// What the balancer sees of one server.
struct balance_slot {
  std::size_t weight = 1;     ///< in balancing units (slow_start.hpp: weight_scale per configured unit)
  std::size_t in_flight = 0;  ///< requests there now
  std::size_t limit = 0;      ///< requests there at most; 0: none (not ready yet)
  bool backup = false;
  bool usable = true;           ///< false while it may not take requests (its limit is still being asked)
  std::int64_t rr_current = 0;  ///< round-robin's running score (smooth weighted round-robin)

  bool has_room() const noexcept { return usable && in_flight < limit; }
};

class balancer {
 public:
  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  explicit balancer(balance_mode mode = balance_mode::least_outstanding) noexcept : mode_(mode) {}
  void set_mode(balance_mode mode) noexcept { mode_ = mode; }

  /// The index of the slot to take the next request, or `none` when no slot has room. Does not
  /// count the request in: the caller raises its in_flight.
  std::size_t pick(std::span<balance_slot> slots) noexcept;

 private:
  std::size_t pick_among(std::span<balance_slot> slots, bool backups) noexcept;

  balance_mode mode_;
  std::size_t next_ = 0;  // least-outstanding: where the search for ties starts, so ties take turns
};

}  // namespace fcgimux
