// SPDX-License-Identifier: ISC
#pragma once
// The composition root: builds the pools, their listeners, the stats and the reaper from the
// configuration, wires them together, and runs the shutdown. It holds no request logic.
// Everything runs on one io_context thread.

#include "src/app/config_reader.hpp"
#include "src/app/connection_handoff.hpp"
#include "src/app/sd_notify.hpp"
#include "src/app/upgrade.hpp"
#include "src/base/event_signal.hpp"
#include "src/config/config.hpp"
#include "src/front/request_target.hpp"
#include "src/pool/pool.hpp"
#include "src/process/reaper.hpp"
#include "src/stats/stats.hpp"
#include "src/upstream/name_resolver.hpp"

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
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
/// Where a listener of `c` binds: its HOST:PORT as `c`'s names were resolved (nothing for unix:PATH).
resolved_address listen_address(const config& c, const std::string& address);
/// Logs who a pool's workers run as (and warns about root workers).
void log_worker_identity(const pool_config& p);
/// Warns, a line each, of the root group and of a jail or program the workers' user can write.
void log_worker_warnings(const pool_config& p);

class server final : public connection_registry {
 public:
  /// Reads the configuration again from where it came (the command line and its -c file).
  using config_source = config_reader::source;

  /// `image`: what SIGUSR2 starts again (app/upgrade.hpp).
  server(asio::io_context& io, config cfg, config_source reread, process_image image);
  ~server();

  /// Binds every listener and the stats port, spawns each pool's minimum. Throws on start-up errors.
  void start();
  /// SIGTERM / SIGINT: stop accepting, drain, stop the workers, leave run().
  void begin_shutdown();
  /// SIGHUP: read the configuration again; if it is valid, apply it and roll every pool's
  /// workers; if not, keep everything as it is (app/reload.cpp).
  void reload();
  /// SIGUSR2: start the binary on disk with the same arguments and hand it the listeners; once it
  /// serves, drain and exit. If it fails or is not ready in time, carry on (app/server_upgrade.cpp).
  void upgrade();

  // connection_registry: the front connections of every listener.
  void add(const std::shared_ptr<client_connection>& c) override;
  void remove(client_connection* c) override;
  std::size_t count() const noexcept override { return conns_.size(); }
  std::size_t limit() const noexcept override { return cfg_.max_conns; }
  event_signal& closed() noexcept override { return connection_closed_; }
  std::vector<char>& read_buffer() noexcept override { return front_read_buffer_; }
  /// After a SIGUSR2 handover: the connection goes to the new process.
  void hand_off(client_connection& c, int fd, request_target& target) override;
  void count_refusal(front_refusal why) noexcept override;
  void listener_done() noexcept override { poke(); }

 private:
  /// A listener and what it was configured for.
  struct bound_listener {
    std::string pool;
    std::string address;  ///< as configured
    std::unique_ptr<listener> l;
    bool adopt_path = false;  ///< its unix path becomes this process's once an upgrade completes
  };

  void wait_signal();
  void wait_hangup();
  void wait_user_signals();
  pool* find_pool(const std::string& name) const noexcept;
  void add_pool(std::unique_ptr<pool> p);
  void reload_failed(const std::string& why);
  /// Starts the stats server and every listener (after the workers are ready in a process that
  /// an upgrade started, so that it takes no request it could not serve).
  void start_serving();
  void upgrade_failed(const std::string& why);
  /// The new process serves: give it the pid file and systemd's MAINPID, then drain and exit.
  void hand_over(int pid);
  /// SIGTERM to a new process given up, SIGKILL if it is still there after a while.
  void abandon(int pid);
  /// In a process an upgrade started, once it serves: takes the old process's front connections
  /// from the channel as they come.
  void adopt_connections();
  /// A reload's configuration with its names answered: checked, then applied (or refused).
  void resolve_reload(config next);
  void finish_reload(config next, const name_answers& answers);
  /// The reload itself; every failure goes through reload_failed().
  void apply_reload(config next);
  /// --stats-allow, --stats-token-file and --stats-show-query from cfg_, at start and on SIGHUP.
  void apply_stats_access();
  /// Something readiness, a retirement or the drain waits for may have changed (a pool, a
  /// listener, a connection or the hand-over said so): each looks again, once per turn of the loop.
  void poke();
  /// Pools a reload removed: their workers stop once their last request is answered, and each is
  /// freed once nothing refers to it; closed listeners once their accept loop is over.
  void retire_step();
  /// With $NOTIFY_SOCKET: READY=1 once every pool has its minimum ready and no roll is under way.
  void watch_readiness();
  /// The shutdown's next step, if its condition holds or its deadline has passed.
  void drain_step();
  /// SIGTERM with --shutdown-delay: /healthz turns 503, the listeners stay open until the delay ends.
  void begin_shutdown_delay(const char* signal_name);
  void make_runtime_dir();
  std::size_t live_requests() const noexcept;
  /// The pools, those a reload retired included.
  std::vector<pool*> all_pools() const;
  std::vector<std::shared_ptr<client_connection>> open_connections() const;

  asio::io_context& io_;
  sd_notifier notify_;  // first: it takes $NOTIFY_SOCKET out of the environment workers inherit
  upgrade_role role_;   // likewise $FCGIMUX_UPGRADE_FD: set when an upgrade started this process
  process_image image_;
  config cfg_;
  front_limits front_;
  stats st_;
  reaper reaper_;
  std::vector<std::unique_ptr<pool>> pools_;
  // Removed by a reload; each is freed once nothing refers to it any more (retire_step).
  std::vector<std::unique_ptr<pool>> retired_;
  std::vector<bound_listener> listeners_;
  // Closed by a reload; each is freed once its accept loop has seen the close (retire_step).
  std::vector<bound_listener> closed_listeners_;
  bool poke_posted_ = false;
  bool watching_ready_ = false;  // readiness not reached yet: poke() looks again
  std::unique_ptr<stats_history> history_;
  std::unique_ptr<stats_server> stats_server_;
  asio::signal_set signals_;
  asio::signal_set hangup_;
  asio::signal_set user_signals_;   // USR1, USR2: not for stopping fcgimux (their default action)
  asio::steady_timer drain_timer_;  // the drain's deadline only: its steps follow events (poke)
  clock_type::time_point drain_deadline_{};
  bool workers_stopping_ = false;
  bool stopped_ = false;
  std::unordered_map<client_connection*, std::weak_ptr<client_connection>> conns_;
  event_signal connection_closed_;
  // Where a front connection drains what overflowed its small inbox (one thread; see client_connection.cpp).
  std::vector<char> front_read_buffer_ = std::vector<char>(64 * 1024);
  std::string runtime_dir_;
  std::vector<std::string> orphan_paths_;  // handed-over unix paths no listener takes any more
  // The upgrade this process started (SIGUSR2), while it starts.
  int upgrade_pid_ = 0;
  std::unique_ptr<asio::posix::stream_descriptor> upgrade_channel_;  // to the new process, or from the old one
  std::unique_ptr<connection_handoff> handoff_;  // the channel once handed over: front connections go through it
  asio::steady_timer upgrade_timer_;
  char upgrade_byte_ = 0;
  bool handed_over_ = false;
  bool stopping_ = false;
  asio::steady_timer shutdown_delay_timer_;  // --shutdown-delay: from the signal to begin_shutdown()
  config_reader reload_reader_;              // a reload's read of the configuration, off the loop
  name_resolver reload_resolver_{io_};       // a reload's host names, off the loop
  bool reload_again_ = false;                // a SIGHUP came while the last one was read or resolved
};

}  // namespace fcgimux
