#pragma once
// The composition root: builds the pools, their listeners, the stats and the reaper from the
// configuration, wires them together, and runs the shutdown. It holds no request logic.
// Everything runs on one io_context thread.

#include "src/base/event_signal.hpp"
#include "src/config/config.hpp"
#include "src/front/request_target.hpp"
#include "src/pool/pool.hpp"
#include "src/process/reaper.hpp"
#include "src/stats/stats.hpp"

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
class stats_history;

class server final : public connection_registry {
 public:
  server(asio::io_context& io, config cfg);
  ~server();

  /// Binds every listener and the stats port, spawns each pool's minimum. Throws on start-up errors.
  void start();
  /// SIGTERM / SIGINT: stop accepting, drain, stop the workers, leave run().
  void begin_shutdown();

  // connection_registry: the front connections of every listener.
  void add(const std::shared_ptr<client_connection>& c) override;
  void remove(client_connection* c) override;
  std::size_t count() const noexcept override { return conns_.size(); }
  std::size_t limit() const noexcept override { return cfg_.max_conns; }
  event_signal& closed() noexcept override { return connection_closed_; }
  std::vector<char>& read_buffer() noexcept override { return front_read_buffer_; }

 private:
  void wait_signal();
  void wait_hangup();
  void drain_step();
  void make_runtime_dir();
  std::size_t live_requests() const noexcept;
  std::vector<std::shared_ptr<client_connection>> open_connections() const;

  asio::io_context& io_;
  const config cfg_;
  const front_limits front_;
  stats st_;
  reaper reaper_;
  std::vector<std::unique_ptr<pool>> pools_;
  std::vector<std::unique_ptr<listener>> listeners_;
  std::unique_ptr<stats_history> history_;
  std::unique_ptr<stats_server> stats_server_;
  asio::signal_set signals_;
  asio::signal_set hangup_;
  asio::steady_timer drain_timer_;
  clock_type::time_point drain_deadline_{};
  bool workers_stopping_ = false;
  std::unordered_map<client_connection*, std::weak_ptr<client_connection>> conns_;
  event_signal connection_closed_;
  // Where a front connection drains what overflowed its small inbox (one thread; see client_connection.cpp).
  std::vector<char> front_read_buffer_ = std::vector<char>(64 * 1024);
  std::string runtime_dir_;
  bool stopping_ = false;
};

}  // namespace fcgimux
