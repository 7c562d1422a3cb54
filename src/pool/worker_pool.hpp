// SPDX-License-Identifier: ISC
#pragma once
// The workers of the pool: starting them, knowing which is idle, reaping them when they exit,
// replacing them (with back-off when they cannot start), releasing extra idle ones, stopping all.

#include "src/config/config.hpp"
#include "src/pool/scaler.hpp"
#include "src/process/process_group.hpp"
#include "src/process/reaper.hpp"
#include "src/process/worker_usage.hpp"
#include "src/stats/pool_stats.hpp"
#include "src/upstream/member.hpp"

#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fcgimux {

using worker_state = member_state;

/// The process behind a member that fcgimux spawned and watches: its pipes, timers and history.
/// It is one optional part of its pool_member (`process`), which the exchange sees.
struct worker {
  explicit worker(asio::io_context& io) : exec_status(io), err_pipe(io), kill_timer(io), probation(io) {}

  int pid = -1;
  std::uint64_t serial = 0;
  process_group group;           ///< how it is signalled: never by a number that may be reused
  std::uint64_t generation = 1;  ///< the pool's generation when it was started (a roll raises it)
  clock_type::time_point started_at = clock_type::now();
  clock_type::time_point idle_since{};
  bool exited = false;
  bool signalled_by_us = false;          ///< a signal from fcgimux: its exit is not a crash
  bool refused_kept_connection = false;  ///< closed its first kept (FCGI_KEEP_CONN) connection unanswered
  bool retiring = false;                 ///< replaced by a roll: stopped once its request ends
  bool proven = false;                   ///< served a request, or stayed up a while: may replace an old one
  asio::posix::stream_descriptor exec_status;
  asio::posix::stream_descriptor err_pipe;
  asio::steady_timer kill_timer;
  asio::steady_timer probation;
  std::string err_partial;
  worker_usage usage;  ///< its last request's CPU and memory, for php-fpm's ?full (pool::serve, done_with)
};

/// What the worker set tells the pool around it (its queue).
class member_events {
 public:
  /// A member became idle: a waiting request may take it.
  virtual void member_ready() = 0;
  /// No member is left that could serve: answer every waiting request with 503 (`why` is logged).
  virtual void no_member_left(std::string_view why) = 0;
  /// Requests waiting for a member (the scaler's input).
  virtual std::size_t waiting() const noexcept = 0;
  /// A roll stopped: new members could not start (`why`).
  virtual void roll_stopped(std::string_view why) = 0;
  /// A member left, a roll ended, or a coroutine that refers to the set ended: whoever waits for
  /// the set's state (a stop, a retired pool's freeing, readiness) looks again.
  virtual void changed() = 0;

 protected:
  ~member_events() = default;
};

class worker_pool final : public member_home {
 public:
  worker_pool(asio::io_context& io, const pool_config& cfg, pool_stats& st, reaper& reaper, member_events& events);

  /// Starts the release pass and the pool's minimum; worker sockets go to `socket_prefix`N.sock.
  void start(const std::string& socket_prefix);

  /// The most recently idle worker (so extra workers stay idle and can be released), or null.
  std::shared_ptr<pool_member> take_idle();
  /// An exchange is over. `healthy`: the worker answered completely and may serve again.
  void done_with(const std::shared_ptr<pool_member>& w, bool healthy) override;
  /// Requests are waiting: start as many workers as they need, within the limits.
  void grow();
  /// Kills a worker at once (request timeout); it is replaced like any other exit.
  void kill_now(pool_member& w) override;

  /// Nothing alive and starting keeps failing: waiting is pointless.
  bool cannot_serve() const noexcept;
  /// Some worker is up (or starting) that will take a request: false once a stop left none.
  bool can_take_requests() const noexcept;
  /// Whether requests ask the workers for FCGI_KEEP_CONN (--keep-conn, and what auto found).
  bool keeps_connections() const noexcept { return keep_conn_; }
  /// `w` closed a kept connection without answering its first request, as kcgi apps do. Under
  /// --keep-conn auto the pool stops asking for kept connections at once; the worker's exit then
  /// settles it (settle_kept_connections).
  void refused_kept_connection(pool_member& w) override;
  /// A stop has begun: no worker is started from now on, whatever exits.
  void stop_spawning();
  /// Stops every worker: close its connection, SIGTERM, SIGKILL after --stop-grace.
  void stop_all();
  bool all_gone() const noexcept { return workers_.empty(); }
  /// No coroutine of this set is left that refers to it (a worker's exec watch may outlive its reap).
  bool quiet() const noexcept { return exec_watches_ == 0; }
  /// kill_now() for the worker with this pid, if it is still there.
  void kill_pid(int pid);
  /// SIGKILL to every worker still there (the last step of a forced stop).
  void kill_all();

