// SPDX-License-Identifier: ISC
#include "src/stats/stats.hpp"

#include "src/base/log.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
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

nlohmann::json worker_json(const worker_info& w, bool show_query) {
  nlohmann::json current = nullptr;
  if (w.has_current) {
    const std::string_view uri = w.current_uri;
    current = {{"uri", show_query ? uri : uri.substr(0, uri.find('?'))}, {"elapsed_ms", round3(w.current_elapsed_ms)}};
  }
  return {{"pid", w.pid},           {"generation", w.generation},     {"state", to_string(w.state)},
          {"requests", w.requests}, {"uptime_s", round3(w.uptime_s)}, {"current", std::move(current)}};
}

// The fields a pool's object and the totals share.
void fill(nlohmann::json& j, const pool_snapshot& p, const pool_counters& counts, const latency_percentiles& queue,
          const latency_percentiles& service) {
  j["pool"] = {{"min", p.min},   {"max", p.max},           {"size", p.size},          {"busy", p.busy},
               {"idle", p.idle}, {"starting", p.starting}, {"can_serve", p.can_serve}};
  j["queue"] = {{"length", p.queue_length}, {"peak", counts.queue_peak}, {"limit", p.queue_limit}};
  j["requests"] = {{"accepted", counts.requests_accepted},
                   {"completed", counts.requests_completed},
                   {"active", counts.active()},
                   {"rejected", counts.requests_rejected},
                   {"timed_out", counts.requests_timed_out},
                   {"aborted", counts.requests_aborted},
                   {"failed", counts.requests_failed}};
  j["responses"] = {{"2xx", counts.responses_2xx},
                    {"3xx", counts.responses_3xx},
                    {"4xx", counts.responses_4xx},
                    {"5xx", counts.responses_5xx},
                    {"other", counts.responses_other}};
  j["latency_ms"] = {{"window_s", latency_histogram::slot_width.count() * latency_histogram::slot_count},
                     {"queue", percentiles_json(queue)},
                     {"service", percentiles_json(service)}};
  j["workers_spawned"] = counts.workers_spawned;
  j["workers_exited"] = counts.workers_exited;
  j["workers_crashed"] = counts.workers_crashed;
  j["max_workers_reached"] = counts.max_workers_reached;
  j["access_log"] = {{"dropped", counts.access_log_dropped}};
}

nlohmann::json server_json(const server_info& s) {
  nlohmann::json check = nullptr;
  if (s.checked) {
    const auto at = std::chrono::duration<double>(s.last_check_at.time_since_epoch()).count();
    check = {{"result", s.last_check_passed ? "passed" : "failed"},
             {"why", text_or_null(s.last_check_why)},
             {"at", round3(at)}};
  }
  return {{"state", to_string(s.state)},
          {"weight", s.weight},
          {"effective_weight", round3(s.effective_weight)},
          {"backup", s.backup},
          {"in_flight", s.in_flight},
          {"connections", s.connections},
          {"max", s.max},
          {"max_from", to_string(s.max_from)},
          {"requests", s.requests},
          {"failures", s.failures},
          {"ejections", s.ejections},
          {"latency_ms",
           {{"p50", round3(s.latency.p50_ms)}, {"p99", round3(s.latency.p99_ms)}, {"count", s.latency.count}}},
          {"last_check", std::move(check)}};
}

// What only a pool has, not the totals: its generation and roll; its saturation (a ratio of its
// own maximum, which a sum over pools would not be).
void fill_own(nlohmann::json& j, const pool_snapshot& s, const saturation_window& w) {
  j["saturation"] = round3(s.saturation());
  j["saturation_30s"] = round3(w.mean());
  j["generation"] = s.generation;
  j["roll"] = {{"state", to_string(s.roll.state)},
               {"old", s.roll.old_workers},
               {"new", s.roll.new_workers},
               {"error", text_or_null(s.roll.error)}};
  nlohmann::json servers = nlohmann::json::object();
  for (const server_info& si : s.servers) servers[si.address] = server_json(si);
  j["servers"] = std::move(servers);
}

}  // namespace

std::string_view to_string(member_state s) noexcept {
  switch (s) {
    case member_state::starting: return "starting";
    case member_state::idle: return "idle";
    case member_state::busy: return "busy";
    case member_state::stopping: return "stopping";
  }
  return "?";
}

std::string_view to_string(roll_phase p) noexcept {
  switch (p) {
    case roll_phase::idle: return "idle";
    case roll_phase::rolling: return "rolling";
    case roll_phase::failed: return "failed";
  }
  return "?";
}

std::string_view to_string(server_state s) noexcept {
  switch (s) {
    case server_state::up: return "up";
    case server_state::down: return "down";
    case server_state::ejected: return "ejected";
    case server_state::draining: return "draining";
    case server_state::starting: return "starting";
  }
  return "?";
}

std::string_view to_string(limit_source s) noexcept {
  switch (s) {
    case limit_source::configured: return "configured";
    case limit_source::server: return "FCGI_MAX_CONNS";
    case limit_source::guessed: return "default";
    case limit_source::unknown: return "unknown";
  }
  return "?";
}

