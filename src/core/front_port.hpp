// SPDX-License-Identifier: ISC
#pragma once
// What the rest of fcgimux may do with the front connection a request came in on: the narrow
// side of client_connection that the request's lifecycle and the backend exchange see.

#include "src/core/request_home.hpp"

#include "proto/protocol.hpp"

#include <asio/awaitable.hpp>

#include <cstdint>
#include <string_view>

namespace fcgimux {

struct request;

class front_port {
 public:
  virtual bool is_open() const noexcept = 0;
  /// Queues worker output for `r` (STDOUT or STDERR) under the front's id; flush() writes it.
  virtual void send_stream(request& r, proto::record_type type, std::string_view data) = 0;
  virtual void flush() = 0;
  /// Closes STDOUT and sends END_REQUEST for `r`.
  virtual void end_request(request& r, std::uint32_t app_status, proto::protocol_status status) = 0;
  /// `r` cannot be completed: flush what was sent, then close without its END_REQUEST.
  virtual void abandon(request& r) = 0;
  /// More bytes wait for this front than --output-buffer: workers feeding it should pause.
  virtual bool congested() const noexcept = 0;
  /// Waits once: until the front took bytes, closed, or wake_writers() was called.
  virtual asio::awaitable<void> wait_writable() = 0;
  /// Wakes every exchange waiting in wait_writable().
  virtual void wake_writers() = 0;
  /// An exchange took body bytes from `r`: reading may resume if it was paused for it.
  virtual void body_consumed(request& r) = 0;

 protected:
  ~front_port() = default;
};

}  // namespace fcgimux