  /// Replaces every worker with a new one (SIGHUP): new ones first, an old one retired for each
  /// that is ready, so the ready count never drops; at most --roll-surge extra workers at once.
  /// A roll under way is retargeted at the new generation.
  void roll();
  /// The pool's settings changed (a reload): the scaler and keep-conn follow; the rest is read
  /// from the settings as it is used.
  void settings_changed();
  roll_status roll_state() const noexcept;
  std::uint64_t generation() const noexcept { return generation_; }

  pool_counts counts() const noexcept;
  std::size_t busy_count() const noexcept;
  std::vector<worker_info> describe() const;

 private:
  void spawn(std::size_t n);
  void watch_exec(std::shared_ptr<pool_member> w);
  void watch_stderr(std::shared_ptr<worker> w);
  void on_exit(const std::shared_ptr<pool_member>& w, int status);
  void stop_worker(const std::shared_ptr<pool_member>& w);
  void make_idle(const std::shared_ptr<pool_member>& w);
  void remove_idle(pool_member* w);
  void schedule_spawn(clock_type::time_point at);
  void release_pass();
  /// Stops idle workers while the pool is over --max-workers (lowered by a reload).
  void release_over_max();
  /// False (and the worker on its way out) if its kept connection holds bytes nobody asked for.
  bool kept_connection_clean(pool_member& w);

  asio::io_context& io_;
  const pool_config& cfg_;
  pool_stats& st_;
  reaper& reaper_;
  member_events& events_;
  std::string socket_prefix_;
  std::vector<std::shared_ptr<pool_member>> workers_;
  std::vector<std::shared_ptr<pool_member>> idle_;  // a stack: back() is the most recently idle
  scaler scaler_;
  asio::steady_timer release_timer_;
  asio::steady_timer spawn_timer_;
  bool spawn_timer_armed_ = false;
  std::uint64_t next_serial_ = 1;
  int start_failures_ = 0;  // workers in a row that died before serving anything
  int crash_streak_ = 0;    // crashes in a row while serving
  void back_off(clock_type::time_point now);
  clock_type::time_point spawn_not_before_{};
  bool stopping_all_ = false;
  bool no_spawn_ = false;
  std::size_t exec_watches_ = 0;  // watch_exec() coroutines not yet over
  bool keep_conn_ = true;
  bool told_keep_conn_ = false;
  bool keep_conn_suspended_ = false;  // auto: off until a worker's exit says why it closed
  /// An exit by itself confirms a program that cannot keep connections (logged once); a crash
  /// says nothing about them, and auto goes back to keeping them.
  void settle_kept_connections(const pool_member& w, int status);
  // The roll (worker_pool_roll.cpp).
  using rolling = roll_phase;  // one enum for the roll and what the stats show of it
  /// Retires old workers for the new ones that became ready, starts new ones within the surge,
  /// and ends the roll when no old worker is left.
  void roll_step();
  /// A worker of the newest generation is ready (its exec succeeded): it replaces an old one once
  /// it has proven itself (roll_proven).
  void new_worker_ready(const std::shared_ptr<pool_member>& w);
  /// A new worker served a request, or stayed up for a while: one old worker may go.
  void roll_proven(pool_member& w);
  /// A worker of the newest generation could not start: the roll stops, the old ones serve on.
  void roll_failed(const pool_member& w, const std::string& why);
  std::uint64_t generation_ = 1;
  rolling rolling_ = rolling::idle;
  std::size_t replacements_ = 0;  // new workers ready that have not retired an old one yet
  std::size_t roll_size_ = 0;     // the workers a roll ends with
  std::string roll_error_;

  /// Signals the worker's process group: what it forked (fcgiwrap -c, PHP_FCGI_CHILDREN) too.
  static void signal_worker(const worker& w, int sig);
};

}  // namespace fcgimux
