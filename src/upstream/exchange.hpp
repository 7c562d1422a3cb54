#pragma once
// One request at one worker: connect (or reuse the kept connection), write BEGIN_REQUEST, PARAMS
// and STDIN under fcgimux's own request id, relay STDOUT and STDERR back to the front as they
// arrive, and decide what a failure means: resend, 502, 504, or a cut-off answer.
//
// Resend rule (docs/architecture.md): only when no byte of an answer came back and the kernel
// shows the worker never took the request (connect failed, ECONNRESET, EPIPE). At most 8 tries.

#include <memory>

namespace fcgimux {

class server;
struct request;
struct worker;

/// The front of `r` (at a worker) went away: after --abandon-timeout, if the worker is still on
/// it, the worker is killed so that it cannot stay busy for ever.
void watch_abandoned(server& srv, std::shared_ptr<request> r);

/// Starts serving `r` on `w` (both marked busy by the caller); runs on its own coroutine.
void start_exchange(server& srv, std::shared_ptr<worker> w, std::shared_ptr<request> r);

}  // namespace fcgimux
