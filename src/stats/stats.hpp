// SPDX-License-Identifier: ISC
#pragma once
// The stats of the whole process: its own counters and every pool's, rendered as the JSON of
// docs/stats.md (totals, and each pool under "pools") and as Prometheus text (a pool="NAME" label
// on every per-pool series).

#include "src/base/clock.hpp"
#include "src/stats/pool_stats.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace fcgimux {

/// What belongs to no pool.
struct process_counters {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_active = 0;
  std::uint64_t connections_refused = 0;          ///< closed at accept: outside their pool's --allow
  std::uint64_t connections_header_timeouts = 0;  ///< closed: PARAMS not complete within --header-timeout
  std::uint64_t connections_idle_timeouts = 0;    ///< closed: no request for --front-idle-timeout
  std::uint64_t reloads_ok = 0;                   ///< SIGHUPs whose configuration was taken
  std::uint64_t reloads_failed = 0;               ///< rejected configurations and rolls that stopped
  std::uint64_t upgrades_ok = 0;                  ///< SIGUSR2s that handed the listeners to a new process
  std::uint64_t upgrades_failed = 0;              ///< new processes that exited or were not ready in time
};

/// Where a binary upgrade (SIGUSR2) stands; handed_over: this process is on its way out.
enum class upgrade_phase : std::uint8_t { idle, starting, failed, handed_over };
/// Its name in /stats: "idle", "starting", "failed" or "handed_over".
std::string_view to_string(upgrade_phase p) noexcept;

/// Where a binary upgrade (SIGUSR2) stands.
struct upgrade_status {
  upgrade_phase state = upgrade_phase::idle;
  int pid = 0;             ///< the new process, while it starts and after the handover
  std::string last_error;  ///< why the last upgrade failed; empty: none yet
};

class stats {
 public:
  struct named_pool {
    std::string name;
    pool_stats* stats;
  };

  process_counters counts;
  queue_gauge queue;  ///< requests waiting over every pool: the totals' queue.peak
  clock_type::time_point started = clock_type::now();
  /// The same moment on the wall clock, taken once: php-fpm's `start time` must not move between
  /// two pages (now minus a whole number of seconds of uptime would, by up to one).
  std::time_t started_wall = std::time(nullptr);
  std::string version = FCGIMUX_VERSION;
  std::string last_reload_error;  ///< why the last failed reload failed; empty: none yet
  upgrade_status upgrade;
  bool show_query = false;  ///< --stats-show-query: in-flight URIs keep their query string
  bool stopping = false;    ///< a stop signal came (--shutdown-delay): /healthz answers 503 from then on

  /// Registers a pool (in configuration order); `p` must outlive this object's renderings. Its
  /// queue counts into `queue` from now on.
  void add_pool(std::string name, pool_stats& p);
  /// A pool removed by a reload: it is no longer shown.
  void remove_pool(std::string_view name);
  const std::vector<named_pool>& pools() const noexcept { return pools_; }
  /// The pool of that name, or null.
  const pool_stats* find(std::string_view name) const noexcept;

  /// The JSON document of docs/stats.md; `full` adds the "workers" arrays.
  nlohmann::json to_json(bool full) const;
  /// The same figures in Prometheus text exposition format 0.0.4; only one pool's if `only_pool`.
  std::string to_prometheus(std::string_view only_pool = {}) const;
  /// Adds the saturation of each pool now to its 30 s window (once a second, with the history).
  void sample_saturation();
  /// Every pool can serve (a worker is ready or can be started), and fcgimux is not stopping.
  bool can_serve() const;

 private:
  std::vector<named_pool> pools_;
};

/// One pool's object, as /stats shows it under pools.NAME; in-flight
/// URIs are cut at '?' unless `show_query` (a query string may carry a session id or a token).
nlohmann::json pool_json(const pool_stats& p, bool full, clock_type::time_point now, bool show_query);

}  // namespace fcgimux
