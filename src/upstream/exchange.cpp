// SPDX-License-Identifier: ISC
#include "src/upstream/exchange.hpp"

#include "proto/decoder.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"
#include "src/base/event_signal.hpp"
#include "src/base/invariant.hpp"
#include "src/base/log.hpp"
#include "src/base/send_now.hpp"
#include "src/core/front_port.hpp"
#include "src/core/request.hpp"
#include "src/core/request_lifecycle.hpp"
#include "src/upstream/answer_reader.hpp"
#include "src/upstream/exchange_error.hpp"
#include "src/upstream/exchange_state.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <optional>

namespace fcgimux {
namespace {

using namespace exchange_detail;

std::string_view uri_of(const request& r) { return r.uri.empty() ? std::string_view("-") : std::string_view(r.uri); }

// Hands worker output to the front. Returns false when the front is congested: the caller waits
// for it (and so stops reading the worker) and calls again.
bool relay(request& r, proto::record_type type, std::string_view data) {
  auto c = r.conn.lock();
  if (!c || r.front_gone || !c->is_open()) return true;  // nobody wants it: discard
  if (c->congested()) return false;
  c->send_stream(r, type, data);
  r.output_sent = true;
  return true;
}

// Relays one piece of the answer; returns false once the exchange is over (timed out) first.
asio::awaitable<bool> relay_all(exchange_ctx& x, proto::record_type type, std::string_view data) {
  // One wait at a time, then everything is looked at again: the request timer and the front's
  // closing wake this wait, and either ends the exchange.
  while (!relay(x.r, type, data)) {
    if (x.res.timed_out) co_return false;
    if (auto c = x.r.conn.lock()) co_await c->wait_writable();
  }
  co_return true;
}

asio::awaitable<void> read_response(exchange_ctx& x) {
  pool_member& w = x.w;
  request& r = x.r;
  exchange_result& res = x.res;
  socket_type& sock = *w.conn;
  if (w.read_buffer.empty()) w.read_buffer.resize(read_buffer_size);
  answer_reader answer(worker_request_id);
  while (!res.got_end && !res.timed_out) {
    // A read, not a wait for readiness then a read: Asio 1.22 starts a wait with an epoll_ctl
    // each time, a read with a recv (queued if it ends in EAGAIN): the same cost when the socket
    // is empty, one call less when the answer is there already.
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(w.read_buffer), use_tuple);
    if (ec) {
      if (!res.ec) res.ec = ec;
      co_return;
    }
    res.response_bytes = true;
    std::string_view in(w.read_buffer.data(), n);
    for (;;) {
      auto step = answer.next(in);
      if (step.kind == answer_reader::step_kind::need_more) break;
      if (step.kind == answer_reader::step_kind::broken) {
        res.broken = answer.why();
        co_return;
      }
      if (step.kind == answer_reader::step_kind::end) {
        res.got_end = true;
        res.app_status = answer.app_status();
        res.status = answer.protocol_status();
        res.http_status = answer.http_status();
        // Bytes after the END_REQUEST: the answer is whole, but this connection (and worker)
        // would hand them to the next request.
        res.broken_after_end = !in.empty();
        break;
      }
      if (!co_await relay_all(x, step.type, step.data)) co_return;
    }
    // One write to the front for all that this read brought; with the END_REQUEST in it, the
    // exchange's end writes it together with the front's own END_REQUEST.
    if (!res.got_end)
      if (auto c = r.conn.lock()) c->flush();
  }
}

// --request-timeout counts from the worker taking the request and ends whatever the exchange is
// waiting for: the worker's socket, the body's next bytes, or a front that does not read.
void arm_request_timer(exchange_ctx& x) {
  x.timer_pending = true;
  x.timer.expires_at(x.r.started_at + to_duration(x.pool.settings().request_timeout));
  x.timer.async_wait([&x](const std::error_code& ec) {
    x.timer_pending = false;  // the exchange waits for this before its frame (and x) goes away
    if (ec || x.reader_done) return;
    x.res.timed_out = true;
    interrupt_worker_io(x.w);
    if (x.body_event) x.body_event->notify();
    if (auto c = x.r.conn.lock()) c->wake_writers();
  });
}

asio::awaitable<void> disarm_request_timer(exchange_ctx& x) {
  if (!x.timer_pending) co_return;
  x.timer.cancel();
  // A handler that already fired (or was just cancelled) still has to run before x is gone.
  while (x.timer_pending) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
}

asio::awaitable<void> talk(exchange_ctx& x, const asio::any_io_executor& ex) {
  pool_member& w = x.w;
  exchange_result& res = x.res;
  if (res.head.empty()) {
    // A kept connection was checked by the pool as it handed the worker out (take_idle).
    if (!w.conn) {
      // In w.conn from the start, so that the request timer can cancel a connect that hangs.
      w.conn.emplace(ex);
      // A worker's unix socket answers at once (or refuses): its connect needs no timer, nor
      // the coroutine frame of connect_within().
      std::error_code ec;
      if (w.connect_timeout > std::chrono::milliseconds::zero())
        ec = co_await connect_within(w, ex);
      else
        std::tie(ec) = co_await w.conn->async_connect(w.where.address, use_tuple);
      if (ec || res.timed_out) {
        res.connect_failed = !res.timed_out;
        res.ec = ec;
        w.conn.reset();
        co_return;
      }
      std::error_code nb;
      w.conn->non_blocking(true, nb);
      if (w.where.tcp) w.conn->set_option(asio::ip::tcp::no_delay(true), nb);
    }
    send_head(x.pool, w, x.r, res);
  }
  if (res.ec) co_return;
  if (res.head_written < res.head.size()) {
    auto rest = asio::buffer(res.head.data() + res.head_written, res.head.size() - res.head_written);
    auto [ec, written] = co_await asio::async_write(*w.conn, rest, use_tuple);
    if (ec) {
      res.ec = ec;
      co_return;
    }
  }
  res.head = {};

  // The common case is a plain read; a writer only for a body that is still arriving.
  if (!res.stdin_closed) start_body_writer(x, ex);
  co_await read_response(x);
  x.reader_done = true;
  co_await stop_body_writer(x);
}

void cut_off(request& r) {
  // Output already went out, so a 502 is no longer possible. The front must see a truncated
  // answer: close the connection without END_REQUEST (nginx turns an END_REQUEST into a clean
  // end of the response, even with a non-zero appStatus; a close it reports as "upstream
  // prematurely closed" and ends the client's response abnormally).
  if (auto c = r.conn.lock(); c && !r.front_gone) {
    r.front_gone = true;
    r.cut_off = true;
    c->abandon(r);
  }
  finish_request(r, 1, 502);
}

// Ends `r` after its worker failed it: `status` if nothing went out yet, else a cut-off answer.
void fail(request& r, int status, std::string_view why) {
  if (r.output_sent)
    cut_off(r);
  else
    respond_error(r, status, why);
}

bool closed_by_worker(const std::error_code& ec) { return ec == asio::error::eof || unread_by_member(ec); }

// nginx's idea of a method that may be sent twice (its non_idempotent set is POST, LOCK, PATCH).
bool idempotent(const request& r) {
  auto m = proto::find_name_value(r.params, "REQUEST_METHOD").value;
  return m != "POST" && m != "LOCK" && m != "PATCH";
}

// A remote server whose connection ended before a byte of answer came (its php-fpm killed, a
// child crashed): the kernel's "reset with bytes unread" proves nothing there, since php-fpm
// leaves a request's last STDIN record unread while its script runs. So a server's request is
// sent again only when sending it twice is harmless, nginx's rule: no body and an idempotent
// method, once, to another member. A POST whose body went out is answered 502. Workers keep the
// kernel's proof (their resend rule): a worker dying on a request is likelier the request's doing.
bool server_may_replay(const pool_member& w, const request& r, const exchange_result& res,
                       const std::error_code& failure) {
  return (failure == exchange_errc::closed || failure == exchange_errc::reset_unread) && w.server && !r.replayed &&
         !r.front_gone && !r.output_sent && !res.response_bytes && !res.had_body && idempotent(r);
}

asio::awaitable<void> exchange(exchange_home& pool, std::shared_ptr<pool_member> w, std::shared_ptr<request> r,
                               exchange_result res) {
  auto ex = co_await asio::this_coro::executor;
  exchange_ctx x(pool, *w, *r, res, ex);
  if (pool.settings().request_timeout > seconds::zero()) arm_request_timer(x);
  bool internal_error = false;
  try {
    co_await talk(x, ex);
  } catch (const std::exception& e) {
    // Nothing on this path throws but allocation; if it does, the request still ends (502 or
    // cut off, below) and the worker, in an unknown state, is replaced.
    log::error("internal error in an exchange with {}: {}", member_name(*w), e.what());
    internal_error = true;
    res.ec = std::make_error_code(std::errc::io_error);
    res.got_end = false;
    x.reader_done = true;
  }
  if (internal_error) co_await stop_body_writer(x);
  co_await disarm_request_timer(x);

  bool ok = res.got_end && res.status == proto::protocol_status::request_complete && res.broken.empty();
  if (ok) {
    if (!res.keep_conn || !res.writer_done || res.broken_after_end) w->conn.reset();
    auto elapsed = clock_type::now() - r->started_at;
    pool.stats().service_latency.record(elapsed);
    if (pool.settings().slow_threshold > seconds::zero() && elapsed > pool.settings().slow_threshold) {
      ++pool.stats().counts.requests_slow;  // php-fpm's "slow requests"
      log::warning("slow request: {} took {:.0f} ms on {}", uri_of(*r),
                   std::chrono::duration<double, std::milli>(elapsed).count(), member_name(*w));
    }
    r->body.clear();
    // The worker first: a request waiting for it is written to it now (send_head), and the worker
    // works on it while fcgimux writes this answer to its front.
    if (res.broken_after_end) {
      log::warning("{} wrote past the END_REQUEST of request {}; replacing it", member_name(*w), uri_of(*r));
      pool.kill_now(*w);
    }
    pool.done_with(w, !res.broken_after_end);
    finish_request(*r, res.app_status, res.http_status);
    co_return;
  }

  w->conn.reset();
  const std::error_code failure = classify({.internal_error = internal_error,
                                            .broken = !res.broken.empty(),
                                            .timed_out = res.timed_out,
                                            .got_end = res.got_end,
                                            .connect_failed = res.connect_failed,
                                            .response_bytes = res.response_bytes,
                                            .body_streamed = res.body_streamed,
                                            .io = res.ec});
  if (failure == exchange_errc::internal) pool.kill_now(*w);
  if (failure == exchange_errc::broken) {
    log::error("{} {} (request {}); replacing it", member_name(*w), res.broken, uri_of(*r));
    pool.kill_now(*w);
    pool.done_with(w, false);
    if (!r->front_gone) ++pool.stats().counts.requests_failed;
    fail(*r, 502, failure.message());
    co_return;
  }
  if (failure == exchange_errc::timed_out) {
    log::warning("request {} timed out after {} s on {}; killing it", uri_of(*r),
                 pool.settings().request_timeout.count(), member_name(*w));
    pool.kill_now(*w);
    pool.done_with(w, false);
    ++pool.stats().counts.requests_timed_out;
    fail(*r, 504, failure.message());
    co_return;
  }

  bool first_request = w->requests == 0;
  bool closed = !res.got_end && !res.connect_failed && closed_by_worker(res.ec);
  // A worker that reads a request and closes without answering it is failing, whatever its
  // exit status says: its exit counts towards the back-off like a crash.
  if (closed && (first_request || !unread_by_member(res.ec))) w->ended_unanswered = true;
  // kcgi apps exit on FCGI_KEEP_CONN (see worker_pool::refused_kept_connection).
  if (closed && first_request && res.keep_conn && !res.response_bytes) pool.refused_kept_connection(*w);

  const bool replay = server_may_replay(*w, *r, res, failure);
  const bool resendable =
      failure == exchange_errc::connect_failed || (!w->server && failure == exchange_condition::safe_to_resend);
  const bool may_resend = resendable && !r->front_gone && r->attempts < max_attempts;
  pool.done_with(w, false);
  if (may_resend || replay) {
    if (replay && !may_resend) {
      r->replayed = true;
      log::warning("{} closed request {} unanswered ({}); sending it once more, to another member", member_name(*w),
                   uri_of(*r), res.ec ? res.ec.message() : "end of file");
    } else {
      log::debug("{} dropped request {} unanswered ({}); sending it to another member", member_name(*w), r->uri,
                 res.ec.message());
    }
    if (w->server) r->failed_at = w->server;
    // What of a streamed body went to this worker comes first again.
    if (!res.sent_body.empty()) {
      r->body.insert(0, res.sent_body);
      r->body_stdin += res.sent_stdin;
    }
    pool.resubmit(r);
    co_return;
  }
  std::string why = failure == exchange_errc::refused
                        ? fmt::format("{} (protocol status {})", failure.message(), static_cast<int>(res.status))
                    : res.ec ? fmt::format("{} ({})", failure.message(), res.ec.message())
                             : failure.message();
  if (!r->front_gone) {
    log::error("{} failed request {}: {}", member_name(*w), uri_of(*r), why);
    ++pool.stats().counts.requests_failed;
  }
  fail(*r, 502, "the worker failed");
}

}  // namespace

