// SPDX-License-Identifier: ISC
#include "src/stats/history.hpp"

#include "src/stats/stats.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

namespace fcgimux {

stats_history::stats_history(const stats& s) : stats_(s) {
  for (const auto& p : s.pools()) series_of(p.name);
}

stats_history::series& stats_history::series_of(const std::string& pool) {
  for (auto& [name, s] : pools_)
    if (name == pool) return s;
  return pools_.emplace_back(pool, series{}).second;
}

void stats_history::series::push(const sample& s) {
  ring[next] = s;
  next = (next + 1) % capacity;
  if (count < capacity) ++count;
}

void stats_history::take(clock_type::time_point now) {
  auto fill = [now](series& into, const pool_snapshot& p, std::uint64_t completed, const latency_percentiles& queue,
                    const latency_percentiles& service) {
    sample s;
    s.size = static_cast<float>(p.size);
    s.busy = static_cast<float>(p.busy);
    s.idle = static_cast<float>(p.idle);
    s.queue = static_cast<float>(p.queue_length);
    if (into.count > 0 && now > into.last_at && completed >= into.last_completed)
      s.rate = static_cast<float>(static_cast<double>(completed - into.last_completed) /
                                  std::chrono::duration<double>(now - into.last_at).count());
    into.last_completed = completed;
    into.last_at = now;
    s.service_p50 = static_cast<float>(service.p50_ms);
    s.service_p99 = static_cast<float>(service.p99_ms);
    s.queue_p50 = static_cast<float>(queue.p50_ms);
    s.queue_p99 = static_cast<float>(queue.p99_ms);
    into.push(s);
  };
  pool_snapshot total;
  std::uint64_t completed = 0;
  std::vector<const latency_histogram*> queue, service;
  const auto& pools = stats_.pools();
  for (const auto& named : pools) {
    const pool_stats& p = *named.stats;
    const pool_snapshot snap = p.snapshot(false);
    fill(series_of(named.name), snap, p.counts.requests_completed, p.queue_latency.window_percentiles(now),
         p.service_latency.window_percentiles(now));
    total += snap;
    completed += p.counts.requests_completed;
    queue.push_back(&p.queue_latency);
    service.push_back(&p.service_latency);
  }
  fill(totals_, total, completed, latency_histogram::merged_window_percentiles(queue, now),
       latency_histogram::merged_window_percentiles(service, now));
}

nlohmann::json stats_history::to_json(std::optional<std::string_view> pool) const {
  const series* found = pool ? nullptr : &totals_;
  // Only a pool shown now: a removed one's series is left behind, unused.
  if (pool && stats_.find(*pool))
    for (const auto& [name, s] : pools_)
      if (name == *pool) found = &s;
  if (!found) return nullptr;
  const series& s = *found;
  // Three significant decimals: the charts need no more, and the document stays small.
  auto round3 = [](float v) { return std::round(static_cast<double>(v) * 1000.0) / 1000.0; };
  nlohmann::json j;
  j["interval_s"] = interval.count();
  nlohmann::json& out = j["series"];
  const std::pair<const char*, float sample::*> fields[] = {{"size", &sample::size},
                                                            {"busy", &sample::busy},
                                                            {"idle", &sample::idle},
                                                            {"queue", &sample::queue},
                                                            {"rate", &sample::rate},
                                                            {"service_p50", &sample::service_p50},
                                                            {"service_p99", &sample::service_p99},
                                                            {"queue_p50", &sample::queue_p50},
                                                            {"queue_p99", &sample::queue_p99}};
  for (const auto& [name, field] : fields) {
    nlohmann::json values = nlohmann::json::array();
    const std::size_t first = (s.next + capacity - s.count) % capacity;
    for (std::size_t k = 0; k < s.count; ++k) values.push_back(round3(s.ring[(first + k) % capacity].*field));
    out[name] = std::move(values);
  }
  return j;
}

}  // namespace fcgimux
