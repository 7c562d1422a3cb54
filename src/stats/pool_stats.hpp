// SPDX-License-Identifier: ISC
#pragma once
// What fcgimux counts for one pool. The data path only increments counters and records latencies
// here; the stats server renders them (JSON, Prometheus) on demand, so a scrape never touches the
// data path.

#include "src/base/clock.hpp"
#include "src/stats/histogram.hpp"
#include "src/stats/saturation.hpp"
#include "src/stats/server_stats.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace fcgimux {

/// Monotonic counters of one pool; names follow the JSON contract in docs/stats.md.
struct pool_counters {
  std::uint64_t requests_accepted = 0;   ///< BEGIN_REQUESTs taken from the front
  std::uint64_t requests_completed = 0;  ///< END_REQUEST sent to the front (any status)
  std::uint64_t requests_rejected = 0;   ///< refused: queue full, unknown role, overloaded
  std::uint64_t requests_timed_out = 0;  ///< queue timeout or request timeout
  std::uint64_t requests_aborted = 0;    ///< ABORT_REQUEST or the front closed first
  std::uint64_t requests_failed = 0;     ///< answered 502 or cut off because a worker failed
  std::uint64_t responses_2xx = 0, responses_3xx = 0, responses_4xx = 0, responses_5xx = 0;
  std::uint64_t responses_other = 0;  ///< a status outside 200..599 (a CGI script's bogus Status)
  std::uint64_t workers_spawned = 0;
  std::uint64_t workers_exited = 0;       ///< all exits, crashes included
  std::uint64_t workers_crashed = 0;      ///< killed by a signal we did not send, or non-zero exit
  std::uint64_t max_workers_reached = 0;  ///< requests that queued while the pool was at its maximum
  std::uint64_t queue_peak = 0;
  std::uint64_t access_log_dropped = 0;  ///< access-log lines dropped: the log writer was too far behind
  // For php-fpm's status page (stats/fpm_status.hpp).
  std::uint64_t busy_peak = 0;      ///< the most members busy at once: "max active processes"
  std::uint64_t requests_slow = 0;  ///< requests past --slow-threshold: "slow requests"

  pool_counters& operator+=(const pool_counters& o) noexcept;
  /// Accepted and not completed yet: queued or at a worker now.
  std::uint64_t active() const noexcept {
    return requests_accepted > requests_completed ? requests_accepted - requests_completed : 0;
  }
};

/// Where a pool's rolling restart (SIGHUP) stands.
enum class roll_phase : std::uint8_t { idle, rolling, failed };
/// Its name in /stats and the dashboard: "idle", "rolling" or "failed".
std::string_view to_string(roll_phase p) noexcept;

/// A pool's rolling restart (SIGHUP) as the stats show it.
struct roll_status {
  roll_phase state = roll_phase::idle;
  std::size_t old_workers = 0;  ///< workers of an older generation still serving
  std::size_t new_workers = 0;  ///< workers of the newest generation (starting included)
  std::string error;            ///< why the last roll stopped, when it failed
};

/// Where a pool member is in its life; the exchange and the stats name it the same way.
enum class member_state : std::uint8_t { starting, idle, busy, stopping };
std::string_view to_string(member_state s) noexcept;

/// One worker as the stats show it.
struct worker_info {
  int pid = 0;
  std::uint64_t generation = 1;
  member_state state = member_state::idle;
  std::uint64_t requests = 0;
  double uptime_s = 0;
  bool has_current = false;
  std::string current_uri;  ///< REQUEST_URI (or SCRIPT_NAME) of the request it serves
  double current_elapsed_ms = 0;
  // Of the request it serves, for php-fpm's ?full (stats/fpm_status.hpp).
  std::string current_method;        ///< REQUEST_METHOD
  std::string current_script;        ///< SCRIPT_FILENAME
  std::string current_user;          ///< REMOTE_USER
  std::uint64_t current_length = 0;  ///< CONTENT_LENGTH
  // Of the last request it ended, measured once a `full` status page was asked (process/worker_usage.hpp).
  double last_request_cpu = 0;            ///< percent of the request's wall time
  std::uint64_t last_request_memory = 0;  ///< resident peak, bytes
};

/// A pool and its queue at one instant, filled in by the pool on demand.
struct pool_snapshot {
  std::size_t min = 0, max = 0, size = 0, busy = 0, idle = 0, starting = 0;
  std::size_t queue_length = 0, queue_limit = 0;
  bool can_serve = false;  ///< a worker is ready, or one can be started (for /healthz)
  /// (busy + queue_length) / max: saturation.hpp.
  double saturation() const noexcept { return saturation_of(busy, queue_length, max); }
  std::uint64_t generation = 1;  ///< +1 for each roll (SIGHUP)
  roll_status roll;
  std::vector<worker_info> workers;  ///< filled only when asked for (full)
  std::vector<server_info> servers;  ///< its remote servers, draining ones included

  /// Adds `o`'s counts into these totals; can_serve holds while every pool can serve (start from
  /// can_serve = true). Generation, roll, workers and servers are a pool's own and are left alone.
  pool_snapshot& operator+=(const pool_snapshot& o) noexcept;
};

/// A queue's length and the largest it has been. The process keeps one over every pool's queue,
/// so that the totals' peak is a true peak, not the sum of peaks reached at different times.
struct queue_gauge {
  std::uint64_t length = 0;
  std::uint64_t peak = 0;

  void add(std::uint64_t n) noexcept {
    length += n;
    if (length > peak) peak = length;
  }
  void remove(std::uint64_t n) noexcept { length -= n < length ? n : length; }
};

class pool_stats {
 public:
  pool_counters counts;
  /// The process-wide gauge this pool's queue also counts into (stats::add_pool); null: none.
  queue_gauge* process_queue = nullptr;
  latency_histogram queue_latency;    ///< time from queued to handed to a worker
  latency_histogram service_latency;  ///< time from handed to a worker to END_REQUEST

  /// The last 30 s of saturation, one sample a second (stats::sample_saturation).
  saturation_window saturation;

  /// A `full` php-fpm status page of this pool was asked (stats/fpm_status.hpp): from then on
  /// each request's CPU and memory at its worker are measured, which costs a few procfs reads.
  bool usage_wanted = false;

  /// Set by the pool; called for each scrape.
  std::function<pool_snapshot(bool full)> view;
  pool_snapshot snapshot(bool full) const { return view ? view(full) : pool_snapshot{}; }

  /// Counts a response by its HTTP status (from the CGI Status header; 200 when absent).
  void record_status(int status) noexcept;

  /// The pool's queue holds `n` requests now: its peak and the process's gauge follow.
  void queue_length_is(std::size_t n) noexcept;
  /// The length last given to queue_length_is().
  std::uint64_t queued() const noexcept { return queued_; }

 private:
  std::uint64_t queued_ = 0;
};

}  // namespace fcgimux
