#pragma once
// The composition root: builds the pools, their listeners, the stats and the reaper from the
// configuration, wires them together, and runs the shutdown. It holds no request logic.
// Everything runs on one io_context thread.

#include "src/app/sd_notify.hpp"
#include "src/base/event_signal.hpp"
#include "src/config/config.hpp"
#include "src/front/request_target.hpp"
#include "src/pool/pool.hpp"
#include "src/process/reaper.hpp"
#include "src/stats/stats.hpp"

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace fcgimux {

class listener;
struct unix_access;
class client_connection;
class stats_server;
class stats_history;

/// The mode and owner a pool's unix listeners get (--socket-mode, --socket-owner).
unix_access listener_access(const pool_config& p);
/// Logs who a pool's workers run as (and warns about root workers).
void log_worker_identity(const pool_config& p);

class server final : public connection_registry {
 public:
  /// Reads the configuration again from where it came (the command line and its -c file).
  using config_source = std::function<config()>;

  server(asio::io_context& io, config cfg, config_source reread);
  ~server();

  /// Binds every listener and the stats port, spawns each pool's minimum. Throws on start-up errors.
  void start();
  /// SIGTERM / SIGINT: stop accepting, drain, stop the workers, leave run().
  void begin_shutdown();
  /// SIGHUP: read the configuration again; if it is valid, apply it and roll every pool's
  /// workers; if not, keep everything as it is (app/reload.cpp).
  void reload();

  // connection_registry: the front connections of every listener.
  void add(const std::shared_ptr<client_connection>& c) override;
  void remove(client_connection* c) override;
  std::size_t count() const noexcept override { return conns_.size(); }
  std::size_t limit() const noexcept override { return cfg_.max_conns; }
  event_signal& closed() noexcept override { return connection_closed_; }
  std::vector<char>& read_buffer() noexcept override { return front_read_buffer_; }

 private:
  /// A listener and what it was configured for.
  struct bound_listener {
    std::string pool;
    std::string address;  ///< as configured
    std::unique_ptr<listener> l;
  };

  void wait_signal();
  void wait_hangup();
  void wait_user_signals();
  pool* find_pool(const std::string& name) const noexcept;
  void add_pool(std::unique_ptr<pool> p);
  void reload_failed(const std::string& why);
  /// The reload itself; every failure goes through reload_failed().
  void apply_reload();
  /// Pools a reload removed: their workers stop once their last request is answered.
  void retire_step();
  /// With $NOTIFY_SOCKET: READY=1 once every pool has its minimum ready and no roll is under way.
  void watch_readiness();
  void drain_step();
  void make_runtime_dir();
  std::size_t live_requests() const noexcept;
  /// The pools, those a reload retired included.
  std::vector<pool*> all_pools() const;
  std::vector<std::shared_ptr<client_connection>> open_connections() const;

  asio::io_context& io_;
  sd_notifier notify_;  // first: it takes $NOTIFY_SOCKET out of the environment workers inherit
  config cfg_;
  config_source reread_;
  front_limits front_;
  stats st_;
  reaper reaper_;
  std::vector<std::unique_ptr<pool>> pools_;
  std::vector<std::unique_ptr<pool>> retired_;  // removed by a reload; kept until fcgimux exits
  std::vector<bound_listener> listeners_;
  // Closed by a reload; kept (stopped) until fcgimux exits, since their accept loops may still
  // be about to see the close.
  std::vector<bound_listener> closed_listeners_;
  asio::steady_timer retire_timer_;
  asio::steady_timer ready_timer_;
  std::unique_ptr<stats_history> history_;
  std::unique_ptr<stats_server> stats_server_;
  asio::signal_set signals_;
  asio::signal_set hangup_;
  asio::signal_set user_signals_;  // USR1, USR2: not for stopping fcgimux (their default action)
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
