// SPDX-License-Identifier: ISC
#pragma once
// A front listener (TCP or unix socket): accepts connections for the pool it serves.

#include "src/config/config.hpp"
#include "src/front/log_limit.hpp"

#include <asio/awaitable.hpp>
#include <asio/basic_socket_acceptor.hpp>
#include <asio/generic/stream_protocol.hpp>

#include <cstdint>
#include <string>

namespace fcgimux {

class request_target;
class connection_registry;

/// Who may connect to a unix listener: its path's mode and owner, set before it listens.
struct unix_access {
  unsigned mode = 0660;
  int uid = -1;  ///< -1: left as bound (fcgimux's user)
  int gid = -1;
};

class listener {
 public:
  /// Binds and listens on unix:PATH, or on HOST:PORT at `where` (its host already resolved,
  /// config/names.hpp: nothing is looked up here), with `backlog` (0: SOMAXCONN); throws
  /// std::system_error. A unix path gets `access` before it listens; a path a live server listens
  /// on is refused, a stale socket file replaced.
  listener(asio::io_context& io, request_target& target, connection_registry& registry, const std::string& address,
           const resolved_address& where, int backlog = 0, const unix_access& access = {});
  /// Takes a socket already bound and listening: systemd's (socket activation) or the one of a
  /// process that a SIGUSR2 replaces. Its unix path is not this listener's to remove (see own_path()).
  listener(asio::io_context& io, request_target& target, connection_registry& registry, int inherited_fd);
  ~listener();

  void start();
  void stop();
  /// Connections accepted from now on go to `target` (a reload moved this address to another pool).
  void retarget(request_target& target) noexcept { target_ = &target; }
  /// The pool its connections go to.
  const request_target* target() const noexcept { return target_; }
  /// Its accept loop still runs (a stopped listener's loop may still be about to see the close):
  /// until it ends, the listener must not be destroyed.
  bool accepting() const noexcept { return accepting_; }
  /// The bound address as given back by the kernel, e.g. 127.0.0.1:40123 or unix:/run/x.sock.
  const std::string& address() const noexcept { return bound_; }
  /// The listening socket, to hand over to a new process.
  int native_handle() noexcept { return acceptor_.native_handle(); }
  /// A unix socket path this listener removes when it goes.
  bool owns_path() const noexcept { return !unix_path_.empty(); }
  /// The path is another process's from now on (a SIGUSR2 handed the socket over): never remove it.
  void keep_path() noexcept { unix_path_.clear(); }
  /// The path of an inherited unix socket is this listener's to remove from now on (the process
  /// that bound it handed it over for good).
  void own_path();

 private:
  asio::awaitable<void> accept_loop();
  /// Whether the pool's --allow lets this peer in (unix peers always: --allow is for TCP).
  bool peer_allowed(const asio::generic::stream_protocol::socket& sock);
  /// Notes which file unix_path_ is now (the destructor removes that one only).
  void remember_path();

  asio::io_context& io_;
  request_target* target_;
  connection_registry& registry_;
  asio::basic_socket_acceptor<asio::generic::stream_protocol> acceptor_;
  std::string bound_;
  std::string unix_path_;
  log_limit refusal_log_;
  bool accepting_ = false;
  // The file unix_path_ named when it became ours: a closed listener freed after a reload bound
  // the same path again must not remove the new listener's file.
  std::uint64_t path_dev_ = 0, path_ino_ = 0;
};

/// A configured address (unix:PATH, or HOST:PORT resolved to `where`) as socket_address() would
/// print it once bound.
std::string canonical_address(const std::string& address, const resolved_address& where);

}  // namespace fcgimux
