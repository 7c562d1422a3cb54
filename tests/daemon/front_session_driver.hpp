// SPDX-License-Identifier: ISC
#pragma once
// Drives a front_session the way fcgimux does, with the rest of fcgimux replaced by a model: a
// queue, workers that take queued requests and answer or fail them, and checks of the promises
// a front connection makes: a request ends once, nothing is sent for an id the front did not
// open (or after its END_REQUEST), and once the front and every worker are done, every request
// has ended. Shared by tests/daemon/test_front_session.cpp and fuzz/fuzz_front_session.cpp; it
// reports a broken promise through `fail`, so it needs no test framework.

#include "proto/decoder.hpp"
#include "src/core/request_home.hpp"
#include "src/front/front_session.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace fcgimux::test {

class front_session_driver final : private session_host, private request_home {
 public:
  explicit front_session_driver(front_limits limits, std::function<void(const char*)> fail)
      : fail_(std::move(fail)), limits_(std::move(limits)), session_(*this, limits_) {}

  bool taking = true;  ///< what taking_requests() answers

  /// Bytes from the front; false once the session refused them (the connection closes).
  bool feed(std::string_view bytes) {
    if (session_.closed()) return false;
    bool ok = session_.consume(bytes);
    check_output();
    if (!ok) close();
    return ok;
  }
  /// The scheduler hands the oldest queued request to a worker.
  void dispatch() {
    if (queue_.empty()) return;
    auto r = queue_.front();
    queue_.pop_front();
    r->state = request_state::at_worker;
    at_worker_.push_back(r);
  }
  /// The worker of the oldest request at a worker takes its body and answers it (`answer`), or
  /// fails it after output went out (cut off) or before (502).
  enum class worker_end { answer, fail_before_output, fail_after_output };
  void worker_finishes(worker_end how, std::string_view output) {
    if (at_worker_.empty()) return;
    auto r = at_worker_.front();
    r->input_taken();
    session_.body_consumed();
    if (!r->input_done() && !r->front_gone) return;  // it waits for the rest of its body
    at_worker_.erase(at_worker_.begin());
    if (how == worker_end::fail_after_output && !r->front_gone) {
      session_.send_stream(*r, proto::record_type::stdout_stream, output);
      r->front_gone = true;
      session_.abandon(*r);
      finish(*r);
    } else {
      if (how == worker_end::answer) session_.send_stream(*r, proto::record_type::stdout_stream, output);
      finish(*r);
    }
    check_output();
  }
  /// The front connection closes.
  void close() {
    session_.close();
    check_output();
  }
  /// fcgimux starts stopping.
  void drain() {
    session_.drain();
    check_output();
  }
  /// The end of the story: the front closes, the queue is given up, every worker ends.
  void finish_all() {
    close();
    while (!at_worker_.empty()) {
      auto r = at_worker_.front();
      r->front_gone = true;
      r->stdin_done = r->data_done = true;
      worker_finishes(worker_end::answer, "");
    }
    for (auto& r : opened_)
      if (r->state != request_state::done) fail_("a request never ended");
    if (!queue_.empty()) fail_("a request stayed queued after its front left");
  }

  std::size_t opened() const noexcept { return opened_.size(); }
  /// Every request opened, in order.
  const std::vector<std::shared_ptr<request>>& requests() const noexcept { return opened_; }
  std::size_t ended() const noexcept { return ended_; }
  std::size_t queued() const noexcept { return queue_.size(); }
  std::size_t at_worker() const noexcept { return at_worker_.size(); }
  front_session& session() noexcept { return session_; }
  /// Records decoded from what the session produced so far.
  const std::vector<proto::event_type>& answers() const noexcept { return answer_types_; }
  const std::string& stdout_of(std::uint16_t id) { return stdout_[id]; }
  /// Ids that got an END_REQUEST, in order.
  const std::vector<std::uint16_t>& ended_ids() const noexcept { return ended_ids_; }

