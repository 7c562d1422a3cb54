// SPDX-License-Identifier: ISC
#pragma once
// One front connection (nginx, HAProxy, ...): its socket. What the records mean is the front
// session's business (front_session.hpp); this reads into it, writes what it produced, and ties
// its requests to the rest of fcgimux (the session's session_host).

#include "src/base/event_signal.hpp"
#include "src/core/front_port.hpp"
#include "src/core/request.hpp"
#include "src/front/front_session.hpp"
#include "src/front/request_target.hpp"

#include <asio/generic/stream_protocol.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace fcgimux {

class client_connection final : public std::enable_shared_from_this<client_connection>,
                                public front_port,
                                private session_host {
 public:
  using socket_type = asio::generic::stream_protocol::socket;

  client_connection(request_target& target, connection_registry& registry, socket_type sock);
  ~client_connection();

  /// Starts the reader coroutine (a writer joins only for a front that is slow to read).
  void start();
  /// Closes at once; every request still open is given up (front_gone).
  void close();
  bool is_open() const noexcept override { return open_; }

  /// Queues worker output for `r` (STDOUT or STDERR) as records under the front's id; the
  /// caller flush()es once it has queued what it has.
  void send_stream(request& r, proto::record_type type, std::string_view data) override {
    session_.send_stream(r, type, data);
  }
  /// Writes what is queued: at once as far as the socket takes it, the rest by a writer coroutine.
  void flush() override;
  /// Closes STDOUT and sends END_REQUEST for `r`; closes the connection afterwards unless the
  /// front asked for FCGI_KEEP_CONN.
  void end_request(request& r, std::uint32_t app_status, proto::protocol_status status) override;
  /// Closes the connection once every queued byte is written.
  void close_after_flush();
  /// `r` cannot be completed: flush what was sent, then close without its END_REQUEST.
  void abandon(request& r) override;

  /// More bytes wait for this front than --output-buffer: workers feeding it should pause.
  bool congested() const noexcept override;
  /// Flushes, and if the front is still congested waits once: until it took bytes, closed, or
  /// wake_writers() was called. Callers re-check what they wait for.
  asio::awaitable<void> wait_writable() override;
  /// Wakes every exchange waiting in wait_writable() (its request timer fired).
  void wake_writers() override { notify(writable_); }
  /// fcgimux is stopping: close now if no request is open, else once the last one has ended.
  /// Requests that arrive meanwhile are still served.
  void drain();
  /// A SIGUSR2 upgrade: once at rest (front_session::at_rest), the socket goes to the registry's
  /// hand_off() instead of being closed, so that the front never sees it close. Requests that
  /// arrive meanwhile are still served.
  void hand_over();
  /// An exchange took body bytes from `r`: reading may resume if it was paused for it.
  void body_consumed(request&) override { session_.body_consumed(); }

 private:
  asio::awaitable<void> read_loop();
  /// Writes the session's output until it is empty, for a front that did not take it at once.
  asio::awaitable<void> write_rest();
  /// --send-timeout: (re)starts the deadline for the front to take its next byte.
  void arm_send_timer();
  /// Reading pauses while more than --output-buffer waits for the front, and resumes below it.
  void update_output_pause();
  /// --header-timeout: armed after a read that left a request's PARAMS incomplete, for its oldest.
  void arm_head_timer();
  void on_head_timer();
  /// --front-idle-timeout: checks, at its deadline, whether the connection is still without request.
  void arm_idle_timer(clock_type::time_point at);
  void on_idle_timer();
  /// Hands `in` to the session; a protocol error closes the connection.
  void consume(std::string_view in);
  /// With hand_over() asked and the session at rest: wakes the reader, which hands the socket off
  /// (a pending read is cancelled; cancelled, it has read nothing).
  void hand_over_if_at_rest();
  void hand_off_socket();

  // session_host: what the session asks of the daemon.
  std::shared_ptr<request> open_request(std::uint16_t id, bool keep_conn) override;
  void request_refused(std::uint16_t id, proto::protocol_status why) override;
  bool taking_requests() const override;
  void request_unavailable(request& r) override;
  void request_ready(const std::shared_ptr<request>& r) override;
  void status_request(request& r) override;
  void request_gone(const std::shared_ptr<request>& r) override;
  void reading_resumed() override { notify(resume_reading_); }

  /// Wakes the waiters of `s`, if it was ever waited on: a waiter checks its condition before it
  /// waits, so a wake-up with nobody waiting yet has nothing to keep.
  static void notify(const std::unique_ptr<event_signal>& s) {
    if (s) s->notify();
  }
  /// `s`, made on its first wait.
  event_signal& signal(std::unique_ptr<event_signal>& s);

  request_target& target_;
  connection_registry& registry_;
  socket_type sock_;
  front_session session_;
  std::string writing_;                             // records being written
  std::size_t written_ = 0;                         // of writing_
  std::unique_ptr<asio::steady_timer> send_timer_;  // only while a writer runs: idle fronts pay nothing
  // Made on first use: a head that arrives whole in one read (nginx's, nearly always) never arms it.
  std::unique_ptr<asio::steady_timer> head_timer_;
  std::unique_ptr<asio::steady_timer> idle_timer_;  // only with --front-idle-timeout
  // Made on first wait (128 B each): an idle connection is neither congested nor paused.
  std::unique_ptr<event_signal> writable_;
  std::unique_ptr<event_signal> resume_reading_;
  bool open_ = true;
  bool writer_active_ = false;  // write_rest() owns the socket's writing
  bool handing_over_ = false;
  bool head_timer_armed_ = false;
};

}  // namespace fcgimux
