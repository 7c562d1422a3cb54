// SPDX-License-Identifier: ISC
#pragma once
// What a front connection needs from the rest of fcgimux: the pool its listener serves (where
// its requests go) and the registry of open connections (the process-wide limit). Narrow on
// purpose: the front knows nothing of workers, queues or stats beyond these.

#include "src/base/cidr.hpp"
#include "src/base/clock.hpp"
#include "src/base/event_signal.hpp"
#include "src/front/front_session.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace fcgimux {

class client_connection;
class front_port;

/// What a front connection follows: one copy per pool (10,000 connections need no 10,000 copies).
struct front_settings {
  front_limits limits;
  clock_type::duration send_timeout{};  ///< zero: none
  std::size_t output_buffer = 256 * 1024;
  clock_type::duration header_timeout{};  ///< BEGIN_REQUEST to the end of its PARAMS; zero: none
  std::vector<cidr> allow;                ///< peers a TCP listener accepts; empty: any
};

/// Why fcgimux itself turned a front connection away, as the process-wide counters tell it.
enum class front_refusal : std::uint8_t {
  not_allowed,     ///< its address is outside the pool's --allow
  header_timeout,  ///< a request's PARAMS did not end within --header-timeout
  idle_timeout,    ///< no request for --front-idle-timeout
};

/// A pool, as its listeners' connections see it.
class request_target {
 public:
  virtual const front_settings& front() const noexcept = 0;
  /// A BEGIN_REQUEST for a responder: make the request (and count it).
  virtual std::shared_ptr<request> open_request(std::weak_ptr<front_port> conn, std::uint16_t id, bool keep_conn) = 0;
  /// A BEGIN_REQUEST refused by the front's own rules (role, overload): count it.
  virtual void request_refused() = 0;
  /// Whether new requests are still taken (a shutdown with no worker left says no).
  virtual bool taking_requests() const = 0;
  /// A request that cannot be taken (shutting down): answer and end it.
  virtual void request_unavailable(request& r) = 0;
  /// PARAMS (and the buffered body) are complete: the request goes to the pool's queue.
  virtual void request_ready(const std::shared_ptr<request>& r) = 0;
  /// --status-path: answer with the pool's stats.
  virtual void status_request(request& r) = 0;
  /// The front gave up on `r` (ABORT_REQUEST, or it closed).
  virtual void request_gone(const std::shared_ptr<request>& r) = 0;
  /// A front connection holds this target from its birth to its destruction (not its close: a
  /// closed connection can still be asked about its limits): a pool a reload retired is freed
  /// only once none is held (app/reload.cpp).
  virtual void connection_attached() noexcept = 0;
  /// The connection that was attached is destroyed.
  virtual void connection_detached() noexcept = 0;

 protected:
  ~request_target() = default;
};

/// The process-wide side of front connections (app/server).
class connection_registry {
 public:
  virtual void add(const std::shared_ptr<client_connection>& c) = 0;
  virtual void remove(client_connection* c) = 0;
  virtual std::size_t count() const noexcept = 0;
  virtual std::size_t limit() const noexcept = 0;  ///< --max-conns
  /// Woken when a front connection closes (a listener waits on it at --max-conns).
  virtual event_signal& closed() noexcept = 0;
  /// A listener's accept loop is over: the listener may be freed.
  virtual void listener_done() noexcept = 0;
  /// What every front connection of this event loop reads into (one thread: one buffer).
  virtual std::vector<char>& read_buffer() noexcept = 0;
  /// A connection at rest passes its socket on instead of closing (client_connection::hand_over);
  /// the registry owns `fd` from here. `c` is still registered and removes itself afterwards.
  virtual void hand_off(client_connection& c, int fd, request_target& target) = 0;
  /// Counts a connection refused at accept or closed by fcgimux for a timeout.
  virtual void count_refusal(front_refusal why) noexcept = 0;

 protected:
  ~connection_registry() = default;
};

}  // namespace fcgimux
