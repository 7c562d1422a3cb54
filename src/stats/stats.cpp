#include "src/stats/stats.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

namespace fcgimux {
namespace {

// An error text, or null when there is none.
nlohmann::json text_or_null(const std::string& text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

double seconds_between(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Three decimals keep the document readable; finer digits are noise at these scales.
double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

nlohmann::json percentiles_json(const latency_percentiles& p) {
  return {{"p50", round3(p.p50_ms)}, {"p90", round3(p.p90_ms)}, {"p99", round3(p.p99_ms)}, {"count", p.count}};
}

nlohmann::json worker_json(const worker_info& w) {
  nlohmann::json current = nullptr;
  if (w.has_current) current = {{"uri", w.current_uri}, {"elapsed_ms", round3(w.current_elapsed_ms)}};
  return {{"pid", w.pid},           {"generation", w.generation},     {"state", w.state},
          {"requests", w.requests}, {"uptime_s", round3(w.uptime_s)}, {"current", std::move(current)}};
}

// The fields a pool's object and the totals share.
void fill(nlohmann::json& j, const pool_snapshot& p, const pool_counters& c, const latency_percentiles& queue,
          const latency_percentiles& service) {
  j["pool"] = {{"min", p.min},   {"max", p.max},           {"size", p.size},          {"busy", p.busy},
               {"idle", p.idle}, {"starting", p.starting}, {"can_serve", p.can_serve}};
  j["queue"] = {{"length", p.queue_length}, {"peak", c.queue_peak}, {"limit", p.queue_limit}};
  j["requests"] = {
      {"accepted", c.requests_accepted}, {"completed", c.requests_completed}, {"active", c.active()},
      {"rejected", c.requests_rejected}, {"timed_out", c.requests_timed_out}, {"aborted", c.requests_aborted},
      {"failed", c.requests_failed}};
  j["responses"] = {{"2xx", c.responses_2xx},
                    {"3xx", c.responses_3xx},
                    {"4xx", c.responses_4xx},
                    {"5xx", c.responses_5xx},
                    {"other", c.responses_other}};
  j["latency_ms"] = {{"window_s", latency_histogram::slot_width.count() * latency_histogram::slot_count},
                     {"queue", percentiles_json(queue)},
                     {"service", percentiles_json(service)}};
  j["workers_spawned"] = c.workers_spawned;
  j["workers_exited"] = c.workers_exited;
  j["workers_crashed"] = c.workers_crashed;
  j["max_workers_reached"] = c.max_workers_reached;
}

// What only a pool has, not the totals: its generation and roll.
void fill_own(nlohmann::json& j, const pool_snapshot& s) {
  j["generation"] = s.generation;
  j["roll"] = {{"state", s.roll.state},
               {"old", s.roll.old_workers},
               {"new", s.roll.new_workers},
               {"error", text_or_null(s.roll.error)}};
}

}  // namespace

pool_snapshot& pool_snapshot::operator+=(const pool_snapshot& o) noexcept {
  min += o.min;
  max += o.max;
  size += o.size;
  busy += o.busy;
  idle += o.idle;
  starting += o.starting;
  queue_length += o.queue_length;
  queue_limit += o.queue_limit;
  can_serve = can_serve && o.can_serve;
  return *this;
}

pool_counters& pool_counters::operator+=(const pool_counters& o) noexcept {
  requests_accepted += o.requests_accepted;
  requests_completed += o.requests_completed;
  requests_rejected += o.requests_rejected;
  requests_timed_out += o.requests_timed_out;
  requests_aborted += o.requests_aborted;
  requests_failed += o.requests_failed;
  responses_2xx += o.responses_2xx;
  responses_3xx += o.responses_3xx;
  responses_4xx += o.responses_4xx;
  responses_5xx += o.responses_5xx;
  responses_other += o.responses_other;
  workers_spawned += o.workers_spawned;
  workers_exited += o.workers_exited;
  workers_crashed += o.workers_crashed;
  max_workers_reached += o.max_workers_reached;
  queue_peak += o.queue_peak;  // the totals' peak: the sum of the pools' (an upper bound)
  return *this;
}

void pool_stats::record_status(int status) noexcept {
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

const pool_stats* stats::find(std::string_view name) const noexcept {
  for (const auto& p : pools_)
    if (p.name == name) return p.stats;
  return nullptr;
}

void stats::remove_pool(std::string_view name) {
  std::erase_if(pools_, [name](const named_pool& p) { return p.name == name; });
}

bool stats::can_serve() const {
  for (const auto& p : pools_)
    if (!p.stats->snapshot(false).can_serve) return false;
  return true;
}

nlohmann::json pool_json(const pool_stats& p, bool full, clock_type::time_point now) {
  const pool_snapshot s = p.snapshot(full);
  nlohmann::json j;
  fill(j, s, p.c, p.queue_latency.window_percentiles(now), p.service_latency.window_percentiles(now));
  fill_own(j, s);
  if (full) {
    nlohmann::json workers = nlohmann::json::array();
    for (const worker_info& w : s.workers) workers.push_back(worker_json(w));
    j["workers"] = std::move(workers);
  }
  return j;
}

nlohmann::json stats::to_json(bool full) const {
  const auto now = clock_type::now();
  nlohmann::json j;
  j["version"] = version;
  j["uptime_s"] = round3(seconds_between(started, now));
  pool_snapshot total;
  total.can_serve = true;
  pool_counters sum;
  std::vector<const latency_histogram*> queue, service;
  nlohmann::json pools = nlohmann::json::object();
  nlohmann::json workers = nlohmann::json::array();
  for (const auto& [name, p] : pools_) {
    const pool_snapshot s = p->snapshot(full);
    total += s;
    sum += p->c;
    queue.push_back(&p->queue_latency);
    service.push_back(&p->service_latency);
    nlohmann::json pj;
    fill(pj, s, p->c, p->queue_latency.window_percentiles(now), p->service_latency.window_percentiles(now));
    fill_own(pj, s);
    if (full) {
      nlohmann::json own = nlohmann::json::array();
      for (const worker_info& w : s.workers) {
        own.push_back(worker_json(w));
        nlohmann::json tagged = worker_json(w);
        tagged["pool"] = name;
        workers.push_back(std::move(tagged));
      }
      pj["workers"] = std::move(own);
    }
    pools[name] = std::move(pj);
  }
  fill(j, total, sum, latency_histogram::merged_window_percentiles(queue, now),
       latency_histogram::merged_window_percentiles(service, now));
  j["connections"] = {{"active", c.connections_active},
                      {"accepted", c.connections_accepted},
                      {"refused", c.connections_refused},
                      {"header_timeouts", c.connections_header_timeouts},
                      {"idle_timeouts", c.connections_idle_timeouts}};
  j["reloads"] = {{"ok", c.reloads_ok}, {"failed", c.reloads_failed}, {"last_error", text_or_null(last_reload_error)}};
  j["upgrade"] = {{"state", upgrade.state},
                  {"pid", upgrade.pid > 0 ? nlohmann::json(upgrade.pid) : nlohmann::json(nullptr)},
                  {"ok", c.upgrades_ok},
                  {"failed", c.upgrades_failed},
                  {"last_error", text_or_null(upgrade.last_error)}};
  if (full) j["workers"] = std::move(workers);
  j["pools"] = std::move(pools);
  return j;
}

}  // namespace fcgimux
