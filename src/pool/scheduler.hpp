// SPDX-License-Identifier: ISC
#pragma once
// The queue between front and members: one FIFO of requests waiting for a member. It hands the
// oldest waiting request to the next idle member, refuses requests past --queue-limit, and
// answers those that waited longer than --queue-timeout.

#include "src/config/config.hpp"
#include "src/pool/scaler.hpp"
#include "src/stats/pool_stats.hpp"
#include "src/upstream/member.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <string_view>

namespace fcgimux {

struct request;

/// What the scheduler needs of the pool's members.
class member_source {
 public:
  /// The member to serve the next request (marked busy), or null when none is idle.
  virtual std::shared_ptr<pool_member> take_idle() = 0;
  /// Requests are waiting: start members for them, within the limits.
  virtual void grow() = 0;
  /// Nothing is alive and starting keeps failing: waiting is pointless.
  virtual bool cannot_serve() const noexcept = 0;
  virtual pool_counts counts() const noexcept = 0;
  /// Hands `r` to `m` (the exchange owns both from here).
  virtual void serve(std::shared_ptr<pool_member> m, std::shared_ptr<request> r) = 0;

 protected:
  ~member_source() = default;
};

class scheduler {
 public:
  scheduler(asio::io_context& io, const pool_config& cfg, pool_stats& st, member_source& members);

  /// A request whose PARAMS (and buffered body) are complete takes its place in the queue.
  void submit(const std::shared_ptr<request>& r);
  /// A request whose first member failed before answering: back to the head of the queue.
  void resubmit(const std::shared_ptr<request>& r);
  /// The front gave up on a queued request: it leaves the queue at once.
  void cancel(request& r);
  /// Pairs waiting requests with idle members; grows the pool for those still waiting.
  void dispatch();
  /// Answers every waiting request with 503 (no member can run); `why` goes to the log.
  void fail_all(std::string_view why);
  /// Stops the queue timer (shutdown).
  void stop();

  std::size_t length() const noexcept { return queue_.size(); }
  /// The request the next free member goes to; null when none waits.
  const request* head() const noexcept { return queue_.empty() ? nullptr : queue_.front().get(); }

 private:
  void enqueue(const std::shared_ptr<request>& r, bool at_front);
  void arm_timeout();
  void expire();

  const pool_config& cfg_;
  pool_stats& st_;
  member_source& members_;
  std::deque<std::shared_ptr<request>> queue_;
  asio::steady_timer timeout_timer_;
  bool timer_armed_ = false;
};

}  // namespace fcgimux
