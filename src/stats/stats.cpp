#include "src/stats/stats.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <iterator>
#include <string_view>
#include <type_traits>

namespace fcgimux {

namespace {

double seconds_between(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Three decimals keep the document readable; finer digits are noise at these scales.
double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

nlohmann::json percentiles_json(const latency_histogram& h, clock_type::time_point now) {
  const latency_percentiles p = h.window_percentiles(now);
  return {{"p50", round3(p.p50_ms)}, {"p90", round3(p.p90_ms)}, {"p99", round3(p.p99_ms)}, {"count", p.count}};
}

std::uint64_t active_requests(const counters& c) {
  return c.requests_accepted > c.requests_completed ? c.requests_accepted - c.requests_completed : 0;
}

pool_snapshot take_snapshot(const std::function<pool_snapshot(bool)>& view, bool full) {
  return view ? view(full) : pool_snapshot{};
}

// Prometheus text format 0.0.4: HELP escapes backslash and newline, label values also the quote.
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
  void histogram(std::string_view name, std::string_view help, const latency_histogram& h) {
    family(name, "histogram", help);
    const std::string bucket = fmt::format("{}_bucket", name);
    for (const cumulative_bucket& b : h.prometheus_buckets()) {
      const std::string le = std::isinf(b.le_seconds) ? "+Inf" : fmt::format("{}", b.le_seconds);
      sample(bucket, fmt::format("le=\"{}\"", le), b.count);
    }
    sample(fmt::format("{}_sum", name), {}, std::chrono::duration<double>(h.sum()).count());
    sample(fmt::format("{}_count", name), {}, h.count());
  }
  std::string take() { return fmt::to_string(out_); }

 private:
  fmt::memory_buffer out_;  // fmt appends to its own buffer in bulk, to a std::string char by char
};

}  // namespace

stats::stats() = default;

void stats::record_status(int status) noexcept {
  if (status >= 200 && status < 300)
    ++c.responses_2xx;
  else if (status >= 300 && status < 400)
    ++c.responses_3xx;
  else if (status >= 400 && status < 500)
    ++c.responses_4xx;
  else if (status >= 500 && status < 600)
    ++c.responses_5xx;
  else
    ++c.responses_other;
}

nlohmann::json stats::to_json(bool full) const {
  const auto now = clock_type::now();
  const pool_snapshot p = take_snapshot(pool_view, full);
  nlohmann::json j;
  j["version"] = version;
  j["uptime_s"] = round3(seconds_between(started, now));
  j["pool"] = {{"min", p.min},   {"max", p.max},           {"size", p.size},          {"busy", p.busy},
               {"idle", p.idle}, {"starting", p.starting}, {"can_serve", p.can_serve}};
  j["queue"] = {{"length", p.queue_length}, {"peak", c.queue_peak}, {"limit", p.queue_limit}};
  j["requests"] = {{"accepted", c.requests_accepted},   {"completed", c.requests_completed},
                   {"active", active_requests(c)},      {"rejected", c.requests_rejected},
                   {"timed_out", c.requests_timed_out}, {"aborted", c.requests_aborted},
                   {"failed", c.requests_failed}};
  j["responses"] = {{"2xx", c.responses_2xx},
                    {"3xx", c.responses_3xx},
                    {"4xx", c.responses_4xx},
                    {"5xx", c.responses_5xx},
                    {"other", c.responses_other}};
  j["latency_ms"] = {{"window_s", latency_histogram::slot_width.count() * latency_histogram::slot_count},
                     {"queue", percentiles_json(queue_latency, now)},
                     {"service", percentiles_json(service_latency, now)}};
  j["connections"] = {{"active", c.connections_active}, {"accepted", c.connections_accepted}};
  j["workers_spawned"] = c.workers_spawned;
  j["workers_exited"] = c.workers_exited;
  j["workers_crashed"] = c.workers_crashed;
  j["max_workers_reached"] = c.max_workers_reached;
  if (full) {
    nlohmann::json workers = nlohmann::json::array();
    for (const worker_info& w : p.workers) {
      nlohmann::json current = nullptr;
      if (w.has_current) current = {{"uri", w.current_uri}, {"elapsed_ms", round3(w.current_elapsed_ms)}};
      workers.push_back({{"pid", w.pid},
                         {"state", w.state},
                         {"requests", w.requests},
                         {"uptime_s", round3(w.uptime_s)},
                         {"current", std::move(current)}});
    }
    j["workers"] = std::move(workers);
  }
  return j;
}

std::string stats::to_prometheus() const {
  const auto now = clock_type::now();
  const pool_snapshot p = take_snapshot(pool_view, true);
  prometheus_writer w;

  w.family("fcgimux_info", "gauge", "Always 1; the label carries the fcgimux version.");
  w.sample("fcgimux_info", fmt::format("version=\"{}\"", escape(version, true)), 1);
  w.single("fcgimux_uptime_seconds", "gauge", "Seconds since fcgimux started.", seconds_between(started, now));

  w.single("fcgimux_pool_min_workers", "gauge", "Configured minimum number of workers.", p.min);
  w.single("fcgimux_pool_max_workers", "gauge", "Configured maximum number of workers.", p.max);
  w.single("fcgimux_pool_workers", "gauge", "Workers alive (starting, idle, busy or stopping).", p.size);
  w.single("fcgimux_pool_busy_workers", "gauge", "Workers serving a request.", p.busy);
  w.single("fcgimux_pool_idle_workers", "gauge", "Workers ready for a request.", p.idle);
  w.single("fcgimux_pool_starting_workers", "gauge", "Workers spawned but not ready yet.", p.starting);
  w.single("fcgimux_pool_can_serve", "gauge", "1 when a worker is ready or can be started.", p.can_serve ? 1 : 0);

  w.single("fcgimux_queue_length", "gauge", "Requests waiting for a worker.", p.queue_length);
  w.single("fcgimux_queue_peak", "gauge", "Largest queue length since start.", c.queue_peak);
  w.single("fcgimux_queue_limit", "gauge", "Queue length at which requests are rejected.", p.queue_limit);

  w.single("fcgimux_requests_accepted_total", "counter", "Requests taken from the front.", c.requests_accepted);
  w.single("fcgimux_requests_completed_total", "counter", "Requests ended towards the front, any outcome.",
           c.requests_completed);
  w.single("fcgimux_requests_active", "gauge", "Requests accepted and not completed yet.", active_requests(c));
  w.single("fcgimux_requests_rejected_total", "counter", "Requests refused (queue full, unknown role, overload).",
           c.requests_rejected);
  w.single("fcgimux_requests_timed_out_total", "counter", "Requests that hit the queue or request timeout.",
           c.requests_timed_out);
  w.single("fcgimux_requests_aborted_total", "counter", "Requests aborted by the front.", c.requests_aborted);
  w.single("fcgimux_requests_failed_total", "counter", "Requests answered 502 or cut off by a worker failure.",
           c.requests_failed);

  w.family("fcgimux_responses_total", "counter", "Responses by HTTP status class.");
  w.sample("fcgimux_responses_total", "class=\"2xx\"", c.responses_2xx);
  w.sample("fcgimux_responses_total", "class=\"3xx\"", c.responses_3xx);
  w.sample("fcgimux_responses_total", "class=\"4xx\"", c.responses_4xx);
  w.sample("fcgimux_responses_total", "class=\"5xx\"", c.responses_5xx);
  w.sample("fcgimux_responses_total", "class=\"other\"", c.responses_other);

  w.single("fcgimux_connections_active", "gauge", "Open front connections.", c.connections_active);
  w.single("fcgimux_connections_accepted_total", "counter", "Front connections accepted.", c.connections_accepted);

  w.single("fcgimux_workers_spawned_total", "counter", "Workers started.", c.workers_spawned);
  w.single("fcgimux_workers_exited_total", "counter", "Workers that exited, crashes included.", c.workers_exited);
  w.single("fcgimux_workers_crashed_total", "counter", "Workers killed by a foreign signal or a non-zero exit.",
           c.workers_crashed);
  w.single("fcgimux_max_workers_reached_total", "counter", "Requests that queued while the pool was at its maximum.",
           c.max_workers_reached);

  w.histogram("fcgimux_queue_wait_seconds", "Time from queued to handed to a worker.", queue_latency);
  w.histogram("fcgimux_service_seconds", "Time from handed to a worker to END_REQUEST.", service_latency);

  w.family("fcgimux_latency_window_seconds", "gauge",
           "Latency percentiles over the last minute (10 s steps); 0 when no sample.");
  for (const auto& [stage, h] :
       {std::pair<const char*, const latency_histogram*>{"queue", &queue_latency}, {"service", &service_latency}}) {
    const latency_percentiles q = h->window_percentiles(now);
    w.sample("fcgimux_latency_window_seconds", fmt::format("stage=\"{}\",percentile=\"50\"", stage), q.p50_ms / 1e3);
    w.sample("fcgimux_latency_window_seconds", fmt::format("stage=\"{}\",percentile=\"90\"", stage), q.p90_ms / 1e3);
    w.sample("fcgimux_latency_window_seconds", fmt::format("stage=\"{}\",percentile=\"99\"", stage), q.p99_ms / 1e3);
  }

  w.family("fcgimux_worker_requests_total", "counter", "Requests served by this worker.");
  for (const worker_info& wi : p.workers)
    w.sample("fcgimux_worker_requests_total", fmt::format("pid=\"{}\"", wi.pid), wi.requests);
  w.family("fcgimux_worker_busy", "gauge", "1 while this worker serves a request.");
  for (const worker_info& wi : p.workers)
    w.sample("fcgimux_worker_busy", fmt::format("pid=\"{}\"", wi.pid), wi.state == "busy" ? 1 : 0);
  w.family("fcgimux_worker_state", "gauge", "1 for the state this worker is in.");
  for (const worker_info& wi : p.workers)
    w.sample("fcgimux_worker_state", fmt::format("pid=\"{}\",state=\"{}\"", wi.pid, escape(wi.state, true)), 1);
  w.family("fcgimux_worker_uptime_seconds", "gauge", "Seconds since this worker was spawned.");
  for (const worker_info& wi : p.workers)
    w.sample("fcgimux_worker_uptime_seconds", fmt::format("pid=\"{}\"", wi.pid), wi.uptime_s);
  w.family("fcgimux_worker_current_request_seconds", "gauge",
           "Age of the request this worker serves; absent when it serves none.");
  for (const worker_info& wi : p.workers)
    if (wi.has_current)
      w.sample("fcgimux_worker_current_request_seconds", fmt::format("pid=\"{}\"", wi.pid),
               wi.current_elapsed_ms / 1e3);
  return w.take();
}

}  // namespace fcgimux
