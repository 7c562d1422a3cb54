// SPDX-License-Identifier: ISC
#pragma once
// php-fpm's status page (pm.status_path) in its five shapes, filled from fcgimux's counters, so
// that what reads php-fpm's page (hipages/php-fpm_exporter reads ?json, Datadog, Zabbix and
// Netdata collectors) reads fcgimux's unchanged. The field names, their order and their types are
// php-fpm 8.2's (sapi/fpm/fpm/fpm_status.c); what each is filled from: docs/php-fpm-status.md.

#include "src/stats/pool_stats.hpp"

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace fcgimux {

/// The shapes php-fpm answers in, chosen by its query string.
enum class fpm_format : std::uint8_t { text, json, xml, html, openmetrics };

/// What a status request asked for: `?json&full` and so on; no word of php-fpm's is plain text.
struct fpm_query {
  fpm_format format = fpm_format::text;
  bool full = false;  ///< the per-process entries (openmetrics has none, as in php-fpm)
};

/// Reads the words of QUERY_STRING, '&'-separated, as php-fpm does ("json", "xml", "html",
/// "openmetrics", "full").
fpm_query parse_fpm_query(std::string_view query);

/// One entry of `full`.
struct fpm_process {
  int pid = 0;
  std::string state;  ///< "Idle", "Running" or "Ending", php-fpm's names
  std::time_t start_time = 0;
  std::uint64_t start_since = 0;
  std::uint64_t requests = 0;
  std::uint64_t request_duration_us = 0;  ///< of the request it serves; 0 when idle
  std::string request_method = "-", request_uri = "-", user = "-", script = "-";
  std::uint64_t content_length = 0;
  double last_request_cpu = 0;            ///< percent; shown for an idle process only, as php-fpm does
  std::uint64_t last_request_memory = 0;  ///< bytes: the resident peak, not PHP's memory_get_peak_usage()
};

/// A pool's status page, in php-fpm's terms.
struct fpm_status {
  std::string pool;
  std::string process_manager;  ///< "static", "dynamic" or "ondemand"
  std::time_t start_time = 0;   ///< wall clock, seconds
  std::uint64_t start_since = 0;
  std::uint64_t accepted_conn = 0, listen_queue = 0, max_listen_queue = 0, listen_queue_len = 0;
  std::uint64_t idle_processes = 0, active_processes = 0, total_processes = 0, max_active_processes = 0;
  std::uint64_t max_children_reached = 0, slow_requests = 0;
  std::vector<fpm_process> processes;
};

/// What the pool's settings and counters say, with `start_time` the process's start on the wall
/// clock and `since` the seconds it has run; `snap.workers` become the processes (full).
fpm_status fpm_status_of(std::string_view pool, std::string_view process_manager, const pool_stats& st,
                         const pool_snapshot& snap, std::time_t start_time, std::uint64_t since, bool show_query);

/// A rendered page.
struct fpm_page {
  std::string_view content_type;  ///< a literal
  std::string body;
};

/// The page in php-fpm's shape for `q`.
fpm_page render_fpm_status(const fpm_status& s, fpm_query q);

class stats;
/// The page of pool `name` (counting into `st`, registered in `process`) for a QUERY_STRING:
/// what --status-path and the stats server's /fpm-status answer. A `full` page turns on the
/// measuring of each request's CPU and memory in `st` (pool_stats::usage_wanted).
fpm_page fpm_status_page(const stats& process, std::string_view name, pool_stats& st, std::string_view query);

}  // namespace fcgimux
