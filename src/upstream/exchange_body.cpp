// SPDX-License-Identifier: ISC
// A body larger than --body-buffer, streamed to the member beside the reader as the front delivers it.
#include "src/upstream/exchange_state.hpp"

#include "src/base/invariant.hpp"
#include "src/base/send_now.hpp"

#include <asio/co_spawn.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>

#include <algorithm>

namespace fcgimux::exchange_detail {

// Cancels what the worker's socket is doing: a body write the worker does not take, or the
// read of a worker past its time.
void interrupt_worker_io(pool_member& w) {
  std::error_code ignore;
  if (w.conn) w.conn->cancel(ignore);
}

// Streams the rest of a body larger than --body-buffer as the front delivers it. It runs beside
// the reader and leaves as soon as the exchange is over(): the reader's end and the request timer
// wake its wait and cancel its write.
asio::awaitable<void> write_body(exchange_ctx& x) {
  pool_member& w = x.w;
  request& r = x.r;
  exchange_result& res = x.res;
  std::string chunk;
  while (!x.over()) {
    chunk.clear();
    // When the front is gone the rest of the body never comes: its streams are closed so that
    // the worker finishes the request, and the exchange drains its answer before reusing it.
    const bool last = r.append_input(chunk, worker_request_id, res.sent_ends, r.front_gone);
    if (!r.body.empty()) {
      if (!res.body_streamed && res.sent_body.size() + r.body.size() <= res.sent_limit) {
        res.sent_body += r.body;
        res.sent_stdin += r.body_stdin;
      } else {
        // More than the socket can hold unread: the worker has read part of the body, which
        // fcgimux no longer needs to keep.
        res.body_streamed = true;
        std::string().swap(res.sent_body);
        res.sent_stdin = 0;
      }
      r.input_taken();
      if (auto c = r.conn.lock()) c->body_consumed(r);
    }
    if (chunk.empty()) {
      if (last) {
        res.writer_done = true;
        co_return;
      }
      co_await x.body_event->wait();
      continue;
    }
    auto [ec, n] = co_await asio::async_write(*w.conn, asio::buffer(chunk), use_tuple);
    if (ec) {
      // Cancelled because the exchange is over, or a real error: then the reader must end too.
      if (!x.over()) {
        res.ec = ec;
        interrupt_worker_io(w);
      }
      co_return;
    }
    if (last) {
      res.writer_done = true;
      co_return;
    }
  }
}

void start_body_writer(exchange_ctx& x, const asio::any_io_executor& ex) {
  x.body_event.emplace(ex);
  x.writer_left.emplace(ex);
  x.body_listener.signal = &*x.body_event;
  x.r.front_event = &x.body_listener;
  x.res.writer_done = false;
  x.writer_running = true;
  asio::co_spawn(ex, write_body(x), [&x](std::exception_ptr e) {
    if (e) {
      log::on_exception("a request body writer")(e);
      if (!x.over()) {
        x.res.ec = std::make_error_code(std::errc::io_error);
        interrupt_worker_io(x.w);
      }
    }
    x.writer_running = false;
    x.writer_left->notify();
  });
}

// The reader is done: the writer must not go on writing a body nobody will read.
asio::awaitable<void> stop_body_writer(exchange_ctx& x) {
  if (!x.writer_left) co_return;
  if (x.writer_running) {
    interrupt_worker_io(x.w);
    x.body_event->notify();
    while (x.writer_running) co_await x.writer_left->wait();
  }
  x.r.front_event = nullptr;
}

}  // namespace fcgimux::exchange_detail
