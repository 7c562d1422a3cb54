// SPDX-License-Identifier: ISC
// The hand-out of idle workers and their return: the idle list, the check of a kept connection
// before it is reused, and what a worker's end of a request decides (idle again, probation,
// retired); with the kept-connection (FCGI_KEEP_CONN) mode that workers' refusals switch.

#include "src/base/invariant.hpp"
#include "src/base/log.hpp"
#include "src/core/request.hpp"
#include "src/pool/worker_pool.hpp"
#include "src/process/worker_process.hpp"

#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>

namespace fcgimux {
namespace {

using namespace std::chrono_literals;

// After a failed exchange the worker may be dying: give its exit a moment to show.
constexpr auto probation_time = 100ms;

}  // namespace

void worker_pool::make_idle(const std::shared_ptr<pool_member>& w) {
  w->state = worker_state::idle;
  w->process->idle_since = clock_type::now();
  idle_.push_back(w);
}

void worker_pool::remove_idle(pool_member* w) {
  std::erase_if(idle_, [w](auto& p) { return p.get() == w; });
}

std::shared_ptr<pool_member> worker_pool::take_idle() {
  while (!idle_.empty()) {
    auto w = idle_.back();
    idle_.pop_back();
    if (w->process->exited || w->state != worker_state::idle) continue;
    if (w->conn && !kept_connection_clean(*w)) continue;
    w->state = worker_state::busy;
    return w;
  }
  return nullptr;
}

bool worker_pool::kept_connection_clean(pool_member& w) {
  // Bytes on an idle connection would be read as the next request's answer: a worker that
  // writes between requests is replaced. EOF is a worker that closed the connection (php-cgi
  // after PHP_FCGI_MAX_REQUESTS, libfcgi's idle timeout): the next request connects anew.
  // A system call per handout, on purpose: only it sees what arrived since the loop's last
  // epoll_wait, and a wait kept pending on idle connections would cost an epoll_ctl per request
  // anyway (docs/performance.md, "System calls per request").
  char c;
  ssize_t n = ::recv(w.conn->native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
  w.conn.reset();
  if (n <= 0) return true;
  log::warning("worker {} wrote between two requests; replacing it", w.pid);
  w.state = worker_state::stopping;
  kill_now(w);
  return false;
}

void worker_pool::done_with(const std::shared_ptr<pool_member>& w, bool healthy) {
  FCGIMUX_INVARIANT(w->current, "a worker is given back once per request");
  w->current.reset();
  ++w->requests;
  if (w->process->exited || w->state == worker_state::stopping) return;
  if (stopping_all_) {
    stop_worker(w);
    return;
  }
  if (w->process->retiring) {
    log::debug("pool {}: worker {} (generation {}) replaced after its last request", cfg_.name, w->pid,
               w->process->generation);
    stop_worker(w);
    roll_step();
    return;
  }
  if (cfg_.max_requests > 0 && w->requests >= cfg_.max_requests) {
    log::debug("worker {} retired after {} requests", w->pid, w->requests);
    stop_worker(w);
    grow();
    return;
  }
  if (healthy) {
    start_failures_ = crash_streak_ = 0;
    roll_proven(*w);
  }
  if (!healthy) {
    w->conn.reset();
    w->process->probation.expires_after(probation_time);
    w->process->probation.async_wait([this, w](const std::error_code& ec) {
      if (ec || w->process->exited || w->state != worker_state::busy) return;
      make_idle(w);
      events_.member_ready();
    });
    return;
  }
  make_idle(w);
  events_.member_ready();
}

void worker_pool::refused_kept_connection(pool_member& w) {
  w.process->refused_kept_connection = true;
  if (cfg_.keep_conn == keep_conn_mode::auto_ && keep_conn_) {
    keep_conn_ = false;
    keep_conn_suspended_ = true;
  }
}

void worker_pool::settle_kept_connections(const pool_member& w, int status) {
  bool by_itself = WIFEXITED(status) && !w.process->signalled_by_us;
  if (!by_itself) {
    if (keep_conn_suspended_) keep_conn_ = true;
    keep_conn_suspended_ = false;
    return;
  }
  if (cfg_.keep_conn == keep_conn_mode::auto_) {
    if (keep_conn_ || keep_conn_suspended_)
      log::warning(
          "worker {} closed a kept (FCGI_KEEP_CONN) connection without answering its first request, "
          "then exited; switching to a connection per request (--keep-conn auto)",
          w.pid);
    keep_conn_ = keep_conn_suspended_ = false;
  } else if (cfg_.keep_conn == keep_conn_mode::yes && !told_keep_conn_) {
    told_keep_conn_ = true;
    log::warning(
        "worker {} closed a kept (FCGI_KEEP_CONN) connection without answering its first request, "
        "then exited: a program that cannot keep connections (a kcgi app) needs --keep-conn no (or auto)",
        w.pid);
  }
}
}  // namespace fcgimux