 private:
  // The model of fcgimux's side of a request's life (client_connection's session_host, the
  // scheduler and finish_request).
  std::shared_ptr<request> open_request(std::uint16_t id, bool keep) override {
    read_output();  // an END_REQUEST for the id may be waiting in the output of this same read
    if (open_ids_.count(id)) fail_("a request opened for an id that is still open");
    open_ids_.insert(id);
    auto r = std::make_shared<request>(std::weak_ptr<front_port>(), static_cast<request_home&>(*this), id, keep);
    opened_.push_back(r);
    return r;
  }
  void request_refused(std::uint16_t id, proto::protocol_status) override { refused_ids_.insert(id); }
  bool taking_requests() const override { return taking; }
  void request_unavailable(request& r) override { answer_now(r); }
  void request_ready(const std::shared_ptr<request>& r) override {
    if (r->state != request_state::reading) fail_("a request was handed on twice");
    r->state = request_state::queued;
    queue_.push_back(r);
  }
  void status_request(request& r) override { answer_now(r); }
  void request_gone(const std::shared_ptr<request>& r) override {
    if (r->state == request_state::done) fail_("a finished request was given up");
    if (r->state == request_state::queued) {
      auto it = std::find(queue_.begin(), queue_.end(), r);
      if (it == queue_.end())
        fail_("a queued request was not in the queue");
      else
        queue_.erase(it);
    }
    if (r->state != request_state::at_worker) finish(*r);
  }
  void reading_resumed() override {}

  void answer_now(request& r) {
    session_.send_stream(r, proto::record_type::stdout_stream, "Status: 503\r\n\r\n");
    finish(r);
  }
  // The model ends requests itself (finish below), never through finish_request().
  void request_finished(request&, int) override { fail_("the model's requests end in finish()"); }

  // finish_request(): END_REQUEST if the front still waits; exactly once.
  void finish(request& r) {
    if (r.state == request_state::done) fail_("a request ended twice");
    if (!r.front_gone) session_.end_request(r, 0, proto::protocol_status::request_complete);
    r.state = request_state::done;
    ++ended_;
  }

  // Reads what the session wrote, then does what client_connection::flush() does once it is written.
  void check_output() {
    read_output();
    if (session_.close_after_flush() && !session_.closed()) session_.close();
  }

  // Reads what the session wrote as a front would, and checks each record's id.
  void read_output() {
    std::string& out = session_.output();
    out_seen_.append(out);
    out.clear();
    std::string_view in = std::string_view(out_seen_).substr(out_pos_);
    while (!in.empty()) {
      auto d = reader_.next(in);
      out_pos_ += d.consumed;
      in.remove_prefix(d.consumed);
      const proto::event& ev = d.ev;
      if (ev.type == proto::event_type::none) continue;
      if (ev.type == proto::event_type::error) {
        fail_("the session wrote bytes that are not FastCGI");
        return;
      }
      answer_types_.push_back(ev.type);
      if (ev.request_id == proto::null_request_id) continue;  // management answers
      bool refused = refused_ids_.count(ev.request_id) > 0;
      if (!open_ids_.count(ev.request_id) && !refused) fail_("a record for an id the front has not open");
      if (ev.type == proto::event_type::stream_data) stdout_[ev.request_id].append(ev.data);
      if (ev.type == proto::event_type::end_request) {
        ended_ids_.push_back(ev.request_id);
        if (refused)
          refused_ids_.erase(refused_ids_.find(ev.request_id));
        else
          open_ids_.erase(ev.request_id);
      }
    }
  }

  std::function<void(const char*)> fail_;
  front_limits limits_;
  front_session session_;
  std::deque<std::shared_ptr<request>> queue_;
  std::vector<std::shared_ptr<request>> at_worker_;
  std::vector<std::shared_ptr<request>> opened_;
  std::set<std::uint16_t> open_ids_;
  std::multiset<std::uint16_t> refused_ids_;  // each refusal is answered once
  std::size_t ended_ = 0;
  std::string out_seen_;
  std::size_t out_pos_ = 0;
  proto::decoder reader_;
  std::vector<proto::event_type> answer_types_;
  std::map<std::uint16_t, std::string> stdout_;
  std::vector<std::uint16_t> ended_ids_;
};

}  // namespace fcgimux::test