std::string_view to_string(upgrade_phase p) noexcept {
  switch (p) {
    case upgrade_phase::idle: return "idle";
    case upgrade_phase::starting: return "starting";
    case upgrade_phase::failed: return "failed";
    case upgrade_phase::handed_over: return "handed_over";
  }
  return "?";
}

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
  access_log_dropped += o.access_log_dropped;
  // Peaks reached at different times do not add up: the totals' peak is at least each pool's, and
  // stats::queue has the true one.
  queue_peak = std::max(queue_peak, o.queue_peak);
  busy_peak = std::max(busy_peak, o.busy_peak);
  requests_slow += o.requests_slow;
  return *this;
}

void pool_stats::queue_length_is(std::size_t n) noexcept {
  const auto now = static_cast<std::uint64_t>(n);
  if (now > counts.queue_peak) counts.queue_peak = now;
  if (process_queue) {
    if (now > queued_)
      process_queue->add(now - queued_);
    else
      process_queue->remove(queued_ - now);
  }
  queued_ = now;
}

void pool_stats::record_status(int status) noexcept {
  if (status >= 200 && status < 300)
    ++counts.responses_2xx;
  else if (status >= 300 && status < 400)
    ++counts.responses_3xx;
  else if (status >= 400 && status < 500)
    ++counts.responses_4xx;
  else if (status >= 500 && status < 600)
    ++counts.responses_5xx;
  else
    ++counts.responses_other;
}

const pool_stats* stats::find(std::string_view name) const noexcept {
  for (const auto& p : pools_)
    if (p.name == name) return p.stats;
  return nullptr;
}

void stats::add_pool(std::string name, pool_stats& p) {
  p.process_queue = &queue;
  queue.add(p.queued());
  pools_.push_back({std::move(name), &p});
}

void stats::remove_pool(std::string_view name) {
  // What a removed pool still has queued leaves the totals with it.
  for (auto& p : pools_)
    if (p.name == name && p.stats->process_queue == &queue) {
      queue.remove(p.stats->queued());
      p.stats->process_queue = nullptr;
    }
  std::erase_if(pools_, [name](const named_pool& p) { return p.name == name; });
}

void stats::sample_saturation() {
  for (auto& p : pools_) p.stats->saturation.push(p.stats->snapshot(false).saturation());
}

bool stats::can_serve() const {
  if (stopping) return false;
  for (const auto& p : pools_)
    if (!p.stats->snapshot(false).can_serve) return false;
  return true;
}

nlohmann::json pool_json(const pool_stats& p, bool full, clock_type::time_point now, bool show_query) {
  const pool_snapshot s = p.snapshot(full);
  nlohmann::json j;
  fill(j, s, p.counts, p.queue_latency.window_percentiles(now), p.service_latency.window_percentiles(now));
  fill_own(j, s, p.saturation);
  if (full) {
    nlohmann::json workers = nlohmann::json::array();
    for (const worker_info& w : s.workers) workers.push_back(worker_json(w, show_query));
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
    sum += p->counts;
    queue.push_back(&p->queue_latency);
    service.push_back(&p->service_latency);
    nlohmann::json pj;
    fill(pj, s, p->counts, p->queue_latency.window_percentiles(now), p->service_latency.window_percentiles(now));
    fill_own(pj, s, p->saturation);
    if (full) {
      nlohmann::json own = nlohmann::json::array();
      for (const worker_info& w : s.workers) {
        own.push_back(worker_json(w, show_query));
        nlohmann::json tagged = worker_json(w, show_query);
        tagged["pool"] = name;
        workers.push_back(std::move(tagged));
      }
      pj["workers"] = std::move(own);
    }
    pools[name] = std::move(pj);
  }
  sum.queue_peak = std::max(sum.queue_peak, this->queue.peak);
  fill(j, total, sum, latency_histogram::merged_window_percentiles(queue, now),
       latency_histogram::merged_window_percentiles(service, now));
  j["connections"] = {{"active", counts.connections_active},
                      {"accepted", counts.connections_accepted},
                      {"refused", counts.connections_refused},
                      {"header_timeouts", counts.connections_header_timeouts},
                      {"idle_timeouts", counts.connections_idle_timeouts}};
  j["reloads"] = {
      {"ok", counts.reloads_ok}, {"failed", counts.reloads_failed}, {"last_error", text_or_null(last_reload_error)}};
  j["upgrade"] = {{"state", to_string(upgrade.state)},
                  {"pid", upgrade.pid > 0 ? nlohmann::json(upgrade.pid) : nlohmann::json(nullptr)},
                  {"ok", counts.upgrades_ok},
                  {"failed", counts.upgrades_failed},
                  {"last_error", text_or_null(upgrade.last_error)}};
  j["error_log"] = {{"dropped", log::dropped_lines()}};
  if (full) j["workers"] = std::move(workers);
  j["pools"] = std::move(pools);
  return j;
}

}  // namespace fcgimux
