// SPDX-License-Identifier: ISC
#pragma once
// One FastCGI request from a front connection. Exactly one party owns it at a time, and `state`
// names it: the client connection while PARAMS and the buffered body arrive (reading), the
// scheduler while it waits for a worker (queued), one backend exchange while a worker serves it
// (at_worker), nobody once the front has its END_REQUEST (done). Only the owner answers it.

#include "src/base/clock.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fcgimux {

class front_port;
class request_owner;

/// Told when the front sends body bytes or goes away: the exchange streaming a body listens.
class front_listener {
 public:
  virtual void front_changed() = 0;

 protected:
  ~front_listener() = default;
};

enum class request_state : std::uint8_t { reading, queued, at_worker, done };

struct request {
  request(std::weak_ptr<front_port> c, request_owner& o, std::uint16_t id, bool keep)
      : conn(std::move(c)), owner(&o), front_id(id), keep_conn(keep) {}

  std::weak_ptr<front_port> conn;
  request_owner* owner;  ///< its pool, which counts its end
  std::uint16_t front_id;
  bool keep_conn;  ///< the front's FCGI_KEEP_CONN for this request
  request_state state = request_state::reading;

  std::string params;  ///< the PARAMS name-value block, forwarded as received
  std::string body;    ///< STDIN received and not yet written to a worker
  bool params_done = false;
  bool stdin_done = false;
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

  /// Reads uri and script_name from the PARAMS block once it is complete (one pass); false when
  /// the block is not a sequence of whole name-value pairs.
  bool note_params();
};

}  // namespace fcgimux
