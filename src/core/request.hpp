// SPDX-License-Identifier: ISC
#pragma once
// One FastCGI request from a front connection. Exactly one party owns it at a time, and `state`
// names it: the client connection while PARAMS and the buffered body arrive (reading), the
// scheduler while it waits for a worker (queued), one backend exchange while a worker serves it
// (at_worker), nobody once the front has its END_REQUEST (done). Only the owner answers it.

#include "proto/protocol.hpp"
#include "src/base/clock.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fcgimux {

class front_port;
class request_home;

/// Told when the front sends body bytes or goes away: the exchange streaming a body listens.
class front_listener {
 public:
  virtual void front_changed() = 0;

 protected:
  ~front_listener() = default;
};

enum class request_state : std::uint8_t { reading, queued, at_worker, done };

struct request {
  request(std::weak_ptr<front_port> c, request_home& o, std::uint16_t id, bool keep)
      : conn(std::move(c)), home(&o), front_id(id), keep_conn(keep) {}

  std::weak_ptr<front_port> conn;
  request_home* home;  ///< its pool, which counts its end
  std::uint16_t front_id;
  bool keep_conn;  ///< the front's FCGI_KEEP_CONN for this request
  request_state state = request_state::reading;

  /// The BEGIN_REQUEST role, passed on to the worker (docs/roles.md).
  proto::role role = proto::role::responder;
  std::string params;  ///< the PARAMS name-value block, forwarded as received
  /// The input received and not yet written to a worker: its first body_stdin bytes are STDIN,
  /// the rest a FILTER's DATA (which follows the end of STDIN, so the two never interleave).
  std::string body;
  std::size_t body_stdin = 0;
  bool params_done = false;
  bool stdin_done = false;  ///< an AUTHORIZER's from the start: it has no STDIN (spec 6.3)
  bool data_done = true;    ///< false only for a FILTER until its DATA ends
  /// The front no longer wants the answer (ABORT_REQUEST, or it closed): output is discarded.
  bool front_gone = false;
  bool output_sent = false;  ///< some STDOUT or STDERR went to the front
  int attempts = 0;          ///< workers it was sent to
  /// The remote server that failed it before answering (opaque): its next member is another one.
  const void* failed_at = nullptr;
  /// Sent again once already after a server read it and closed unanswered (idempotent, no body).
  bool replayed = false;
  int worker_pid = 0;
  int end_status = 0;    ///< the HTTP status it ended with, whether or not its front got it (access log)
  bool cut_off = false;  ///< its worker failed after output went out: the front saw a truncated answer

  std::string uri;          ///< REQUEST_URI, else SCRIPT_NAME: for stats and the slow log
  std::string script_name;  ///< SCRIPT_NAME, for --status-path
  clock_type::time_point accepted_at = clock_type::now();
  clock_type::time_point queued_at{};
  clock_type::time_point started_at{};
  /// Set while an exchange streams its body: woken when STDIN arrives or the front goes away.
  front_listener* front_event = nullptr;

  /// The front sent body bytes or went away: wake the exchange, if there is one.
  void notify_exchange() {
    if (front_event) front_event->front_changed();
  }

  /// Every input stream the role has is complete (STDIN, and a FILTER's DATA).
  bool input_done() const noexcept { return stdin_done && data_done; }

  /// Which stream ends went to a worker already (one exchange's).
  struct input_sent {
    bool stdin_end = false;
    bool data_end = false;
  };
  /// Appends `body` to `out` as records under `id` (STDIN, then DATA) and each stream's end once
  /// it is reached (or at once with `cut`: the front left and the rest never comes). Does not
  /// empty body (input_taken does). True once every stream the role has is ended in `out`.
  bool append_input(std::string& out, std::uint16_t id, input_sent& sent, bool cut) const;
  /// body went to a worker.
  void input_taken() noexcept {
    body.clear();
    body_stdin = 0;
  }

  /// Reads uri and script_name from the PARAMS block once it is complete (one pass); false when
  /// the block is not a sequence of whole name-value pairs.
  bool note_params();
};

}  // namespace fcgimux
