#pragma once
// The workers of the pool: starting them, knowing which is idle, reaping them when they exit,
// replacing them (with back-off when they cannot start), releasing extra idle ones, stopping all.

#include "src/pool/scaler.hpp"
#include "src/stats/stats.hpp"

#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fcgimux {

class server;
struct request;

enum class worker_state : std::uint8_t { starting, idle, busy, stopping };

struct worker {
  explicit worker(asio::io_context& io) : exec_status(io), err_pipe(io), kill_timer(io), probation(io) {}

  std::uint64_t serial = 0;
  int pid = -1;
  std::string socket_path;
  worker_state state = worker_state::starting;
  /// The kept FCGI_KEEP_CONN connection, between and during requests (--keep-conn yes).
  std::optional<asio::generic::stream_protocol::socket> conn;
  std::uint64_t requests = 0;
  clock_type::time_point started_at = clock_type::now();
  clock_type::time_point idle_since{};
  std::shared_ptr<request> current;
  bool exited = false;
  bool signalled_by_us = false;          ///< a signal from fcgimux: its exit is not a crash
  bool ended_unanswered = false;         ///< closed a request's connection without answering: a failure
  bool refused_kept_connection = false;  ///< closed its first kept (FCGI_KEEP_CONN) connection unanswered
  asio::posix::stream_descriptor exec_status;
  asio::posix::stream_descriptor err_pipe;
  asio::steady_timer kill_timer;
  asio::steady_timer probation;
  std::string err_partial;
  std::vector<char> read_buffer;  ///< for this worker's answers; allocated on first use
};

class worker_pool {
 public:
  explicit worker_pool(server& srv);

  /// Starts the reaper, the release pass and the pool's minimum.
  void start(const std::string& runtime_dir);

  /// The most recently idle worker (so extra workers stay idle and can be released), or null.
  std::shared_ptr<worker> take_idle();
  /// An exchange is over. `healthy`: the worker answered completely and may serve again.
  void done_with(const std::shared_ptr<worker>& w, bool healthy);
  /// Requests are waiting: start as many workers as they need, within the limits.
  void grow();
  /// Kills a worker at once (request timeout); it is replaced like any other exit.
  void kill_now(worker& w);

  /// Nothing alive and starting keeps failing: waiting is pointless.
  bool cannot_serve() const noexcept;
  /// Some worker is up (or starting) that will take a request: false once a stop left none.
  bool can_take_requests() const noexcept;
  /// Whether requests ask the workers for FCGI_KEEP_CONN (--keep-conn, and what auto found).
  bool keeps_connections() const noexcept { return keep_conn_; }
  /// `w` closed a kept connection without answering its first request, as kcgi apps do. Under
  /// --keep-conn auto the pool stops asking for kept connections at once; the worker's exit then
  /// settles it (settle_kept_connections).
  void refused_kept_connection(worker& w);
  /// A stop has begun: no worker is started from now on, whatever exits.
  void stop_spawning();
  /// Stops every worker: close its connection, SIGTERM, SIGKILL after --stop-grace.
  void stop_all();
  bool all_gone() const noexcept { return workers_.empty(); }
  /// kill_now() for the worker with this pid, if it is still there.
  void kill_pid(int pid);
  /// SIGKILL to every worker still there (the last step of a forced stop).
  void kill_all();

  pool_counts counts() const noexcept;
  std::size_t busy_count() const noexcept;
  std::vector<worker_info> describe() const;

 private:
  void spawn(std::size_t n);
  void watch_exec(std::shared_ptr<worker> w);
  void watch_stderr(std::shared_ptr<worker> w);
  void wait_sigchld();
  void reap();
  void on_exit(const std::shared_ptr<worker>& w, int status);
  void stop_worker(const std::shared_ptr<worker>& w);
  void make_idle(const std::shared_ptr<worker>& w);
  void remove_idle(worker* w);
  void schedule_spawn(clock_type::time_point at);
  void release_pass();
  /// False (and the worker on its way out) if its kept connection holds bytes nobody asked for.
  bool kept_connection_clean(worker& w);

  server& srv_;
  std::string runtime_dir_;
  std::vector<std::shared_ptr<worker>> workers_;
  std::vector<std::shared_ptr<worker>> idle_;  // a stack: back() is the most recently idle
  scaler scaler_;
  asio::signal_set sigchld_;
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
  bool keep_conn_ = true;
  bool told_keep_conn_ = false;
  bool keep_conn_suspended_ = false;  // auto: off until a worker's exit says why it closed
  /// An exit by itself confirms a program that cannot keep connections (logged once); a crash
  /// says nothing about them, and auto goes back to keeping them.
  void settle_kept_connections(const worker& w, int status);
  /// Signals the worker's process group: what it forked (fcgiwrap -c, PHP_FCGI_CHILDREN) too.
  static void signal_worker(const worker& w, int sig);
};

}  // namespace fcgimux
