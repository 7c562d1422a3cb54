// SPDX-License-Identifier: ISC
#include "src/pool/scheduler.hpp"

#include "src/base/invariant.hpp"
#include "src/base/log.hpp"
#include "src/core/request.hpp"
#include "src/core/request_lifecycle.hpp"

#include <algorithm>

namespace fcgimux {

scheduler::scheduler(asio::io_context& io, const pool_config& cfg, pool_stats& st, member_source& members)
    : cfg_(cfg), st_(st), members_(members), timeout_timer_(io) {}

void scheduler::submit(const std::shared_ptr<request>& r) {
  if (members_.cannot_serve()) {
    ++st_.counts.requests_rejected;
    respond_error(*r, 503, "no worker can start");
    return;
  }
  if (queue_.size() >= cfg_.queue_limit && !members_.counts().idle) {
    ++st_.counts.requests_rejected;
    respond_error(*r, 503, "queue full");
    return;
  }
  enqueue(r, false);
}

void scheduler::resubmit(const std::shared_ptr<request>& r) { enqueue(r, true); }

void scheduler::enqueue(const std::shared_ptr<request>& r, bool at_front) {
  FCGIMUX_INVARIANT(r->state == (at_front ? request_state::at_worker : request_state::reading),
                    "a request is queued by its reader, or sent back by its exchange");
  r->state = request_state::queued;
  if (!at_front) r->queued_at = clock_type::now();
  if (at_front)
    queue_.push_front(r);
  else
    queue_.push_back(r);
  dispatch();
  if (!queue_.empty() && queue_.back() == r) {
    // It has to wait: count it when the pool can grow no further.
    if (members_.counts().live >= cfg_.max_workers) ++st_.counts.max_workers_reached;
  }
  st_.queue_length_is(queue_.size());
  arm_timeout();
}

void scheduler::cancel(request& r) {
  auto it = std::find_if(queue_.begin(), queue_.end(), [&r](auto& q) { return q.get() == &r; });
  if (it != queue_.end()) queue_.erase(it);
  st_.queue_length_is(queue_.size());
}

void scheduler::dispatch() {
  while (!queue_.empty()) {
    auto w = members_.take_idle();
    if (!w) break;
    auto r = queue_.front();
    queue_.pop_front();
    st_.queue_latency.record(clock_type::now() - r->queued_at);
    members_.serve(std::move(w), std::move(r));
  }
  st_.queue_length_is(queue_.size());
  // Waiting requests need workers; --spare wants idle ones back once a worker turned busy.
  if (!queue_.empty() || cfg_.spare > 0) members_.grow();
}

void scheduler::fail_all(std::string_view why) {
  if (queue_.empty()) return;
  log::warning("answering {} waiting requests with 503: {}", queue_.size(), why);
  auto waiting = std::move(queue_);
  queue_.clear();
  st_.queue_length_is(0);
  for (auto& r : waiting) {
    ++st_.counts.requests_rejected;
    respond_error(*r, 503, why);
  }
}

void scheduler::stop() { timeout_timer_.cancel(); }

void scheduler::arm_timeout() {
  if (cfg_.queue_timeout <= seconds::zero() || timer_armed_ || queue_.empty()) return;
  timer_armed_ = true;
  // FIFO: the head of the queue is always the first to expire (a resubmitted request at the head
  // keeps its first queue time, so it may expire a little early, never late).
  timeout_timer_.expires_at(queue_.front()->queued_at + to_duration(cfg_.queue_timeout));
  timeout_timer_.async_wait([this](const std::error_code& ec) {
    timer_armed_ = false;
    if (!ec) expire();
  });
}

void scheduler::expire() {
  auto now = clock_type::now();
  auto limit = to_duration(cfg_.queue_timeout);
  while (!queue_.empty() && now - queue_.front()->queued_at >= limit) {
    auto r = queue_.front();
    queue_.pop_front();
    ++st_.counts.requests_timed_out;
    respond_error(*r, 503, "waited too long for a worker");
  }
  st_.queue_length_is(queue_.size());
  arm_timeout();
}

}  // namespace fcgimux
