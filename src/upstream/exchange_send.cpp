// SPDX-License-Identifier: ISC
// The first steps of an exchange: a connect within its time limit, and the request's head.
#include "src/upstream/exchange_state.hpp"

#include "proto/encoder.hpp"
#include "proto/name_value.hpp"
#include "src/base/invariant.hpp"
#include "src/base/send_now.hpp"

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <sys/socket.h>

#include <cerrno>

namespace fcgimux::exchange_detail {

// Builds the request's records for `w` and sends what the socket takes now. start_exchange calls
// it as it hands the request over (when the body is whole and the connection kept): a worker freed
// by its last answer then has the next request at once, not after fcgimux has written that answer
// to its front and the new exchange's coroutine has had its loop turn, by which time the worker
// has gone back to sleep. Otherwise talk() calls it once it has a connection.
void send_head(exchange_home& pool, pool_member& w, request& r, exchange_result& res) {
  std::string& head = res.head;
  res.keep_conn = pool.keeps_connections(w);
  res.had_body = !r.body.empty() || !r.input_done();
  head.reserve(64 + r.params.size() + r.body.size());
  // The worker serves the role the front asked for (docs/roles.md); its id is always 1.
  proto::append_begin_request(head, worker_request_id, static_cast<std::uint16_t>(r.role),
                              res.keep_conn ? proto::flag_keep_conn : 0);
  proto::append_stream(head, proto::record_type::params, worker_request_id, r.params);
  proto::append_stream_end(head, proto::record_type::params, worker_request_id);
  // A buffered body stays in the request until it is answered, so it can be sent again.
  res.stdin_closed = r.append_input(head, worker_request_id, res.sent_ends, false);
  if (!res.stdin_closed) {
    // A streamed body's first part: the front may send more now, and this part is kept aside
    // (sent_body) while the worker may not have read it.
    int sndbuf = 0;
    socklen_t len = sizeof sndbuf;
    ::getsockopt(w.conn->native_handle(), SOL_SOCKET, SO_SNDBUF, &sndbuf, &len);
    res.sent_limit = r.body.size() + static_cast<std::size_t>(std::max(sndbuf, 0));
    res.sent_body = std::move(r.body);
    res.sent_stdin = r.body_stdin;
    r.input_taken();
    if (auto c = r.conn.lock()) c->body_consumed(r);
  }
  std::string_view unsent = head;
  res.ec = send_now(w.conn->native_handle(), unsent);
  res.head_written = head.size() - unsent.size();
}

// Connects w.conn to a server within its time limit: a host that drops packets would otherwise
// hold the request until --request-timeout (or for ever).
asio::awaitable<std::error_code> connect_within(pool_member& w, const asio::any_io_executor& ex) {
  asio::steady_timer limit(ex, w.connect_timeout);
  bool expired = false, connecting = true, pending = true;
  limit.async_wait([&](const std::error_code& ec) {
    pending = false;
    if (ec || !connecting) return;
    expired = true;
    interrupt_worker_io(w);
  });
  auto [ec] = co_await w.conn->async_connect(w.where.address, use_tuple);
  connecting = false;
  limit.cancel();
  // The timer's handler refers to this frame: it has to run (cancelled) before the frame goes.
  while (pending) co_await asio::post(ex, asio::use_awaitable);
  if (expired) ec = asio::error::timed_out;
  co_return ec;
}

}  // namespace fcgimux::exchange_detail
