#pragma once
// One request at one worker: connect (or reuse the kept connection), write BEGIN_REQUEST, PARAMS
// and STDIN under fcgimux's own request id, relay STDOUT and STDERR back to the front as they
// arrive, and decide what a failure means: resend, 502, 504, or a cut-off answer.
//
// Resend rule (docs/architecture.md): a request goes to another worker only when no byte of an
// answer came back and either the connection could not be made, or the kernel reported our
// bytes unread (ECONNRESET/EPIPE: the worker closed without reading them, as php-cgi does when it
// exits after PHP_FCGI_MAX_REQUESTS), or the method is GET, HEAD or OPTIONS. At most 3 tries.

#include <memory>

namespace fcgimux {

class server;
struct request;
struct worker;

/// Starts serving `r` on `w` (both marked busy by the caller); runs on its own coroutine.
void start_exchange(server& srv, std::shared_ptr<worker> w, std::shared_ptr<request> r);

}  // namespace fcgimux
