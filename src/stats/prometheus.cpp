// SPDX-License-Identifier: ISC
// Prometheus text exposition format 0.0.4. Every per-pool series carries pool="NAME"; the
// process-wide ones (info, uptime, connections) carry no pool label.

#include "src/base/log.hpp"
#include "src/stats/stats.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <type_traits>

namespace fcgimux {
namespace {

// HELP escapes backslash and newline, label values also the quote.
std::string escape(std::string_view s, bool label) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    if (ch == '\\')
      out += "\\\\";
    else if (ch == '\n')
      out += "\\n";
    else if (label && ch == '"')
      out += "\\\"";
    else
      out += ch;
  }
  return out;
}

class prometheus_writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, escape(help, false), name, type);
  }
  template <typename T>
  void sample(std::string_view name, std::string_view labels, T value) {
    if (labels.empty())
      fmt::format_to(std::back_inserter(out_), "{} ", name);
    else
      fmt::format_to(std::back_inserter(out_), "{}{{{}}} ", name, labels);
    // 12 significant digits: exact for the sums that matter, without binary noise like 2.0070399999999998e-04
    if constexpr (std::is_floating_point_v<T>)
      fmt::format_to(std::back_inserter(out_), "{:.12g}\n", value);
    else
      fmt::format_to(std::back_inserter(out_), "{}\n", value);
  }
  template <typename T>
  void single(std::string_view name, std::string_view type, std::string_view help, T value) {
    family(name, type, help);
    sample(name, {}, value);
  }
  void histogram_samples(std::string_view name, const std::string& pool, const latency_histogram& h) {
    const std::string bucket = fmt::format("{}_bucket", name);
    for (const cumulative_bucket& b : h.prometheus_buckets()) {
      const std::string le = std::isinf(b.le_seconds) ? "+Inf" : fmt::format("{}", b.le_seconds);
      sample(bucket, fmt::format("{},le=\"{}\"", pool, le), b.count);
    }
    sample(fmt::format("{}_sum", name), pool, std::chrono::duration<double>(h.sum()).count());
    sample(fmt::format("{}_count", name), pool, h.count());
  }
  std::string take() { return fmt::to_string(out_); }

 private:
  fmt::memory_buffer out_;  // fmt appends to its own buffer in bulk, to a std::string char by char
};

// One pool as the renderer sees it: its label and what it shows at this scrape.
struct pool_view {
  std::string label;  // pool="NAME"
  const pool_stats* stats;
  pool_snapshot snap;
};

// Per remote server: pool and server (its address) labels.
void write_servers(prometheus_writer& w, const std::vector<pool_view>& views) {
  auto per_server = [&](std::string_view name, std::string_view type, std::string_view help, auto value_of) {
    w.family(name, type, help);
    for (const pool_view& v : views)
      for (const server_info& s : v.snap.servers)
        w.sample(name, fmt::format("{},server=\"{}\"", v.label, escape(s.address, true)), value_of(s));
  };
  per_server(
      "fcgimux_server_up", "gauge", "1 while this server takes requests (up or starting).",
      [](const server_info& s) { return s.state == server_state::up || s.state == server_state::starting ? 1 : 0; });
  w.family("fcgimux_server_state", "gauge", "1 for the state this server is in, 0 for the others.");
  for (const pool_view& v : views)
    for (const server_info& s : v.snap.servers)
      for (server_state st : all_server_states)
        w.sample("fcgimux_server_state",
                 fmt::format("{},server=\"{}\",state=\"{}\"", v.label, escape(s.address, true), to_string(st)),
                 s.state == st ? 1 : 0);
  per_server("fcgimux_server_weight", "gauge", "Configured weight.", [](const server_info& s) { return s.weight; });
  per_server("fcgimux_server_effective_weight", "gauge", "Weight the balancer uses now (lower while starting).",
             [](const server_info& s) { return s.effective_weight; });
  per_server("fcgimux_server_in_flight", "gauge", "Requests at this server now.",
             [](const server_info& s) { return s.in_flight; });
  per_server("fcgimux_server_max", "gauge", "Requests this server takes at most (max-conns or FCGI_MAX_CONNS).",
             [](const server_info& s) { return s.max; });
  per_server("fcgimux_server_requests_total", "counter", "Requests ended at this server, failed ones included.",
             [](const server_info& s) { return s.requests; });
  per_server("fcgimux_server_failures_total", "counter", "Requests this server failed (refused, reset, timed out).",
             [](const server_info& s) { return s.failures; });
  per_server("fcgimux_server_ejections_total", "counter", "Times this server was ejected after --max-fails.",
             [](const server_info& s) { return s.ejections; });
  w.family("fcgimux_server_latency_window_seconds", "gauge",
           "Service latency percentiles of this server over the last minute; 0 when no sample.");
  for (const pool_view& v : views)
    for (const server_info& s : v.snap.servers)
      for (const auto& [pct, ms] : {std::pair<const char*, double>{"50", s.latency.p50_ms}, {"99", s.latency.p99_ms}})
        w.sample("fcgimux_server_latency_window_seconds",
                 fmt::format("{},server=\"{}\",percentile=\"{}\"", v.label, escape(s.address, true), pct), ms / 1e3);
  w.family("fcgimux_server_last_check_passed", "gauge", "1 if the last active check passed; absent before one ended.");
  for (const pool_view& v : views)
    for (const server_info& s : v.snap.servers)
      if (s.checked)
        w.sample("fcgimux_server_last_check_passed", fmt::format("{},server=\"{}\"", v.label, escape(s.address, true)),
                 s.last_check_passed ? 1 : 0);
}

}  // namespace

