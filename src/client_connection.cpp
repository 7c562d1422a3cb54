#include "src/client_connection.hpp"

#include "proto/encoder.hpp"
#include "proto/name_value.hpp"
#include "src/backend_connection.hpp"
#include "src/log.hpp"
#include "src/scheduler.hpp"
#include "src/send_now.hpp"
#include "src/server.hpp"

#include <nlohmann/json.hpp>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <fmt/format.h>

#include <vector>

namespace fcgimux {
namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t shrink_above = 64 * 1024;
constexpr int drain_rounds = 4;  // of the server's 64 KiB buffer per turn

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

}  // namespace

client_connection::client_connection(server& srv, socket_type sock)
    : srv_(srv),
      sock_(std::move(sock)),
      decoder_(proto::decoder_limits{srv.cfg.max_params, srv.cfg.max_reqs}),
      writable_(srv.io.get_executor()),
      resume_reading_(srv.io.get_executor()) {}

client_connection::~client_connection() = default;

void client_connection::start() {
  auto self = shared_from_this();
  asio::co_spawn(srv_.io, [self]() { return self->read_loop(); }, log::on_exception("a front connection's reader"));
}

asio::awaitable<void> client_connection::read_loop() {
  // Records are handled synchronously, straight after each read: no view into a buffer lives
  // across a co_await. A pending read needs a buffer of its own, so each connection has a small
  // one (an idle connection costs kilobytes); what does not fit is drained at once into the
  // server's one large buffer. A read rather than a wait for readiness: Asio re-arms a wait with
  // an epoll_ctl every time, while a read after one that emptied the socket costs no system call.
  std::error_code ignore;
  sock_.non_blocking(true, ignore);
  std::vector<char>& big = srv_.front_read_buffer;
  while (open_) {
    while (paused_ && open_) co_await resume_reading_.wait();
    if (!open_) break;
    auto [ec, n] = co_await sock_.async_read_some(asio::buffer(inbox_), use_tuple);
    if (!ec) consume({inbox_.data(), n});
    // Bounded, so that one fast sender cannot hold the loop: the next read completes at once
    // but behind every other connection's ready handlers.
    for (int round = 0; !ec && n == inbox_.size() && round < drain_rounds && open_ && !paused_; ++round) {
      n = sock_.read_some(asio::buffer(big), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = {};
        break;
      }
      if (!ec) consume({big.data(), n});
      if (n < big.size()) break;
    }
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted)
        log::debug("front connection read: {}", ec.message());
      break;
    }
  }
  close();
}

void client_connection::consume(std::string_view in) {
  while (!in.empty() && open_) {
    auto d = decoder_.next(in);
    in.remove_prefix(d.consumed);
    if (d.ev.type == proto::event_type::error) {
      log::info("closing a front connection: {}", decoder_.error().message());
      open_ = false;
      return;
    }
    if (d.ev.type != proto::event_type::none) handle(d.ev);
  }
  flush();  // the answers to management records, refusals, --status-path
}

void client_connection::flush() {
  if (!open_ || writer_active_) return;
  if (!out_.empty()) {
    // Only what the front cannot take at once goes to a writer coroutine.
    std::string_view unsent = out_;
    if (auto ec = send_now(sock_.native_handle(), unsent)) {
      log::debug("front connection write: {}", ec.message());
      close();
      return;
    }
    out_.erase(0, out_.size() - unsent.size());
    if (!out_.empty()) {
      writer_active_ = true;
      asio::co_spawn(srv_.io, write_rest(), log::on_exception("a front connection's writer"));
      return;
    }
    // An idle kept-alive connection should not hold on to the memory of its largest answer.
    if (out_.capacity() > shrink_above && requests_.empty()) std::string().swap(out_);
  }
  if (close_after_flush_) close();
}

asio::awaitable<void> client_connection::write_rest() {
  auto self = shared_from_this();  // the writer may outlive the reader while it flushes
  std::error_code ec;
  // Piece by piece, not one async_write: every byte the front takes restarts --send-timeout.
  while (open_ && !ec && (written_ < writing_.size() || !out_.empty())) {
    if (written_ == writing_.size()) {
      writing_.clear();
      written_ = 0;
      std::swap(out_, writing_);
    }
    arm_send_timer();
    std::size_t n;
    std::tie(ec, n) =
        co_await sock_.async_write_some(asio::buffer(writing_.data() + written_, writing_.size() - written_), use_tuple);
    written_ += n;
    writable_.notify();
  }
  writing_.clear();
  written_ = 0;
  // A kept-alive connection should not hold on to the memory of its largest answer.
  if (writing_.capacity() > shrink_above) writing_.shrink_to_fit();
  if (send_timer_) send_timer_->cancel();
  writer_active_ = false;
  if (ec || close_after_flush_) close();
}

void client_connection::arm_send_timer() {
  if (srv_.cfg.send_timeout <= 0) return;
  if (!send_timer_) send_timer_ = std::make_unique<asio::steady_timer>(srv_.io);
  send_timer_->expires_after(std::chrono::duration_cast<clock_type::duration>(
      std::chrono::duration<double>(srv_.cfg.send_timeout)));
  send_timer_->async_wait([self = shared_from_this()](const std::error_code& ec) {
    if (ec || !self->open_) return;
    log::info("closing a front connection that took no output for {} s (--send-timeout)", self->srv_.cfg.send_timeout);
    self->close();
  });
}

