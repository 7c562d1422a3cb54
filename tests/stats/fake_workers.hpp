// SPDX-License-Identifier: ISC
#pragma once
// The two worker states every rendering of a pool snapshot must handle, for the tests' fake pools:
// busy with a request in hand, and idle.

#include "src/stats/stats.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fcgimux::test {

/// A busy worker serving `uri` for `elapsed_ms`.
inline worker_info busy_worker(int pid, std::uint64_t requests, double uptime_s, std::string uri, double elapsed_ms) {
  worker_info w;
  w.pid = pid;
  w.state = member_state::busy;
  w.requests = requests;
  w.uptime_s = uptime_s;
  w.has_current = true;
  w.current_uri = std::move(uri);
  w.current_elapsed_ms = elapsed_ms;
  return w;
}

/// An idle worker: no current request.
inline worker_info idle_worker(int pid, std::uint64_t requests, double uptime_s) {
  worker_info w;
  w.pid = pid;
  w.state = member_state::idle;
  w.requests = requests;
  w.uptime_s = uptime_s;
  return w;
}

/// The counts of a pool snapshot, in pool_snapshot's order: min, max, size, busy, idle, starting,
/// queue length, queue limit.
struct snapshot_counts {
  std::size_t min, max, size, busy, idle, starting, queue_length, queue_limit;
};

/// A pool snapshot of generation 1, no roll under way.
inline pool_snapshot snapshot_of(const snapshot_counts& n, bool can_serve, std::vector<worker_info> workers) {
  return pool_snapshot{.min = n.min,
                       .max = n.max,
                       .size = n.size,
                       .busy = n.busy,
                       .idle = n.idle,
                       .starting = n.starting,
                       .queue_length = n.queue_length,
                       .queue_limit = n.queue_limit,
                       .can_serve = can_serve,
                       .generation = 1,
                       .roll = {},
                       .workers = std::move(workers),
                       .servers = {}};
}

}  // namespace fcgimux::test
