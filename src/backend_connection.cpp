#include "src/backend_connection.hpp"

#include "proto/decoder.hpp"
#include "proto/encoder.hpp"
#include "src/client_connection.hpp"
#include "src/event_signal.hpp"
#include "src/log.hpp"
#include "src/request.hpp"
#include "src/send_now.hpp"
#include "src/server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>

#include <sys/socket.h>

#include <cerrno>

namespace fcgimux {
namespace {

using namespace asio::experimental::awaitable_operators;
using socket_type = asio::generic::stream_protocol::socket;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// fcgimux's own id towards a worker: workers never see two requests at once on a connection.
constexpr std::uint16_t worker_request_id = 1;
// Every resend is one the kernel proved unread, so the limit only stops a loop; it must be high
// enough for a request to meet several workers recycling themselves at the same moment.
constexpr int max_attempts = 8;
constexpr std::size_t read_buffer_size = 64 * 1024;

struct exchange_result {
  bool connect_failed = false;
  bool response_bytes = false;  // any byte came back from the worker
  bool got_end = false;
  bool writer_done = true;      // every STDIN byte was written
  bool timed_out = false;
  bool body_streamed = false;   // part of the body was handed over and dropped: no resend
  std::uint32_t app_status = 0;
  proto::protocol_status status = proto::protocol_status::request_complete;
  std::error_code ec;
  std::string head;             // BEGIN_REQUEST, PARAMS and (a buffered) STDIN, once built
  std::size_t head_written = 0;
};

// A kept connection the worker closed while idle (php-cgi after PHP_FCGI_MAX_REQUESTS, libfcgi's
// idle timeout) shows EOF here without blocking; one with unexpected bytes is not reusable either.
// On a unix socket the send to a closed peer fails at once with EPIPE, which the resend rule
// covers, so the check (a system call per request) is made only for other sockets.
bool reusable(socket_type& s) {
  char c;
  ssize_t n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool unread_by_worker(const std::error_code& ec) {
  return ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

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

asio::awaitable<void> wait_for_front(request& r) {
  if (auto c = r.conn.lock()) co_await c->wait_writable();
}

asio::awaitable<void> read_response(worker& w, request& r, exchange_result& res) {
  co_await asio::this_coro::throw_if_cancelled(false);
  socket_type& sock = *w.conn;
  if (w.read_buffer.empty()) w.read_buffer.resize(read_buffer_size);
  proto::decoder dec;
  while (!res.got_end) {
    // A read, not a wait for readiness then a read: Asio re-arms a wait with an epoll_ctl each
    // time, while a read after one that emptied the socket is queued without a system call.
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(w.read_buffer), use_tuple);
    if (ec) {
      res.ec = ec;
      co_return;
    }
    res.response_bytes = true;
    std::string_view in(w.read_buffer.data(), n);
    while (!in.empty() && !res.got_end) {
      auto d = dec.next(in);
      in.remove_prefix(d.consumed);
      const proto::event& ev = d.ev;
      if (ev.type == proto::event_type::error) {
        res.ec = dec.error();
        co_return;
      }
      if (ev.request_id != worker_request_id) continue;
      if (ev.type == proto::event_type::stream_data) {
        auto type = ev.record();
        if (type != proto::record_type::stdout_stream && type != proto::record_type::stderr_stream) continue;
        if (type == proto::record_type::stdout_stream) r.sniffer.feed(ev.data);
        while (!relay(r, type, ev.data)) co_await wait_for_front(r);
      } else if (ev.type == proto::event_type::end_request) {
        res.got_end = true;
        res.app_status = ev.app_status;
        res.status = ev.status;
      }
    }
    // One write to the front for all that this read brought; with the END_REQUEST in it, the
    // exchange's end writes it together with the front's own END_REQUEST.
    if (!res.got_end)
      if (auto c = r.conn.lock()) c->flush();
  }
}

// Streams the rest of a body larger than --body-buffer as the front delivers it.
asio::awaitable<void> write_rest_of_body(worker& w, request& r, exchange_result& res, event_signal& front_event) {
  // Cancelled by the operator || when the reader finishes first: no exception, just leave.
  co_await asio::this_coro::throw_if_cancelled(false);
  res.writer_done = false;
  std::string chunk;
  for (;;) {
    bool last = false;
    if (!r.body.empty()) {
      chunk.clear();
      proto::append_stream(chunk, proto::record_type::stdin_stream, worker_request_id, r.body);
      r.body.clear();
      res.body_streamed = true;
      if (auto c = r.conn.lock()) c->body_consumed(r);
    } else if (r.stdin_done || r.front_gone) {
      // When the front is gone the rest of the body never comes: close STDIN so that the worker
      // finishes the request, and the exchange drains its answer before the worker is reused.
      chunk.clear();
      proto::append_stream_end(chunk, proto::record_type::stdin_stream, worker_request_id);
      last = true;
    } else {
      co_await front_event.wait();
      if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) break;
      continue;
    }
    auto [ec, n] = co_await asio::async_write(*w.conn, asio::buffer(chunk), use_tuple);
    if (ec) {
      res.ec = ec;
      break;
    }
    if (last) {
      res.writer_done = true;
      break;
    }
  }
  if (res.writer_done && !res.ec) {
    // Stay alive until the reader finishes; the operator || then cancels this wait.
    asio::steady_timer forever(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
    co_await forever.async_wait(use_tuple);
  }
}

clock_type::duration to_duration(double s) {
  return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
}

// Ends the exchange when the worker takes longer than --request-timeout.
asio::awaitable<void> request_timer(server& srv, request& r, exchange_result& res) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_at(r.started_at + to_duration(srv.cfg.request_timeout));
  auto [ec] = co_await timer.async_wait(use_tuple);
  if (!ec) res.timed_out = true;
}

// Builds the request's records for `w` and sends what the socket takes now. start_exchange calls
// it as it hands the request over (when the body is whole and the connection kept): a worker freed
// by its last answer then has the next request at once, not after fcgimux has written that answer
// to its front and the new exchange's coroutine has had its loop turn, by which time the worker
// has gone back to sleep. Otherwise talk() calls it once it has a connection.
void send_head(server& srv, worker& w, request& r, exchange_result& res) {
  std::string& head = res.head;
  head.reserve(64 + r.params.size() + r.body.size());
  proto::append_begin_request(head, worker_request_id, static_cast<std::uint16_t>(proto::role::responder),
                              srv.cfg.keep_conn ? proto::flag_keep_conn : 0);
  proto::append_stream(head, proto::record_type::params, worker_request_id, r.params);
  proto::append_stream_end(head, proto::record_type::params, worker_request_id);
  // A buffered body stays in the request until it is answered, so it can be sent again.
  proto::append_stream(head, proto::record_type::stdin_stream, worker_request_id, r.body);
  if (r.stdin_done) {
    proto::append_stream_end(head, proto::record_type::stdin_stream, worker_request_id);
  } else {
    r.body.clear();
    res.body_streamed = true;
    if (auto c = r.conn.lock()) c->body_consumed(r);
  }
  std::string_view unsent = head;
  res.ec = send_now(w.conn->native_handle(), unsent);
  res.head_written = head.size() - unsent.size();
}

// A kept connection that can take a request now (see reusable()).
bool kept_connection_ready(worker& w) {
  if (w.conn && w.socket_path.empty() && !reusable(*w.conn)) w.conn.reset();
  return w.conn.has_value();
}

asio::awaitable<void> talk(server& srv, worker& w, request& r, exchange_result& res) {
  bool whole_body = r.stdin_done;
  if (res.head.empty()) {
    if (!kept_connection_ready(w)) {
      socket_type s(srv.io);
      asio::generic::stream_protocol::endpoint ep{asio::local::stream_protocol::endpoint(w.socket_path)};
      auto [ec] = co_await s.async_connect(ep, use_tuple);
      if (ec) {
        res.connect_failed = true;
        res.ec = ec;
        co_return;
      }
      std::error_code nb;
      s.non_blocking(true, nb);
      w.conn.emplace(std::move(s));
    }
    send_head(srv, w, r, res);
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

  // The common case is a plain read; timers and a writer only when they are needed.
  bool timed = srv.cfg.request_timeout > 0;
  if (whole_body) {
    if (timed)
      co_await (read_response(w, r, res) || request_timer(srv, r, res));
    else
      co_await read_response(w, r, res);
    co_return;
  }
  event_signal front_event(co_await asio::this_coro::executor);
  r.front_event = &front_event;
  struct unhook {
    request& r;
    ~unhook() { r.front_event = nullptr; }
  } unhook_on_exit{r};
  if (timed)
    co_await (read_response(w, r, res) || write_rest_of_body(w, r, res, front_event) ||
              request_timer(srv, r, res));
  else
    co_await (read_response(w, r, res) || write_rest_of_body(w, r, res, front_event));
}

void cut_off(server& srv, request& r) {
  // Output already went out, so a 502 is no longer possible. The front must see a truncated
  // answer: close the connection without END_REQUEST (nginx turns an END_REQUEST into a clean
  // end of the response, even with a non-zero appStatus; a close it reports as "upstream
  // prematurely closed" and ends the client's response abnormally).
  if (auto c = r.conn.lock(); c && !r.front_gone) {
    r.front_gone = true;
    c->abandon(r);
  }
  finish_request(srv, r, 1, 502);
}

asio::awaitable<void> exchange(server& srv, std::shared_ptr<worker> w, std::shared_ptr<request> r,
                               exchange_result res) {
  co_await talk(srv, *w, *r, res);

  bool ok = res.got_end && res.status == proto::protocol_status::request_complete;
  if (ok) {
    if (!srv.cfg.keep_conn || !res.writer_done) w->conn.reset();
    auto elapsed = clock_type::now() - r->started_at;
    srv.st.service_latency.record(elapsed);
    if (srv.cfg.slow_threshold > 0 && elapsed > std::chrono::duration<double>(srv.cfg.slow_threshold))
      log::info("slow request: {} took {:.0f} ms on worker {}", r->uri.empty() ? "-" : r->uri,
                std::chrono::duration<double, std::milli>(elapsed).count(), w->pid);
    r->body.clear();
    // The worker first: a request waiting for it is written to it now (send_head), and the worker
    // works on it while fcgimux writes this answer to its front.
    srv.pool.done_with(w, true);
    finish_request(srv, *r, res.app_status, r->sniffer.status() ? r->sniffer.status() : 200);
    co_return;
  }

  w->conn.reset();
  if (res.timed_out) {
    log::info("request {} timed out after {} s on worker {}; killing it", r->uri.empty() ? "-" : r->uri,
              srv.cfg.request_timeout, w->pid);
    srv.pool.kill_now(*w);
    srv.pool.done_with(w, false);
    ++srv.st.c.requests_timed_out;
    if (r->output_sent)
      cut_off(srv, *r);
    else
      respond_error(srv, *r, 504, "the worker took too long");
    co_return;
  }

  bool may_resend = !res.response_bytes && !res.body_streamed && !r->front_gone && r->attempts < max_attempts &&
                    (res.connect_failed || unread_by_worker(res.ec));
  srv.pool.done_with(w, false);
  if (may_resend) {
    log::debug("worker {} dropped request {} unanswered ({}); sending it to another worker", w->pid, r->uri,
               res.ec.message());
    srv.sched.resubmit(r);
    co_return;
  }
  std::string why = res.got_end ? fmt::format("worker refused the request (protocol status {})",
                                              static_cast<int>(res.status))
                                : res.ec ? res.ec.message() : std::string("connection closed");
  if (!r->front_gone) {
    log::info("worker {} failed request {}: {}", w->pid, r->uri.empty() ? "-" : r->uri, why);
    ++srv.st.c.requests_failed;
  }
  if (r->output_sent)
    cut_off(srv, *r);
  else
    respond_error(srv, *r, 502, "the worker failed");
}

}  // namespace

void watch_abandoned(server& srv, std::shared_ptr<request> r) {
  if (srv.cfg.abandon_timeout <= 0 || r->state != request_state::at_worker) return;
  auto timer = std::make_shared<asio::steady_timer>(srv.io, to_duration(srv.cfg.abandon_timeout));
  int attempt = r->attempts;
  timer->async_wait([&srv, r, timer, attempt](const std::error_code& ec) {
    // Still at the same worker: it has gone on for nobody long enough. Killing it ends the
    // exchange (EOF), which gives the worker back to the pool as a failed one.
    if (ec || r->state != request_state::at_worker || r->attempts != attempt) return;
    log::info("worker {} still busy {} s after the front left request {}; killing it", r->worker_pid,
              srv.cfg.abandon_timeout, r->uri.empty() ? "-" : r->uri);
    srv.pool.kill_pid(r->worker_pid);
  });
}

void start_exchange(server& srv, std::shared_ptr<worker> w, std::shared_ptr<request> r) {
  // The worker owns the request from now on, not from when the coroutine first runs (a loop turn
  // later): a front that closes in between must find it at its worker, not still "queued", or it
  // would be finished twice.
  r->state = request_state::at_worker;
  r->attempts++;
  r->started_at = clock_type::now();
  r->worker_pid = w->pid;
  w->current = r;
  exchange_result res;
  // Only a whole body: streaming one hands the front's reading over to the exchange.
  if (r->stdin_done && kept_connection_ready(*w)) send_head(srv, *w, *r, res);
  asio::co_spawn(srv.io, exchange(srv, std::move(w), std::move(r), std::move(res)), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::info("internal error in a backend exchange: {}", ex.what());
    }
  });
}

}  // namespace fcgimux