void watch_abandoned(exchange_home& pool, std::shared_ptr<request> r) {
  if (pool.settings().abandon_timeout <= seconds::zero() || r->state != request_state::at_worker) return;
  auto timer = std::make_shared<asio::steady_timer>(pool.io(), to_duration(pool.settings().abandon_timeout));
  int attempt = r->attempts;
  timer->async_wait([&pool, r, timer, attempt](const std::error_code& ec) {
    // Still at the same worker: it has gone on for nobody long enough. Killing it ends the
    // exchange (EOF), which gives the worker back to the pool as a failed one.
    if (ec || r->state != request_state::at_worker || r->attempts != attempt) return;
    log::warning("worker {} still busy {} s after the front left request {}; killing it", r->worker_pid,
                 pool.settings().abandon_timeout.count(), uri_of(*r));
    pool.kill_pid(r->worker_pid);
  });
}

void start_exchange(exchange_home& pool, std::shared_ptr<pool_member> w, std::shared_ptr<request> r) {
  // The worker owns the request from now on, not from when the coroutine first runs (a loop turn
  // later): a front that closes in between must find it at its worker, not still "queued", or it
  // would be finished twice.
  FCGIMUX_INVARIANT(r->state == request_state::queued, "a request reaches a worker only from the queue");
  FCGIMUX_INVARIANT(!w->current && w->state == member_state::busy, "a worker serves one request at a time");
  r->state = request_state::at_worker;
  r->attempts++;
  r->started_at = clock_type::now();
  r->worker_pid = w->pid;
  w->current = r;
  exchange_result res;
  // Only a whole body: streaming one hands the front's reading over to the exchange.
  if (r->input_done() && w->conn) send_head(pool, *w, *r, res);
  pool.exchange_begun();
  asio::co_spawn(pool.io(), exchange(pool, w, r, std::move(res)), [&pool, w, r](std::exception_ptr e) {
    if (e) {
      log::on_exception("a backend exchange")(e);
      // Whatever was left undone: the worker is replaced and the request still ends.
      if (w->current == r) {
        pool.kill_now(*w);
        pool.done_with(w, false);
      }
      if (r->state != request_state::done) fail(*r, 502, "internal error");
    }
    pool.exchange_over();  // the last use of the pool by this exchange
  });
}

}  // namespace fcgimux
