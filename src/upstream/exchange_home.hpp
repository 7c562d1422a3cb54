// SPDX-License-Identifier: ISC
#pragma once
// What a backend exchange asks of the pool it serves: its settings and counters, and what to do
// with the member and the request once the exchange knows how it went.

#include "src/config/config.hpp"
#include "src/stats/pool_stats.hpp"
#include "src/upstream/member.hpp"

#include <asio/io_context.hpp>

#include <memory>

namespace fcgimux {

class exchange_home {
 public:
  virtual asio::io_context& io() noexcept = 0;
  virtual const pool_config& settings() const noexcept = 0;
  virtual pool_stats& stats() noexcept = 0;
  /// Whether a request asks `m` for FCGI_KEEP_CONN (--keep-conn, and what auto found).
  virtual bool keeps_connections(const pool_member& m) const noexcept = 0;
  /// `m` closed a kept connection without answering its first request, as kcgi apps do.
  virtual void refused_kept_connection(pool_member& m) = 0;
  /// The exchange is over. `healthy`: the member answered completely and may serve again.
  virtual void done_with(const std::shared_ptr<pool_member>& m, bool healthy) = 0;
  /// The member misbehaved or hangs: end it now (it is replaced like any other exit).
  virtual void kill_now(pool_member& m) = 0;
  virtual void kill_pid(int pid) = 0;
  /// `r`'s member failed before it took the request: back to the head of the queue.
  virtual void resubmit(const std::shared_ptr<request>& r) = 0;
  /// An exchange's coroutine starts: it refers to this pool until exchange_over().
  virtual void exchange_begun() noexcept = 0;
  /// The exchange's coroutine is over and refers to this pool no more (a retired pool waits for it).
  virtual void exchange_over() noexcept = 0;

 protected:
  ~exchange_home() = default;
};

}  // namespace fcgimux
