// SPDX-License-Identifier: ISC
#pragma once
// One request at one pool member: connect (or reuse the kept connection), write BEGIN_REQUEST,
// PARAMS and STDIN under fcgimux's own request id, relay STDOUT and STDERR back to the front as
// they arrive, and decide what a failure means: resend, 502, 504, or a cut-off answer.
//
// Resend rule (docs/architecture.md): only when no byte of an answer came back and the kernel
// shows the member never took the request (connect failed, ECONNRESET, EPIPE). At most 8 tries.

#include "src/upstream/exchange_home.hpp"

#include <memory>

namespace fcgimux {

/// The front of `r` (at a member) went away: after --abandon-timeout, if the member is still on
/// it, the member is killed so that it cannot stay busy for ever.
void watch_abandoned(exchange_home& pool, std::shared_ptr<request> r);

/// Starts serving `r` on `m` (both marked busy by the caller); runs on its own coroutine.
void start_exchange(exchange_home& pool, std::shared_ptr<pool_member> m, std::shared_ptr<request> r);

}  // namespace fcgimux