std::string stats::to_prometheus(std::string_view only_pool) const {
  const auto now = clock_type::now();
  std::vector<pool_view> views;
  for (const auto& [name, p] : pools_)
    if (only_pool.empty() || name == only_pool)
      views.push_back({fmt::format("pool=\"{}\"", escape(name, true)), p, p->snapshot(true)});
  prometheus_writer w;
  // A family with one sample per pool.
  auto per_pool = [&](std::string_view name, std::string_view type, std::string_view help, auto value_of) {
    w.family(name, type, help);
    for (const pool_view& v : views) w.sample(name, v.label, value_of(v));
  };

  w.family("fcgimux_info", "gauge", "Always 1; the label carries the fcgimux version.");
  w.sample("fcgimux_info", fmt::format("version=\"{}\"", escape(version, true)), 1);
  w.single("fcgimux_uptime_seconds", "gauge", "Seconds since fcgimux started.",
           std::chrono::duration<double>(now - started).count());

  per_pool("fcgimux_pool_min_workers", "gauge", "Configured minimum number of workers.",
           [](const pool_view& v) { return v.snap.min; });
  per_pool("fcgimux_pool_max_workers", "gauge", "Configured maximum number of workers.",
           [](const pool_view& v) { return v.snap.max; });
  per_pool("fcgimux_pool_workers", "gauge", "Workers alive (starting, idle, busy or stopping).",
           [](const pool_view& v) { return v.snap.size; });
  per_pool("fcgimux_pool_busy_workers", "gauge", "Workers serving a request.",
           [](const pool_view& v) { return v.snap.busy; });
  per_pool("fcgimux_pool_idle_workers", "gauge", "Workers ready for a request.",
           [](const pool_view& v) { return v.snap.idle; });
  per_pool("fcgimux_pool_starting_workers", "gauge", "Workers spawned but not ready yet.",
           [](const pool_view& v) { return v.snap.starting; });
  per_pool("fcgimux_pool_can_serve", "gauge", "1 when a worker is ready or can be started.",
           [](const pool_view& v) { return v.snap.can_serve ? 1 : 0; });

  per_pool("fcgimux_pool_generation", "gauge", "The pool's generation: 1 at start, +1 for each roll (SIGHUP).",
           [](const pool_view& v) { return v.snap.generation; });
  per_pool("fcgimux_pool_rolling", "gauge", "1 while the pool's workers are being replaced (SIGHUP).",
           [](const pool_view& v) { return v.snap.roll.state == roll_phase::rolling ? 1 : 0; });

  // Saturation, for an autoscaler (docs/scaling.md): instant, and its mean over the last 30 s.
  per_pool("fcgimux_pool_saturation", "gauge", "(busy members + queued requests) / max workers, now.",
           [](const pool_view& v) { return v.snap.saturation(); });
  per_pool("fcgimux_pool_saturation_30s", "gauge",
           "fcgimux_pool_saturation averaged over the last 30 one-second samples: the autoscaling target.",
           [](const pool_view& v) { return v.stats->saturation.mean(); });

  per_pool("fcgimux_queue_length", "gauge", "Requests waiting for a worker.",
           [](const pool_view& v) { return v.snap.queue_length; });
  per_pool("fcgimux_queue_peak", "gauge", "Largest queue length since start.",
           [](const pool_view& v) { return v.stats->counts.queue_peak; });
  per_pool("fcgimux_queue_limit", "gauge", "Queue length at which requests are rejected.",
           [](const pool_view& v) { return v.snap.queue_limit; });

  per_pool("fcgimux_requests_accepted_total", "counter", "Requests taken from the front.",
           [](const pool_view& v) { return v.stats->counts.requests_accepted; });
  per_pool("fcgimux_requests_completed_total", "counter", "Requests ended towards the front, any outcome.",
           [](const pool_view& v) { return v.stats->counts.requests_completed; });
  per_pool("fcgimux_requests_active", "gauge", "Requests accepted and not completed yet.",
           [](const pool_view& v) { return v.stats->counts.active(); });
  per_pool("fcgimux_requests_rejected_total", "counter", "Requests refused (queue full, unknown role, overload).",
           [](const pool_view& v) { return v.stats->counts.requests_rejected; });
  per_pool("fcgimux_requests_timed_out_total", "counter", "Requests that hit the queue or request timeout.",
           [](const pool_view& v) { return v.stats->counts.requests_timed_out; });
  per_pool("fcgimux_requests_aborted_total", "counter", "Requests aborted by the front.",
           [](const pool_view& v) { return v.stats->counts.requests_aborted; });
  per_pool("fcgimux_requests_failed_total", "counter", "Requests answered 502 or cut off by a worker failure.",
           [](const pool_view& v) { return v.stats->counts.requests_failed; });

  w.family("fcgimux_responses_total", "counter", "Responses by HTTP status class.");
  for (const pool_view& v : views) {
    const pool_counters& pool_counts = v.stats->counts;
    for (const auto& [cls, n] : {std::pair<const char*, std::uint64_t>{"2xx", pool_counts.responses_2xx},
                                 {"3xx", pool_counts.responses_3xx},
                                 {"4xx", pool_counts.responses_4xx},
                                 {"5xx", pool_counts.responses_5xx},
                                 {"other", pool_counts.responses_other}})
      w.sample("fcgimux_responses_total", fmt::format("{},class=\"{}\"", v.label, cls), n);
  }

  w.family("fcgimux_reloads_total", "counter",
           "SIGHUP reloads by result (a failed one kept the running configuration).");
  w.sample("fcgimux_reloads_total", "result=\"ok\"", counts.reloads_ok);
  w.sample("fcgimux_reloads_total", "result=\"failed\"", counts.reloads_failed);
  w.family("fcgimux_upgrades_total", "counter",
           "SIGUSR2 binary upgrades by result (a failed one left this process serving).");
  w.sample("fcgimux_upgrades_total", "result=\"ok\"", counts.upgrades_ok);
  w.sample("fcgimux_upgrades_total", "result=\"failed\"", counts.upgrades_failed);
  w.single("fcgimux_connections_active", "gauge", "Open front connections.", counts.connections_active);
  w.single("fcgimux_connections_accepted_total", "counter", "Front connections accepted.", counts.connections_accepted);
  w.single("fcgimux_connections_refused_total", "counter", "Front connections closed at accept by --allow.",
           counts.connections_refused);
  w.single("fcgimux_connections_header_timeouts_total", "counter",
           "Front connections closed because PARAMS did not end within --header-timeout.",
           counts.connections_header_timeouts);
  w.single("fcgimux_connections_idle_timeouts_total", "counter",
           "Front connections closed after --front-idle-timeout with no request.", counts.connections_idle_timeouts);
  w.single("fcgimux_error_log_dropped_total", "counter",
           "Error-log lines dropped because the log writer was too far behind (stderr a full pipe).",
           log::dropped_lines());

  per_pool("fcgimux_workers_spawned_total", "counter", "Workers started.",
           [](const pool_view& v) { return v.stats->counts.workers_spawned; });
  per_pool("fcgimux_workers_exited_total", "counter", "Workers that exited, crashes included.",
           [](const pool_view& v) { return v.stats->counts.workers_exited; });
  per_pool("fcgimux_workers_crashed_total", "counter", "Workers killed by a foreign signal or a non-zero exit.",
           [](const pool_view& v) { return v.stats->counts.workers_crashed; });
  per_pool("fcgimux_max_workers_reached_total", "counter", "Requests that queued while the pool was at its maximum.",
           [](const pool_view& v) { return v.stats->counts.max_workers_reached; });
  per_pool("fcgimux_access_log_dropped_total", "counter",
           "Access-log lines dropped because the log writer was too far behind.",
           [](const pool_view& v) { return v.stats->counts.access_log_dropped; });

  w.family("fcgimux_queue_wait_seconds", "histogram", "Time from queued to handed to a worker.");
  for (const pool_view& v : views) w.histogram_samples("fcgimux_queue_wait_seconds", v.label, v.stats->queue_latency);
  w.family("fcgimux_service_seconds", "histogram", "Time from handed to a worker to END_REQUEST.");
  for (const pool_view& v : views) w.histogram_samples("fcgimux_service_seconds", v.label, v.stats->service_latency);

  w.family("fcgimux_latency_window_seconds", "gauge",
           "Latency percentiles over the last minute (10 s steps); 0 when no sample.");
  for (const pool_view& v : views)
    for (const auto& [stage, h] : {std::pair<const char*, const latency_histogram*>{"queue", &v.stats->queue_latency},
                                   {"service", &v.stats->service_latency}}) {
      const latency_percentiles q = h->window_percentiles(now);
      for (const auto& [pct, ms] : {std::pair<const char*, double>{"50", q.p50_ms}, {"90", q.p90_ms}, {"99", q.p99_ms}})
        w.sample("fcgimux_latency_window_seconds",
                 fmt::format("{},stage=\"{}\",percentile=\"{}\"", v.label, stage, pct), ms / 1e3);
    }

  // Per worker: the pid is unique across pools, the pool label says whose it is.
  auto per_worker = [&](std::string_view name, std::string_view type, std::string_view help, auto emit) {
    w.family(name, type, help);
    for (const pool_view& v : views)
      for (const worker_info& wi : v.snap.workers) emit(v, wi);
  };
  per_worker("fcgimux_worker_requests_total", "counter", "Requests served by this worker.",
             [&](const pool_view& v, const worker_info& wi) {
               w.sample("fcgimux_worker_requests_total", fmt::format("{},pid=\"{}\"", v.label, wi.pid), wi.requests);
             });
  per_worker("fcgimux_worker_busy", "gauge", "1 while this worker serves a request.",
             [&](const pool_view& v, const worker_info& wi) {
               w.sample("fcgimux_worker_busy", fmt::format("{},pid=\"{}\"", v.label, wi.pid),
                        wi.state == member_state::busy ? 1 : 0);
             });
  per_worker("fcgimux_worker_state", "gauge", "1 for the state this worker is in.",
             [&](const pool_view& v, const worker_info& wi) {
               w.sample("fcgimux_worker_state",
                        fmt::format("{},pid=\"{}\",state=\"{}\"", v.label, wi.pid, to_string(wi.state)), 1);
             });
  per_worker("fcgimux_worker_uptime_seconds", "gauge", "Seconds since this worker was spawned.",
             [&](const pool_view& v, const worker_info& wi) {
               w.sample("fcgimux_worker_uptime_seconds", fmt::format("{},pid=\"{}\"", v.label, wi.pid), wi.uptime_s);
             });
  per_worker("fcgimux_worker_current_request_seconds", "gauge",
             "Age of the request this worker serves; absent when it serves none.",
             [&](const pool_view& v, const worker_info& wi) {
               if (wi.has_current)
                 w.sample("fcgimux_worker_current_request_seconds", fmt::format("{},pid=\"{}\"", v.label, wi.pid),
                          wi.current_elapsed_ms / 1e3);
             });
  write_servers(w, views);
  return w.take();
}

}  // namespace fcgimux
