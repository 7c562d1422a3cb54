// SPDX-License-Identifier: ISC
#include "proto/decoder.hpp"

#include "proto/name_value.hpp"

#include <algorithm>
#include <cstring>

namespace fcgimux::proto {
namespace {

std::uint16_t be16(const unsigned char* p) noexcept { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

std::uint32_t be32(const unsigned char* p) noexcept {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
         (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}

bool needs_whole_body(std::uint8_t t) noexcept {
  return t == static_cast<std::uint8_t>(record_type::begin_request) ||
         t == static_cast<std::uint8_t>(record_type::end_request) || is_management_type(t);
}

}  // namespace

// No table up front: 64 entries reserved here were 1 KiB of every idle front connection. It is
// made by the first BEGIN_REQUEST and then kept, so that a warmed-up decoder never allocates
// (tests/proto/test_allocation.cpp); a connection that never sent a request holds none.
decoder::decoder(decoder_limits limits) : limits_(limits) {}

bool decoder::is_active(std::uint16_t id) const noexcept {
  return std::any_of(active_.begin(), active_.end(), [id](const active_request& r) { return r.id == id; });
}

decoder::active_request* decoder::find(std::uint16_t id) noexcept {
  for (auto& r : active_) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

void decoder::release(std::uint16_t id) noexcept {
  for (auto& r : active_) {
    if (r.id == id) {
      r = active_.back();
      active_.pop_back();
      return;
    }
  }
}

void decoder::reset() noexcept {
  error_.clear();
  state_ = state::header;
  header_ = {};
  header_have_ = 0;
  body_left_ = 0;
  padding_left_ = 0;
  skip_body_ = false;
  body_buf_.clear();
  active_.clear();
}

decode_result decoder::fail(std::size_t consumed, errc e) noexcept {
  error_ = make_error_code(e);
  decode_result r;
  r.consumed = consumed;
  r.ev.type = event_type::error;
  r.ev.record_raw = header_.type;
  r.ev.request_id = header_.request_id;
  return r;
}

decode_result decoder::next(std::string_view in) noexcept {
  decode_result r;
  if (failed()) {
    r.ev.type = event_type::error;
    r.ev.record_raw = header_.type;
    r.ev.request_id = header_.request_id;
    return r;
  }

  std::size_t pos = 0;
  const bool tracking = limits_.max_active_requests > 0;

  for (;;) {
    switch (state_) {
      case state::header: {
        // Parse in place when the whole header is there; buffer only a header that arrives split.
        if (header_have_ == 0 && in.size() - pos >= header_size) {
          header_ = parse_header(in.data() + pos);
          pos += header_size;
        } else {
          const std::size_t n = std::min(header_size - header_have_, in.size() - pos);
          if (n == 0) {
            r.consumed = pos;
            return r;
          }
          std::memcpy(header_buf_ + header_have_, in.data() + pos, n);
          header_have_ += n;
          pos += n;
          if (header_have_ < header_size) {
            r.consumed = pos;
            return r;
          }
          header_have_ = 0;
          header_ = parse_header(header_buf_);
        }

        const std::uint8_t t = header_.type;
        const std::uint16_t id = header_.request_id;
        body_left_ = header_.content_length;
        padding_left_ = header_.padding_length;
        skip_body_ = false;
        body_buf_.clear();
        state_ = state::body;

        if (header_.version != version_1) return fail(pos, errc::bad_version);

        r.ev.record_raw = t;
        r.ev.request_id = id;

        if (!is_known_type(t)) {
          skip_body_ = true;
          r.ev.type = event_type::unknown_record;
          r.consumed = pos;
          return r;
        }
        if (is_management_type(t)) {
          if (id != null_request_id) return fail(pos, errc::management_with_request_id);
          if (t == static_cast<std::uint8_t>(record_type::unknown_type) && body_left_ != 8)
            return fail(pos, errc::bad_unknown_type_length);
        } else {
          if (id == null_request_id) return fail(pos, errc::null_request_id);
          if (t == static_cast<std::uint8_t>(record_type::begin_request)) {
            if (body_left_ != 8) return fail(pos, errc::bad_begin_request_length);
            if (tracking && find(id) != nullptr) return fail(pos, errc::duplicate_request_id);
          } else {
            if (t == static_cast<std::uint8_t>(record_type::end_request) && body_left_ != 8)
              return fail(pos, errc::bad_end_request_length);
            active_request* a = tracking ? find(id) : nullptr;
            if (tracking && a == nullptr) {
              skip_body_ = true;  // spec 3.3: records of inactive requests are ignored
              r.ev = {};
              continue;
            }
            if (a != nullptr && t == static_cast<std::uint8_t>(record_type::params)) {
              a->params_bytes += body_left_;
              if (a->params_bytes > limits_.max_params_bytes) return fail(pos, errc::params_too_large);
            }
            if (t == static_cast<std::uint8_t>(record_type::abort_request)) {
              skip_body_ = true;  // an ABORT_REQUEST has no content; tolerate some
              r.ev.type = event_type::abort_request;
              r.consumed = pos;
              return r;
            }
            if (is_stream_type(t) && body_left_ == 0) {
              state_ = state::padding;
              r.ev.type = event_type::stream_end;
              r.consumed = pos;
              return r;
            }
          }
        }
        if (needs_whole_body(t) && body_left_ == 0) break;  // an empty GET_VALUES(_RESULT)
        continue;
      }

      case state::body: {
        const std::size_t avail = in.size() - pos;
        if (skip_body_) {
          const std::size_t n = std::min(body_left_, avail);
          pos += n;
          body_left_ -= n;
          if (body_left_ != 0) {
            r.consumed = pos;
            return r;
          }
          state_ = state::padding;
          continue;
        }
        if (is_stream_type(header_.type)) {
          const std::size_t n = std::min(body_left_, avail);
          if (n == 0) {
            r.consumed = pos;
            return r;
          }
          r.ev.type = event_type::stream_data;
          r.ev.record_raw = header_.type;
          r.ev.request_id = header_.request_id;
          r.ev.data = in.substr(pos, n);
          pos += n;
          body_left_ -= n;
          if (body_left_ == 0) state_ = state::padding;
          r.consumed = pos;
          return r;
        }
        // A body that must be seen whole: view it in place, or gather it when it arrives split.
        std::string_view body;
        if (body_buf_.empty() && avail >= body_left_) {
          body = in.substr(pos, body_left_);
          pos += body_left_;
          body_left_ = 0;
        } else {
          const std::size_t n = std::min(body_left_, avail);
          body_buf_.append(in.data() + pos, n);
          pos += n;
          body_left_ -= n;
          if (body_left_ != 0) {
            r.consumed = pos;
            return r;
          }
          body = body_buf_;
        }
        r.ev.data = body;
        break;
      }

      case state::padding: {
        const std::size_t n = std::min(padding_left_, in.size() - pos);
        pos += n;
        padding_left_ -= n;
        if (padding_left_ != 0) {
          r.consumed = pos;
          return r;
        }
        state_ = state::header;
        continue;
      }
    }

    // The whole body of a non-stream record is in r.ev.data: turn it into its event.
    state_ = state::padding;
    r.consumed = pos;
    r.ev.record_raw = header_.type;
    r.ev.request_id = header_.request_id;
    const auto* u = reinterpret_cast<const unsigned char*>(r.ev.data.data());
    switch (static_cast<record_type>(header_.type)) {
      case record_type::begin_request:
        r.ev.type = event_type::begin_request;
        r.ev.role = be16(u);
        r.ev.flags = u[2];
        r.ev.data = {};
        if (tracking) {
          if (active_.size() >= limits_.max_active_requests) {
            r.ev.over_limit = true;
          } else {
            active_.push_back({header_.request_id, 0});
          }
        }
        return r;
      case record_type::end_request:
        r.ev.type = event_type::end_request;
        r.ev.app_status = be32(u);
        r.ev.status = static_cast<protocol_status>(u[4]);
        r.ev.data = {};
        return r;
      case record_type::unknown_type:
        r.ev.type = event_type::unknown_type;
        r.ev.unknown_type = u[0];
        r.ev.data = {};
        return r;
      case record_type::get_values:
      case record_type::get_values_result:
        if (validate_name_values(r.ev.data)) return fail(pos, errc::name_value_truncated);
        r.ev.type = header_.type == static_cast<std::uint8_t>(record_type::get_values) ? event_type::get_values
                                                                                       : event_type::get_values_result;
        return r;
      default: return fail(pos, errc::name_value_truncated);  // unreachable: only whole-body types get here
    }
  }
}

}  // namespace fcgimux::proto
