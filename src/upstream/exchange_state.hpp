// SPDX-License-Identifier: ISC
#pragma once
// What the parts of one exchange share (exchange.cpp: the reader and the outcome;
// exchange_body.cpp: a streamed body; exchange_send.cpp: the connect and the request's head).
// Inside upstream/ only: others use exchange.hpp.

#include "proto/protocol.hpp"
#include "src/base/event_signal.hpp"
#include "src/core/front_port.hpp"
#include "src/core/request.hpp"
#include "src/upstream/exchange_home.hpp"
#include "src/upstream/member.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

namespace fcgimux::exchange_detail {

using socket_type = asio::generic::stream_protocol::socket;
inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// fcgimux's own id towards a worker: workers never see two requests at once on a connection.
inline constexpr std::uint16_t worker_request_id = 1;
// Every resend is one the kernel proved unread, so the limit only stops a loop; it must be high
// enough for a request to meet several workers recycling themselves at the same moment.
inline constexpr int max_attempts = 8;
inline constexpr std::size_t read_buffer_size = 64 * 1024;

struct exchange_result {
  bool connect_failed = false;
  bool response_bytes = false;  // any byte came back from the worker
  bool got_end = false;
  bool writer_done = true;  // every STDIN byte was written
  bool timed_out = false;
  bool body_streamed = false;  // body bytes fcgimux no longer holds went to the worker: no resend
  bool keep_conn = false;      // FCGI_KEEP_CONN was asked of the worker
  bool stdin_closed = false;   // the head holds the whole body and its end
  bool had_body = false;       // body bytes (or a body still arriving) went with the request
  std::uint32_t app_status = 0;
  proto::protocol_status status = proto::protocol_status::request_complete;
  std::error_code ec;
  std::string head;  // BEGIN_REQUEST, PARAMS and (a buffered) STDIN, once built
  std::size_t head_written = 0;
  // The streamed body bytes written to this worker so far, kept while they all fit in what the
  // socket holds unread (sent_limit): until then a worker that closes without reading a byte
  // (php-cgi retiring as the request arrives) leaves fcgimux all it needs to send it elsewhere.
  std::string sent_body;
  std::size_t sent_stdin = 0;  // how much of sent_body is STDIN (the rest is a FILTER's DATA)
  std::size_t sent_limit = 0;
  request::input_sent sent_ends;  // which input streams' ends this worker was sent
  // The worker answered outside the protocol (garbage, a stray id or type, a bad head): what it
  // did, for the log; the request gets 502 (or is cut off) and the worker is replaced.
  std::string broken;
  bool broken_after_end = false;  // a whole answer, then more bytes: delivered, worker replaced
  int http_status = 0;            // from the answer's head
};

// What the reader, the body writer and the request timer of one exchange share. It lives in the
// exchange's frame, which outlives the writer: the exchange waits for the writer to leave.
struct exchange_ctx {
  exchange_ctx(exchange_home& s, pool_member& wk, request& rq, exchange_result& rs, const asio::any_io_executor& ex)
      : pool(s), w(wk), r(rq), res(rs), timer(ex) {}
  exchange_home& pool;
  pool_member& w;
  request& r;
  exchange_result& res;
  asio::steady_timer timer;                // --request-timeout, armed when set
  std::optional<event_signal> body_event;  // a streamed body: STDIN arrived, the front left, or the end
  struct body_wakeup final : front_listener {
    event_signal* signal = nullptr;
    void front_changed() override { signal->notify(); }
  } body_listener;
  std::optional<event_signal> writer_left;
  bool reader_done = false;
  bool writer_running = false;
  bool timer_pending = false;  // the timer's handler has yet to run

  // Every wait of the exchange is for one of these, and each wait re-checks them when woken:
  // nothing depends on a cancellation arriving while the waiter is between two operations.
  bool over() const noexcept { return reader_done || res.timed_out; }
};

// exchange_body.cpp
/// Cancels what the member's socket is doing: a body write it does not take, or a read past its time.
void interrupt_worker_io(pool_member& w);
void start_body_writer(exchange_ctx& x, const asio::any_io_executor& ex);
asio::awaitable<void> stop_body_writer(exchange_ctx& x);

// exchange_send.cpp
void send_head(exchange_home& pool, pool_member& w, request& r, exchange_result& res);
asio::awaitable<std::error_code> connect_within(pool_member& w, const asio::any_io_executor& ex);

}  // namespace fcgimux::exchange_detail
