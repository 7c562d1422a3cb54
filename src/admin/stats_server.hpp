// SPDX-License-Identifier: ISC
#pragma once
// A small HTTP/1.1 server for /stats, /metrics, /healthz, /history and the dashboard. It runs on the same
// io_context as the proxy but never waits on a worker, so it answers while every worker is busy.

#include "src/admin/stats_access.hpp"
#include "src/stats/history.hpp"
#include "src/stats/stats.hpp"

#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <memory>

namespace fcgimux {

class stats_server {
 public:
  /// What one client may cost; the defaults suit production, tests shorten the timeout.
  struct limits {
    std::chrono::milliseconds head_timeout{10000};   ///< for a whole request head, and idle keep-alive
    std::chrono::milliseconds write_timeout{10000};  ///< for a whole response to be taken by the client
    std::size_t max_connections = 64;                ///< past it the longest idle one is closed (none: 503)
    std::size_t max_head_bytes = 8192;               ///< request line + headers; more gets 431
  };

  /// Binds and listens at once (throws std::system_error when it cannot: start-up only).
  stats_server(asio::io_context& io, stats& s, const asio::ip::tcp::endpoint& ep);
  /// Takes a socket already bound and listening (handed over by the process a SIGUSR2 replaced).
  stats_server(asio::io_context& io, stats& s, int listening_fd);
  ~stats_server();

  /// The listening socket, to hand over to a new process.
  int native_handle();

  asio::ip::tcp::endpoint local_endpoint() const;
  /// Replaces the limits; call before start().
  void set_limits(const limits& l);
  /// Who may ask (default: loopback clients, no token); any time, as SIGHUP does.
  void set_access(stats_access a);
  /// Serves /history from `h` (the dashboard's charts); call before start().
  void set_history(stats_history& h);
  /// Starts accepting.
  void start();
  /// Takes a history sample every stats_history::interval until stop().
  void start_sampling();
  /// Closes the listener and every open stats connection.
  void stop();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace fcgimux
