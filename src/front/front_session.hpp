// SPDX-License-Identifier: ISC
#pragma once
// The FastCGI rules of one front connection, without I/O: fed the bytes the front sends, it keeps
// the connection's requests by id, answers management records, refuses what it must, decides
// when reading pauses, and collects the records that go back. The socket (client_connection) and
// the rest of fcgimux (session_host) stay outside, so the session is tested and fuzzed on its own
// (tests/daemon/test_front_session.cpp, fuzz/fuzz_front_session.cpp).

#include "proto/decoder.hpp"
#include "proto/protocol.hpp"
#include "src/core/request.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fcgimux {

/// The settings a front session follows.
struct front_limits {
  std::size_t max_params = 64 * 1024;  ///< PARAMS bytes per request
  std::size_t max_reqs = 128;          ///< request ids in flight on the connection
  std::size_t max_conns = 16384;       ///< announced in FCGI_MAX_CONNS
  std::size_t body_buffer = 1 << 20;   ///< STDIN (and DATA) read before a request is handed on
  /// The roles the pool's program serves (proto::role_bit); others get UNKNOWN_ROLE.
  unsigned roles = proto::role_bit(proto::role::responder);
  std::string status_path{};  ///< SCRIPT_NAME answered by fcgimux itself
  std::string ping_path{};    ///< SCRIPT_NAME answered by fcgimux itself
  /// --front-idle-timeout; the session notes when it last had no request only when it is set.
  clock_type::duration idle_timeout{};
};

/// What a front session asks of the rest of fcgimux.
class session_host {
 public:
  /// A BEGIN_REQUEST for a responder: make the request (and count it).
  virtual std::shared_ptr<request> open_request(std::uint16_t id, bool keep_conn) = 0;
  /// A BEGIN_REQUEST for `id` refused with `why` (counted; the session answers it).
  virtual void request_refused(std::uint16_t id, proto::protocol_status why) = 0;
  /// False when a new request cannot be served at all (stopping with no worker left).
  virtual bool taking_requests() const = 0;
  /// `r` is opened but cannot be served: answer it (503).
  virtual void request_unavailable(request& r) = 0;
  /// `r`'s PARAMS (and what a worker needs of its body first) are complete: queue it.
  virtual void request_ready(const std::shared_ptr<request>& r) = 0;
  /// `r` is for --status-path or --ping-path: answer it.
  virtual void status_request(request& r) = 0;
  /// The front left `r` (it closed, or sent ABORT_REQUEST) in any state but done.
  virtual void request_gone(const std::shared_ptr<request>& r) = 0;
  /// Reading was paused for a body and may go on.
  virtual void reading_resumed() = 0;

 protected:
  ~session_host() = default;
};

class front_session {
 public:
  /// `limits` must outlive the session.
  front_session(session_host& host, const front_limits& limits);

  /// Handles every record in `in`. False once the front broke the protocol (why() says how):
  /// the connection is then to be closed.
  bool consume(std::string_view in);
  const std::string& why() const noexcept { return why_; }

  /// Appends worker output for `r` under the front's id (nothing once the front is gone).
  void send_stream(request& r, proto::record_type type, std::string_view data);
  /// Closes STDOUT and sends END_REQUEST for `r`, which the session then forgets; the connection
  /// is to close afterwards unless the front asked for FCGI_KEEP_CONN.
  void end_request(request& r, std::uint32_t app_status, proto::protocol_status status);
  /// `r` cannot be completed: forget it and close without its END_REQUEST.
  void abandon(request& r);
  /// The connection closed: every open request is given up (front_gone) and handed to the host.
  void close();
  /// fcgimux is stopping: close once no request is open (at once if none is).
  void drain();
  /// An exchange took body bytes of `r`: reading may resume.
  void body_consumed() { update_pause(); }

  /// Records waiting to be written; the connection takes them from here.
  std::string& output() noexcept { return out_; }
  const std::string& output() const noexcept { return out_; }
  /// The connection is to close once its output is written.
  bool close_after_flush() const noexcept { return close_after_flush_; }
  void set_close_after_flush() noexcept { close_after_flush_ = true; }
  /// Why reading is paused: one bit per reason (as nghttp2's pause flags), so that one reason
  /// ending does not resume a read another still forbids.
  enum pause_reason : std::uint8_t {
    pause_body = 1,    ///< a body past --body-buffer waits for its worker
    pause_output = 2,  ///< more than --output-buffer waits for the front to read it
  };
  /// Reading is paused for at least one reason.
  bool paused() const noexcept { return pause_ != 0; }
  /// Adds `why` to the reasons reading is paused.
  void pause(pause_reason why) noexcept { pause_ |= why; }
  /// Removes `why`; once no reason is left the host is told that reading may go on.
  void resume(pause_reason why);
  /// Whether `why` is among the reasons reading is paused.
  bool paused_for(pause_reason why) const noexcept { return (pause_ & why) != 0; }
  bool closed() const noexcept { return closed_; }
  std::size_t open_requests() const noexcept { return requests_.size(); }
  /// Requests whose PARAMS have not ended yet (--header-timeout runs for them).
  std::size_t heads_open() const noexcept { return heads_open_; }
  /// When the oldest of those began (its BEGIN_REQUEST); meaningful only while heads_open().
  clock_type::time_point oldest_head() const noexcept;
  /// Since when the connection has had no request open (with limits.idle_timeout set).
  clock_type::time_point idle_since() const noexcept { return idle_since_; }
  /// Nothing in progress in either direction: no request, no output, no partial record read.
  /// The connection may then change hands (a SIGUSR2 upgrade) without a byte lost.
  bool at_rest() const noexcept {
    return requests_.empty() && out_.empty() && decoder_.between_records() && decoder_.active_requests() == 0;
  }

 private:
  void handle(const proto::event& ev);
  void on_begin(const proto::event& ev);
  void on_abort(std::uint16_t id);
  void on_stream(const proto::event& ev);
  void on_get_values(std::string_view query);
  bool take_input(request& r, std::string_view data);
  void maybe_submit(const std::shared_ptr<request>& r);
  void forget(request& r);
  bool should_pause() const noexcept;
  void update_pause();
  std::size_t buffered_body() const noexcept;

  session_host& host_;
  const front_limits& limits_;
  proto::decoder decoder_;
  std::unordered_map<std::uint16_t, std::shared_ptr<request>> requests_;
  std::string out_;
  std::string why_;
  bool close_after_flush_ = false;
  std::size_t heads_open_ = 0;
  clock_type::time_point idle_since_{};
  std::uint8_t pause_ = 0;  // pause_reason bits
  bool draining_ = false;
  bool closed_ = false;
};

}  // namespace fcgimux
