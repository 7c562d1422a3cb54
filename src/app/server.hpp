#pragma once
// Ties one fcgimux instance together: listeners, front connections, the scheduler, the worker
// pool, the stats, signals and shutdown. Everything runs on one io_context thread.

#include "src/config/config.hpp"
#include "src/base/event_signal.hpp"
#include "src/front/front_session.hpp"
#include "src/pool/scheduler.hpp"
#include "src/stats/stats.hpp"
#include "src/pool/worker_pool.hpp"

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace fcgimux {

class listener;
class client_connection;
class stats_server;

class server {
 public:
  server(asio::io_context& io, config cfg);
  ~server();

  /// Binds every listener and the stats port, spawns the pool's minimum. Throws on start-up errors.
  void start();

  void add_connection(const std::shared_ptr<client_connection>& c);
  void remove_connection(client_connection* c);
  std::size_t connection_count() const noexcept { return conns_.size(); }
  /// Woken when a front connection closes (the listener waits on it at --max-conns).
  event_signal& connection_closed() noexcept { return connection_closed_; }

  /// Every request ends here exactly once, whatever its outcome.
  void on_request_done(int http_status);
  bool stopping() const noexcept { return stopping_; }
  /// SIGTERM / SIGINT: stop accepting, drain, stop the workers, leave run().
  void begin_shutdown();

  asio::io_context& io;
  const config cfg;
  /// What every front connection follows (one copy: 10,000 connections need no 10,000 copies).
  const front_limits front;
  stats st;
  worker_pool pool;
  scheduler sched;
  std::size_t live_requests = 0;
  /// Where a front connection drains what overflowed its small inbox (one thread; see client_connection.cpp).
  std::vector<char> front_read_buffer = std::vector<char>(64 * 1024);

 private:
  void wait_signal();
  void drain_step();
  void make_runtime_dir();
  pool_snapshot snapshot(bool full) const;
  std::vector<std::shared_ptr<client_connection>> open_connections() const;

  std::vector<std::unique_ptr<listener>> listeners_;
  std::unique_ptr<stats_server> stats_server_;
  asio::signal_set signals_;
  asio::steady_timer drain_timer_;
  clock_type::time_point drain_deadline_{};
  bool workers_stopping_ = false;
  std::unordered_map<client_connection*, std::weak_ptr<client_connection>> conns_;
  event_signal connection_closed_;
  std::string runtime_dir_;
  bool stopping_ = false;
};

}  // namespace fcgimux