void client_connection::close() {
  if (!sock_.is_open() && !open_) return;
  open_ = false;
  std::error_code ignore;
  sock_.close(ignore);  // no shutdown() first: close sends the same EOF, one system call less
  if (send_timer_) send_timer_->cancel();
  writable_.notify();
  resume_reading_.notify();
  auto open_requests = std::move(requests_);
  requests_.clear();
  for (auto& [id, r] : open_requests) {
    r->front_gone = true;
    r->notify_exchange();
    switch (r->state) {
      case request_state::reading:
        ++srv_.st.c.requests_aborted;
        finish_request(srv_, *r, 0, 0);
        break;
      case request_state::queued:
        srv_.sched.cancel(*r);
        ++srv_.st.c.requests_aborted;
        finish_request(srv_, *r, 0, 0);
        break;
      case request_state::at_worker:
        ++srv_.st.c.requests_aborted;  // its exchange drains the worker and ends it
        watch_abandoned(srv_, r);
        break;
      case request_state::done:
        break;
    }
  }
  srv_.remove_connection(this);
}

void client_connection::handle(const proto::event& ev) {
  using proto::event_type;
  switch (ev.type) {
    case event_type::begin_request: on_begin(ev); break;
    case event_type::abort_request: on_abort(ev.request_id); break;
    case event_type::stream_data:
    case event_type::stream_end: on_stream(ev); break;
    case event_type::get_values: on_get_values(ev.data); break;
    case event_type::unknown_record:
      if (ev.request_id == proto::null_request_id) {
        proto::append_unknown_type(out_, ev.record_raw);
      }
      break;
    default:
      break;  // records only a server sends (STDOUT, END_REQUEST, ...) mean nothing here
  }
}

void client_connection::on_begin(const proto::event& ev) {
  ++srv_.st.c.requests_accepted;
  bool keep = (ev.flags & proto::flag_keep_conn) != 0;
  auto refuse = [&](proto::protocol_status why) {
    ++srv_.st.c.requests_rejected;
    ++srv_.st.c.requests_completed;
    proto::append_end_request(out_, ev.request_id, 0, why);
    if (!ev.over_limit) decoder_.release(ev.request_id);
    if (!keep) close_after_flush();
  };
  if (ev.over_limit) return refuse(proto::protocol_status::overloaded);
  if (ev.role != static_cast<std::uint16_t>(proto::role::responder))
    return refuse(proto::protocol_status::unknown_role);
  auto r = std::make_shared<request>(weak_from_this(), ev.request_id, keep);
  ++srv_.live_requests;
  requests_[ev.request_id] = r;
  // While fcgimux stops, a request on a connection still open is served as long as workers are
  // up to serve it: refusing it would be a 503 for a request that could have been answered.
  if (srv_.stopping() && !srv_.pool.can_take_requests()) {
    r->params_done = r->stdin_done = true;
    ++srv_.st.c.requests_rejected;
    respond_error(srv_, *r, 503, "fcgimux is shutting down");
  }
}

void client_connection::on_abort(std::uint16_t id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  auto r = it->second;
  ++srv_.st.c.requests_aborted;
  if (r->state == request_state::queued) srv_.sched.cancel(*r);
  if (r->state == request_state::at_worker) {
    // The worker keeps the request until it ends it (workers ignore ABORT_REQUEST); its answer is
    // discarded. The front gets its END_REQUEST now, and the exchange only counts the end.
    end_request(*r, 0, proto::protocol_status::request_complete);
    r->front_gone = true;
    r->notify_exchange();
    watch_abandoned(srv_, r);
    return;
  }
  r->front_gone = true;
  end_request(*r, 0, proto::protocol_status::request_complete);
  finish_request(srv_, *r, 0, 0);
}

void client_connection::on_stream(const proto::event& ev) {
  auto it = requests_.find(ev.request_id);
  if (it == requests_.end()) return;
  auto r = it->second;
  bool end = ev.type == proto::event_type::stream_end;
  switch (ev.record()) {
    case proto::record_type::params:
      if (r->params_done) return;
      if (end) {
        r->params_done = true;
        r->note_params();
      } else {
        r->params.append(ev.data);
      }
      break;
    case proto::record_type::stdin_stream:
      if (r->stdin_done || r->front_gone) return;
      if (end) {
        r->stdin_done = true;
      } else {
        if (!r->params_done && r->body.size() + ev.data.size() > srv_.cfg.body_buffer) {
          // The body must follow the PARAMS; buffering it without end would be a memory hole.
          log::info("closing a front connection: request {} sent more than --body-buffer of STDIN before its PARAMS",
                    r->front_id);
          open_ = false;
          return;
        }
        r->body.append(ev.data);
        // A body past the buffer streams: stop reading this front until the worker takes it.
        if (r->body.size() > srv_.cfg.body_buffer) paused_ = should_pause();
      }
      r->notify_exchange();
      break;
    default:
      return;  // DATA belongs to the FILTER role, which is refused at BEGIN_REQUEST
  }
  maybe_submit(r);
}

