// SPDX-License-Identifier: ISC
#include "src/pool/scaler.hpp"

#include <algorithm>
#include <cmath>

namespace fcgimux {

scaler::scaler(const scaler_config& cfg, clock::time_point now)
    : cfg_(cfg), tokens_(std::max(1.0, cfg.max_spawn_rate)), last_refill_(now) {}

std::size_t scaler::wanted(const pool_counts& p) const noexcept {
  if (p.live >= cfg_.max) return 0;
  std::size_t need = 0;
  if (p.live < cfg_.min) need = cfg_.min - p.live;
  // Workers already starting will take waiting requests first.
  if (p.queued > p.starting + p.idle) need = std::max(need, p.queued - p.starting - p.idle);
  if (p.idle + p.starting < cfg_.spare) need = std::max(need, cfg_.spare - p.idle - p.starting);
  return std::min(need, cfg_.max - p.live);
}

void scaler::refill(clock::time_point now) noexcept {
  if (now <= last_refill_) return;
  double dt = std::chrono::duration<double>(now - last_refill_).count();
  tokens_ = std::min(std::max(1.0, cfg_.max_spawn_rate), tokens_ + dt * cfg_.max_spawn_rate);
  last_refill_ = now;
}

std::size_t scaler::take_starts(const pool_counts& p, clock::time_point now) noexcept {
  std::size_t want = wanted(p);
  if (want == 0) return 0;
  refill(now);
  // The pool's minimum is not rate limited: it is what the operator asked to run at all times.
  std::size_t below_min = p.live < cfg_.min ? cfg_.min - p.live : 0;
  std::size_t by_rate = static_cast<std::size_t>(std::floor(tokens_));
  std::size_t n = std::min(want, std::max(below_min, by_rate));
  tokens_ = std::max(0.0, tokens_ - static_cast<double>(n));
  return n;
}

scaler::clock::time_point scaler::next_token_at(clock::time_point now) const noexcept {
  if (tokens_ >= 1.0 || cfg_.max_spawn_rate <= 0) return now;
  double wait = (1.0 - tokens_) / cfg_.max_spawn_rate;
  return now + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(wait));
}

bool scaler::may_release(const pool_counts& p, clock::time_point idle_since, clock::time_point now) const noexcept {
  if (p.live <= cfg_.min || p.queued > 0) return false;
  // Keep the spare workers asked for, counting the one that would go.
  if (p.idle <= cfg_.spare) return false;
  return now - idle_since >= std::chrono::duration<double>(cfg_.idle_timeout);
}

}  // namespace fcgimux
