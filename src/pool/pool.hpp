// SPDX-License-Identifier: ISC
#pragma once
// One pool: its settings, members, queue, scaler and counters. Requests come in from its
// listeners (request_target), wait in its queue (scheduler), are served by one of its members
// (exchange_home), and end counted here (request_home). Nothing is shared with another pool but
// the event loop, so a pool whose program crash-loops, or whose queue is full, delays no other.

#include "src/config/config.hpp"
#include "src/core/access_log.hpp"
#include "src/core/front_port.hpp"
#include "src/front/request_target.hpp"
#include "src/pool/scheduler.hpp"
#include "src/pool/server_set.hpp"
#include "src/pool/slow_log.hpp"
#include "src/pool/worker_pool.hpp"
#include "src/stats/pool_stats.hpp"
#include "src/upstream/exchange_home.hpp"

#include <asio/io_context.hpp>

#include <functional>
#include <optional>
#include <string>

namespace fcgimux {

class stats;

class pool final : public request_target,
                   public exchange_home,
                   public request_home,
                   private member_events,
                   private member_source {
 public:
  /// `process` renders --status-path ?metrics; `limits` are the front rules of the whole process.
  pool(asio::io_context& io, pool_config cfg, const fcgimux::stats& process, const front_limits& limits,
       reaper& reaper);

  const std::string& name() const noexcept { return cfg_.name; }
  /// Told when a roll of this pool stops because new workers cannot start (the reload counts).
  std::function<void(const std::string& why)> on_roll_stopped;
  /// Told whenever what a stop, a retirement or readiness waits for may have changed: a request,
  /// an exchange or a front connection ended, a member became ready or left, a roll ended.
  std::function<void()> on_change;
  /// Spawns the pool's minimum; worker sockets go into `runtime_dir`.
  void start(const std::string& runtime_dir);

  // Shutdown, in this order (app/server.cpp).
  /// Starts no worker from now on; requests that come are still served while workers are left.
  void begin_stop();
  /// Answers every waiting request with 503.
  void fail_waiting(std::string_view why) { sched_.fail_all(why); }
  /// SIGTERM to every worker, SIGKILL after --stop-grace.
  void stop_members() {
    members_.stop_all();
    servers_.stop_all();
  }
  bool members_gone() const noexcept { return members_.all_gone(); }
  /// Nothing refers to this pool any more but its owner: no request, no exchange, no front
  /// connection, no member, no coroutine of its members. A pool a reload retired is freed then.
  bool unreferenced() const noexcept {
    return live_ == 0 && exchanges_ == 0 && fronts_ == 0 && members_.all_gone() && members_.quiet() && servers_.quiet();
  }
  void kill_members() { members_.kill_all(); }
  void stop_timers() { sched_.stop(); }
  /// SIGHUP: replace every worker, with no request lost and no fewer ready workers.
  void roll() { members_.roll(); }
  /// A reload, first step: opens what `next` needs that can fail (a new access log file), before
  /// anything changes. Throws std::system_error; then the reload is refused.
  void prepare(const pool_config& next);
  /// A reload: new settings (same name) for the pool; a roll then brings its workers to them.
  void reconfigure(const pool_config& next, const front_limits& limits);

  /// Requests accepted and not ended yet.
  std::size_t live_requests() const noexcept { return live_; }
  /// Front connections built for this pool and not destroyed yet.
  std::size_t front_connections() const noexcept { return fronts_; }
  pool_snapshot snapshot(bool full) const;

  // request_target: what its listeners' connections ask.
  const front_settings& front() const noexcept override { return front_; }
  std::shared_ptr<request> open_request(std::weak_ptr<front_port> conn, std::uint16_t id, bool keep_conn) override;
  void request_refused() override;
  bool taking_requests() const override;
  void request_unavailable(request& r) override;
  /// Queues `r`, or answers it 403 when its script is not of --limit-extensions (pool/limit_extensions.cpp).
  void request_ready(const std::shared_ptr<request>& r) override;
  void status_request(request& r) override;
  void request_gone(const std::shared_ptr<request>& r) override;
  void connection_attached() noexcept override { ++fronts_; }
  void connection_detached() noexcept override {
    --fronts_;
    changed();
  }

  // exchange_home: what an exchange with one of its members asks.
  asio::io_context& io() noexcept override { return io_; }
  const pool_config& settings() const noexcept override { return cfg_; }
  pool_stats& stats() noexcept override { return st_; }
  bool keeps_connections(const pool_member& m) const noexcept override {
    return m.server ? servers_.keeps_connections(*m.server) : members_.keeps_connections();
  }
  void refused_kept_connection(pool_member& m) override;
  void done_with(const std::shared_ptr<pool_member>& m, bool healthy) override;
  void kill_now(pool_member& m) override;
  void kill_pid(int pid) override { members_.kill_pid(pid); }
  void resubmit(const std::shared_ptr<request>& r) override { sched_.resubmit(r); }
  void exchange_begun() noexcept override { ++exchanges_; }
  void exchange_over() noexcept override {
    --exchanges_;
    changed();
  }

  // request_home: every request of this pool ends here.
  void request_finished(request& r, int http_status) override;

 private:
  // member_events
  void member_ready() override {
    sched_.dispatch();
    changed();
  }
  void no_member_left(std::string_view why) override;
  std::size_t waiting() const noexcept override { return sched_.length(); }
  void roll_stopped(std::string_view why) override;
  void changed() override {
    if (on_change) on_change();
  }
  // member_source
  std::shared_ptr<pool_member> take_idle() override;
  void grow() override { members_.grow(); }
  bool cannot_serve() const noexcept override {
    return (cfg_.command.empty() || members_.cannot_serve()) && servers_.all_down();
  }
  pool_counts counts() const noexcept override { return members_.counts(); }
  void serve(std::shared_ptr<pool_member> m, std::shared_ptr<request> r) override;

  asio::io_context& io_;
  pool_config cfg_;  // changed only by reconfigure(); members_ and sched_ read it as they go
  const fcgimux::stats& process_stats_;
  front_settings front_;
  pool_stats st_;
  worker_pool members_;
  server_set servers_;  // empty unless the pool has --server
  scheduler sched_;
  std::size_t live_ = 0;
  // Who else refers to this pool (unreferenced()): front connections and running exchanges.
  std::size_t fronts_ = 0;
  std::size_t exchanges_ = 0;
  bool stopping_ = false;
  std::unique_ptr<access_log> access_log_;                      // null: --access-log off
  std::optional<std::unique_ptr<access_log>> next_access_log_;  // opened by prepare()
  slow_log slow_log_;
};

}  // namespace fcgimux