void client_connection::maybe_submit(const std::shared_ptr<request>& r) {
  if (r->state != request_state::reading || !r->params_done) return;
  if (!srv_.cfg.status_path.empty() && r->script_name == srv_.cfg.status_path) return answer_status(*r);
  if (!r->stdin_done && r->body.size() < srv_.cfg.body_buffer) return;
  srv_.sched.submit(r);
  // At a worker now, it may be the one a paused connection was waiting for.
  update_pause();
}

void client_connection::body_consumed(request&) { update_pause(); }

void client_connection::answer_status(request& r) {
  auto q = proto::find_name_value(r.params, "QUERY_STRING").value;
  if (q == "metrics")
    respond(srv_, r, 200, "text/plain; version=0.0.4", srv_.st.to_prometheus());
  else
    respond(srv_, r, 200, "application/json", srv_.st.to_json(q == "full").dump());
}

bool client_connection::should_pause() const noexcept {
  // Pause for a body past --body-buffer, but never while a request already at a worker still
  // waits for body bytes from this connection: on a multiplexed connection that would deadlock.
  bool over_full = false;
  for (auto& [id, q] : requests_) {
    if (q->stdin_done || q->front_gone) continue;
    if (q->state == request_state::at_worker && q->body.size() <= srv_.cfg.body_buffer) return false;
    if (q->body.size() > srv_.cfg.body_buffer) over_full = true;
  }
  return over_full;
}

void client_connection::update_pause() {
  if (!paused_ || should_pause()) return;
  paused_ = false;
  resume_reading_.notify();
}

void client_connection::on_get_values(std::string_view query) {
  std::string block;
  proto::name_value_reader rd(query);
  proto::name_value nv;
  while (rd.next(nv)) {
    if (nv.name == proto::var_max_conns)
      proto::append_name_value(block, nv.name, std::to_string(srv_.cfg.max_conns));
    else if (nv.name == proto::var_max_reqs)
      proto::append_name_value(block, nv.name, std::to_string(srv_.cfg.max_reqs));
    else if (nv.name == proto::var_mpxs_conns)
      proto::append_name_value(block, nv.name, "1");
  }
  proto::append_management(out_, proto::record_type::get_values_result, block);
}

void client_connection::send_stream(request& r, proto::record_type type, std::string_view data) {
  if (!open_ || r.front_gone) return;
  proto::append_stream(out_, type, r.front_id, data);
}

void client_connection::end_request(request& r, std::uint32_t app_status, proto::protocol_status status) {
  if (!open_) return;
  proto::append_stream_end(out_, proto::record_type::stdout_stream, r.front_id);
  proto::append_end_request(out_, r.front_id, app_status, status);
  forget(r);
  if (!r.keep_conn)
    close_after_flush();
  else
    flush();
}

void client_connection::forget(request& r) {
  auto it = requests_.find(r.front_id);
  if (it != requests_.end() && it->second.get() == &r) {
    requests_.erase(it);
    decoder_.release(r.front_id);
  }
  update_pause();
  if (draining_ && requests_.empty()) close_after_flush_ = true;
}

void client_connection::abandon(request& r) {
  forget(r);
  close_after_flush();
}

void client_connection::close_after_flush() {
  close_after_flush_ = true;
  flush();
}

bool client_connection::congested() const noexcept {
  return out_.size() + writing_.size() - written_ > srv_.cfg.output_buffer;
}

asio::awaitable<void> client_connection::wait_writable() {
  auto self = shared_from_this();
  flush();
  if (open_ && congested()) co_await writable_.wait();
}

void client_connection::drain() {
  draining_ = true;
  if (requests_.empty()) close_after_flush();
}

void finish_request(server& srv, request& r, std::uint32_t app_status, int http_status) {
  if (r.state == request_state::done) return;
  if (auto c = r.conn.lock(); c && !r.front_gone) c->end_request(r, app_status, proto::protocol_status::request_complete);
  r.state = request_state::done;
  // An answer nobody received is not a response: it is counted as aborted instead.
  srv.on_request_done(r.front_gone ? 0 : http_status);
}

void respond(server& srv, request& r, int status, std::string_view content_type, std::string_view body) {
  if (r.state == request_state::done) return;
  auto c = r.conn.lock();
  if (c && !r.front_gone) {
    std::string head = fmt::format("Status: {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}\r\n", status,
                                   reason_phrase(status), content_type, body.size(),
                                   status == 503 ? "Retry-After: 1\r\n" : "");
    c->send_stream(r, proto::record_type::stdout_stream, head);
    c->send_stream(r, proto::record_type::stdout_stream, body);
  }
  finish_request(srv, r, 0, status);
}

void respond_error(server& srv, request& r, int status, std::string_view message) {
  respond(srv, r, status, "text/plain", fmt::format("{} {}: {}\n", status, reason_phrase(status), message));
}

}  // namespace fcgimux
