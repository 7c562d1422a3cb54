// SPDX-License-Identifier: ISC
#include "src/front/front_session.hpp"

#include "proto/encoder.hpp"
#include "proto/name_value.hpp"

#include <utility>

namespace fcgimux {

front_session::front_session(session_host& host, const front_limits& limits)
    : host_(host), limits_(limits), decoder_(proto::decoder_limits{limits.max_params, limits.max_reqs}) {
  if (limits_.idle_timeout > clock_type::duration::zero()) idle_since_ = clock_type::now();
}

bool front_session::consume(std::string_view in) {
  while (!in.empty() && !closed_ && why_.empty()) {
    auto d = decoder_.next(in);
    in.remove_prefix(d.consumed);
    if (d.ev.type == proto::event_type::error) {
      why_ = decoder_.error().message();
      break;
    }
    if (d.ev.type != proto::event_type::none) handle(d.ev);
  }
  return why_.empty();
}

void front_session::handle(const proto::event& ev) {
  using proto::event_type;
  switch (ev.type) {
    case event_type::begin_request: on_begin(ev); break;
    case event_type::abort_request: on_abort(ev.request_id); break;
    case event_type::stream_data:
    case event_type::stream_end: on_stream(ev); break;
    case event_type::get_values: on_get_values(ev.data); break;
    case event_type::unknown_record:
      if (ev.request_id == proto::null_request_id) proto::append_unknown_type(out_, ev.record_raw);
      break;
    default: break;  // records only a server sends (STDOUT, END_REQUEST, ...) mean nothing here
  }
}

void front_session::on_begin(const proto::event& ev) {
  bool keep = (ev.flags & proto::flag_keep_conn) != 0;
  auto refuse = [&](proto::protocol_status why) {
    host_.request_refused(ev.request_id, why);
    proto::append_end_request(out_, ev.request_id, 0, why);
    if (!ev.over_limit) decoder_.release(ev.request_id);
    if (!keep) close_after_flush_ = true;
  };
  if (ev.over_limit) return refuse(proto::protocol_status::overloaded);
  if ((proto::role_bit(ev.role) & limits_.roles) == 0) return refuse(proto::protocol_status::unknown_role);
  auto r = host_.open_request(ev.request_id, keep);
  r->role = static_cast<proto::role>(ev.role);
  // An AUTHORIZER has no STDIN (spec 6.3: its front sends none, or an empty one, ignored); only
  // a FILTER has DATA.
  if (r->role == proto::role::authorizer) r->stdin_done = true;
  if (r->role == proto::role::filter) r->data_done = false;
  requests_[ev.request_id] = r;
  // While fcgimux stops, a request on a connection still open is served as long as workers are
  // up to serve it: refusing it would be a 503 for a request that could have been answered.
  if (!host_.taking_requests()) {
    r->params_done = r->stdin_done = r->data_done = true;
    host_.request_unavailable(*r);
    return;
  }
  ++heads_open_;
}

void front_session::on_abort(std::uint16_t id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  auto r = it->second;
  // A request at a worker stays there until the worker ends it (workers ignore ABORT_REQUEST)
  // and its answer is discarded; the front gets its END_REQUEST now in every case.
  r->front_gone = true;
  end_request(*r, 0, proto::protocol_status::request_complete);
  r->notify_exchange();
  host_.request_gone(r);
}

void front_session::on_stream(const proto::event& ev) {
  auto it = requests_.find(ev.request_id);
  if (it == requests_.end()) return;
  auto r = it->second;
  bool end = ev.type == proto::event_type::stream_end;
  switch (ev.record()) {
    case proto::record_type::params:
      if (r->params_done) return;
      if (end) {
        r->params_done = true;
        --heads_open_;
        // Validated here, in the pass that reads them anyway: a pair whose declared length runs
        // past the PARAMS (or a truncated one) never reaches a worker, which might trust it.
        if (!r->note_params()) {
          why_ = "request " + std::to_string(r->front_id) + " sent PARAMS that are not whole name-value pairs";
          return;
        }
      } else {
        r->params.append(ev.data);
      }
      break;
    case proto::record_type::stdin_stream:
      if (r->stdin_done || r->front_gone) return;
      if (end) {
        r->stdin_done = true;
      } else {
        if (!take_input(*r, ev.data)) return;
        r->body_stdin += ev.data.size();
      }
      r->notify_exchange();
      break;
    case proto::record_type::data:
      if (r->data_done || r->front_gone) return;  // not a FILTER's: the other roles have no DATA
      if (!r->stdin_done) {
        // The spec's FILTER reads STDIN to its end before DATA, and every front sends them so:
        // DATA first would have to be held apart, unbounded by the worker, until STDIN ends.
        why_ = "request " + std::to_string(r->front_id) + " sent FCGI_DATA before the end of its STDIN";
        return;
      }
      if (end) {
        r->data_done = true;
      } else if (!take_input(*r, ev.data)) {
        return;
      }
      r->notify_exchange();
      break;
    default: return;
  }
  maybe_submit(r);
}

// STDIN and DATA share one buffer, its bound and its pause: a FILTER's file cannot make fcgimux
// hold more than a body could.
bool front_session::take_input(request& r, std::string_view data) {
  if (!r.params_done && r.body.size() + data.size() > limits_.body_buffer) {
    // The body must follow the PARAMS; buffering it without end would be a memory hole.
    why_ = "request " + std::to_string(r.front_id) + " sent more than --body-buffer of STDIN before its PARAMS";
    return false;
  }
  r.body.append(data);
  // A body past the buffer streams: stop reading this front until the worker takes it.
  if (r.body.size() > limits_.body_buffer) {
    if (should_pause()) {
      pause(pause_body);
    } else if (buffered_body() > limits_.max_reqs * limits_.body_buffer) {
      // Reading cannot pause (another request's worker waits for its body from this
      // connection), so nothing else bounds what this front makes fcgimux hold: the same
      // total a multiplexing front reaches while pausing works, and no more.
      why_ = "the front sent more than --max-reqs x --body-buffer of STDIN and DATA that no worker has taken";
      return false;
    }
  }
  return true;
}

void front_session::maybe_submit(const std::shared_ptr<request>& r) {
  if (r->state != request_state::reading || !r->params_done) return;
  if (!limits_.status_path.empty() && r->script_name == limits_.status_path) return host_.status_request(*r);
  if (!limits_.ping_path.empty() && r->script_name == limits_.ping_path) return host_.status_request(*r);
  if (!r->input_done() && r->body.size() < limits_.body_buffer) return;
  host_.request_ready(r);
  // At a worker now, it may be the one a paused connection was waiting for.
  update_pause();
}

bool front_session::should_pause() const noexcept {
  // Pause for a body past --body-buffer, but never while a request already at a worker still
  // waits for body bytes from this connection: on a multiplexed connection that would deadlock.
  bool over_full = false;
  for (auto& [id, q] : requests_) {
    if (q->input_done() || q->front_gone) continue;
    if (q->state == request_state::at_worker && q->body.size() <= limits_.body_buffer) return false;
    if (q->body.size() > limits_.body_buffer) over_full = true;
  }
  return over_full;
}

clock_type::time_point front_session::oldest_head() const noexcept {
  auto oldest = clock_type::time_point::max();
  for (auto& [id, q] : requests_)
    if (!q->params_done && q->accepted_at < oldest) oldest = q->accepted_at;
  return oldest;
}

std::size_t front_session::buffered_body() const noexcept {
  std::size_t total = 0;
  for (auto& [id, q] : requests_) total += q->body.size();
  return total;
}

void front_session::update_pause() {
  if (!paused_for(pause_body) || should_pause()) return;
  resume(pause_body);
}

void front_session::resume(pause_reason why) {
  if (!paused_for(why)) return;
  pause_ &= static_cast<std::uint8_t>(~why);
  if (pause_ == 0) host_.reading_resumed();
}

void front_session::on_get_values(std::string_view query) {
  std::string block;
  proto::name_value_reader rd(query);
  proto::name_value nv;
  // Each known variable is answered once, however often it is asked: the answer stays a few
  // bytes, whatever the query's size.
  bool conns = false, reqs = false, mpxs = false;
  while (rd.next(nv)) {
    if (nv.name == proto::var_max_conns && !std::exchange(conns, true))
      proto::append_name_value(block, nv.name, std::to_string(limits_.max_conns));
    else if (nv.name == proto::var_max_reqs && !std::exchange(reqs, true))
      proto::append_name_value(block, nv.name, std::to_string(limits_.max_reqs));
    else if (nv.name == proto::var_mpxs_conns && !std::exchange(mpxs, true))
      proto::append_name_value(block, nv.name, "1");
  }
  proto::append_management(out_, proto::record_type::get_values_result, block);
}

void front_session::send_stream(request& r, proto::record_type type, std::string_view data) {
  if (closed_ || r.front_gone) return;
  proto::append_stream(out_, type, r.front_id, data);
}

void front_session::end_request(request& r, std::uint32_t app_status, proto::protocol_status status) {
  if (closed_) return;
  proto::append_stream_end(out_, proto::record_type::stdout_stream, r.front_id);
  proto::append_end_request(out_, r.front_id, app_status, status);
  forget(r);
  if (!r.keep_conn) close_after_flush_ = true;
}

void front_session::abandon(request& r) {
  forget(r);
  close_after_flush_ = true;
}

void front_session::forget(request& r) {
  auto it = requests_.find(r.front_id);
  if (it != requests_.end() && it->second.get() == &r) {
    requests_.erase(it);
    decoder_.release(r.front_id);
    if (!r.params_done) --heads_open_;
    if (requests_.empty()) {
      // An idle kept connection gives back the map's bucket array (a malloc on its next request).
      decltype(requests_)().swap(requests_);
      if (limits_.idle_timeout > clock_type::duration::zero()) idle_since_ = clock_type::now();
    }
  }
  update_pause();
  if (draining_ && requests_.empty()) close_after_flush_ = true;
}

void front_session::drain() {
  draining_ = true;
  if (requests_.empty()) close_after_flush_ = true;
}

void front_session::close() {
  if (closed_) return;
  closed_ = true;
  pause_ = 0;
  heads_open_ = 0;
  auto open = std::move(requests_);
  requests_.clear();
  for (auto& [id, r] : open) {
    r->front_gone = true;
    r->notify_exchange();
    if (r->state != request_state::done) host_.request_gone(r);
  }
}

}  // namespace fcgimux
