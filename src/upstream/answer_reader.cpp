// SPDX-License-Identifier: ISC
#include "src/upstream/answer_reader.hpp"

namespace fcgimux {

answer_reader::step answer_reader::fail(std::string why) {
  why_ = std::move(why);
  final_ = step_kind::broken;
  return {final_, {}, {}};
}

answer_reader::step answer_reader::next(std::string_view& in) {
  if (final_ != step_kind::need_more) return {final_, {}, {}};
  while (!in.empty()) {
    auto d = decoder_.next(in);
    in.remove_prefix(d.consumed);
    const proto::event& ev = d.ev;
    switch (ev.type) {
      case proto::event_type::none: continue;
      case proto::event_type::error:
        return fail("sent bytes that are not FastCGI (" + decoder_.error().message() + ")");
      case proto::event_type::end_request:
      case proto::event_type::stream_data:
      case proto::event_type::stream_end: break;
      default: return fail("sent a record of type " + std::to_string(ev.record_raw) + " in its answer");
    }
    auto type = ev.record();
    if (ev.type != proto::event_type::end_request && type != proto::record_type::stdout_stream &&
        type != proto::record_type::stderr_stream)
      return fail("sent a record of type " + std::to_string(ev.record_raw) + " in its answer");
    if (ev.request_id != id_)
      return fail("sent a record for request id " + std::to_string(ev.request_id) + ", which fcgimux never sent it");
    if (ev.type == proto::event_type::end_request) {
      app_status_ = ev.app_status;
      status_ = ev.status;
      if (status_ == proto::protocol_status::request_complete && !head_.head_complete())
        return fail(got_stdout_ ? "ended a request whose answer has no complete head"
                                : "ended a request without answering it");
      final_ = step_kind::end;
      return {final_, {}, {}};
    }
    if (ev.type != proto::event_type::stream_data) continue;
    if (type == proto::record_type::stderr_stream) return {step_kind::relay, type, ev.data};
    got_stdout_ = true;
    if (head_.head_complete()) return {step_kind::relay, type, ev.data};
    // The head is checked before a byte of the answer goes out, so that a bad one can still be
    // answered 502; a head that came whole (nearly always) is relayed where it lies.
    switch (head_.feed(ev.data)) {
      case head_verdict::incomplete: continue;
      case head_verdict::too_large:
        return fail("answered with a head larger than " + std::to_string(response_sniffer::max_head) + " bytes");
      case head_verdict::bad_status: return fail("answered with an invalid Status line");
      case head_verdict::ok: break;
    }
    held_ = head_.take_held();
    return {step_kind::relay, type, held_.empty() ? ev.data : std::string_view(held_)};
  }
  return {step_kind::need_more, {}, {}};
}

}  // namespace fcgimux
