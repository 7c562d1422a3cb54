// SPDX-License-Identifier: ISC
#pragma once
// One remote server of a pool as /stats, /metrics and the dashboard show it (docs/stats.md,
// pools.NAME.servers). The pool fills these in on demand; the stats layer only renders them.

#include "src/stats/histogram.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fcgimux {

/// Where a server stands, most telling first: a draining server may also be down, and so on.
enum class server_state : std::uint8_t {
  up,        ///< takes requests at its full weight
  down,      ///< failed `fall` checks in a row, or not reached yet for its FCGI_GET_VALUES
  ejected,   ///< failed --max-fails requests in a row: takes none until its ejection ends
  draining,  ///< a reload removed it: no new request, those in flight finish
  starting   ///< slow start: takes requests at a weight that grows to its full one
};
/// Its name in /stats and the label value in /metrics: "up", "down", "ejected", "draining", "starting".
std::string_view to_string(server_state s) noexcept;
/// Every state, in the order of the enum (for a series per state).
inline constexpr server_state all_server_states[] = {server_state::up, server_state::down, server_state::ejected,
                                                     server_state::draining, server_state::starting};

/// Where a server's limit of requests in flight came from.
enum class limit_source : std::uint8_t {
  configured,  ///< its max-conns
  server,      ///< its FCGI_MAX_CONNS answer
  guessed,     ///< neither: the default (pool/server_set.hpp)
  unknown      ///< not asked yet, or not reached
};
/// Its name in /stats: "configured", "FCGI_MAX_CONNS", "default", or "unknown".
std::string_view to_string(limit_source s) noexcept;

/// One server at one instant.
struct server_info {
  std::string address;
  server_state state = server_state::up;
  std::size_t weight = 1;       ///< configured
  double effective_weight = 1;  ///< what the balancer uses now: below weight while starting
  std::size_t in_flight = 0;
  std::size_t connections = 0;  ///< open: in flight + kept idle
  std::size_t max = 0;          ///< its limit of requests in flight
  limit_source max_from = limit_source::unknown;
  bool backup = false;
  std::uint64_t requests = 0;   ///< exchanges ended there, failed ones included
  std::uint64_t failures = 0;   ///< exchanges that failed (refused, reset, timed out, cut off)
  std::uint64_t ejections = 0;  ///< times ejected (passive health), lifetime
  latency_percentiles latency;  ///< of its answered requests, over the last minute
  bool checked = false;         ///< an active check has ended
  bool last_check_passed = false;
  std::string last_check_why;  ///< why it failed; empty when it passed
  std::chrono::system_clock::time_point last_check_at{};
};

}  // namespace fcgimux
