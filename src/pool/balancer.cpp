// SPDX-License-Identifier: ISC
#include "src/pool/balancer.hpp"

namespace fcgimux {

std::size_t balancer::pick(std::span<balance_slot> slots) noexcept {
  std::size_t i = pick_among(slots, false);
  return i != none ? i : pick_among(slots, true);
}

std::size_t balancer::pick_among(std::span<balance_slot> slots, bool backups) noexcept {
  const std::size_t n = slots.size();
  if (n == 0) return none;
  auto eligible = [&](const balance_slot& s) { return s.backup == backups && s.has_room(); };
  switch (mode_) {
    case balance_mode::first:
      for (std::size_t i = 0; i < n; ++i)
        if (eligible(slots[i])) return i;
      return none;
    case balance_mode::round_robin: {
      // nginx's smooth weighted round-robin: every server gains its weight, the best is taken and
      // pays the total back, so a 3:1 pair goes a a b a, not a a a b.
      std::size_t best = none;
      std::int64_t total = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (!eligible(slots[i])) continue;
        slots[i].rr_current += static_cast<std::int64_t>(slots[i].weight);
        total += static_cast<std::int64_t>(slots[i].weight);
        if (best == none || slots[i].rr_current > slots[best].rr_current) best = i;
      }
      if (best != none) slots[best].rr_current -= total;
      return best;
    }
    case balance_mode::least_outstanding: break;
  }
  // Fewest in flight for its weight, counting the request to place (HAProxy's leastconn):
  // (a + 1) / wa < (b + 1) / wb, compared as (a + 1) * wb < (b + 1) * wa. Without the + 1 an idle
  // server would win whatever its weight, and a light or slow-starting one would take as much as
  // any other at low concurrency. Equal ones take turns, from where the last search ended.
  std::size_t best = none;
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = (next_ + k) % n;
    if (!eligible(slots[i])) continue;
    if (best == none || (slots[i].in_flight + 1) * slots[best].weight < (slots[best].in_flight + 1) * slots[i].weight)
      best = i;
  }
  if (best != none) next_ = (best + 1) % n;
  return best;
}

}  // namespace fcgimux
