#pragma once
// The two worker states every rendering of a pool snapshot must handle, for the tests' fake pools:
// busy with a request in hand, and idle.

#include "src/stats/stats.hpp"

#include <cstdint>
#include <string>
#include <utility>

namespace fcgimux::test {

/// A busy worker serving `uri` for `elapsed_ms`.
inline worker_info busy_worker(int pid, std::uint64_t requests, double uptime_s, std::string uri, double elapsed_ms) {
  worker_info w;
  w.pid = pid;
  w.state = "busy";
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
  w.state = "idle";
  w.requests = requests;
  w.uptime_s = uptime_s;
  return w;
}

}  // namespace fcgimux::test
