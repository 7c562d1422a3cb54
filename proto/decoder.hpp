// SPDX-License-Identifier: ISC
#pragma once
// Incremental, split-safe FastCGI record decoder (sans-I/O).
//
// Usage: call next(in) with the unread bytes; it consumes bytes up to and including at most one
// event and returns how many it consumed. Handle the event, then call next() again with the rest.
// When the event is `none`, every byte of `in` was consumed and more input is needed.
//
// View lifetime: `event::data` points either into the caller's `in` or into the decoder's own
// buffer (used only when a non-stream body arrives split). Either way it is valid until the next
// call to next(), reset() or the destruction of the decoder, and only while the caller keeps the
// bytes of `in` unchanged.
//
// Stream content (PARAMS, STDIN, STDOUT, STDERR, DATA) is never buffered: each `stream_data`
// event is a non-empty fragment of one record's content, so a record split across calls arrives as
// several fragments. Concatenating the fragments of a (request id, type) gives the same bytes
// whatever the split; that concatenation, and the order of all other events, is the decoder's result.

#include "proto/error.hpp"
#include "proto/protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace fcgimux::proto {

/// Limits a caller sets. Tracking of request ids (and so the PARAMS limit) is on when
/// max_active_requests > 0; a server-side decoder turns it on, a client-side one leaves it off.
struct decoder_limits {
  std::size_t max_params_bytes = 64 * 1024;  ///< per request, summed over its PARAMS records
  std::size_t max_active_requests = 0;       ///< 0: ids are not tracked
};

enum class event_type : std::uint8_t {
  none,           ///< need more bytes
  begin_request,  ///< role, flags, over_limit
  abort_request,
  end_request,        ///< app_status, status
  stream_data,        ///< record (which stream), data = a non-empty content fragment
  stream_end,         ///< an empty record of a stream type: that stream is closed
  get_values,         ///< data = the whole (validated) name-value block
  get_values_result,  ///< data = the whole (validated) name-value block
  unknown_type,       ///< an FCGI_UNKNOWN_TYPE record came in; unknown_type = its type byte
  unknown_record,     ///< a record of a type outside 1..11; record_raw = its type; content skipped
  error,              ///< see decoder::error(); sticky
};

struct event {
  event_type type = event_type::none;
  std::uint8_t record_raw = 0;  ///< raw type byte of the record that produced the event
  std::uint16_t request_id = 0;
  std::string_view data;
  // begin_request
  std::uint16_t role = 0;
  std::uint8_t flags = 0;
  /// With id tracking on: the request would exceed max_active_requests. It is not marked active
  /// (so its other records are ignored); answer it with END_REQUEST (OVERLOADED or CANT_MPX_CONN).
  bool over_limit = false;
  // end_request
  std::uint32_t app_status = 0;
  protocol_status status = protocol_status::request_complete;
  // unknown_type
  std::uint8_t unknown_type = 0;

  record_type record() const noexcept { return static_cast<record_type>(record_raw); }
};

struct decode_result {
  std::size_t consumed = 0;
  event ev;
};

/// With id tracking on, records other than BEGIN_REQUEST for an inactive id are consumed without
/// an event, as the specification asks (section 3.3).
class decoder {
 public:
  explicit decoder(decoder_limits limits = {});

  /// Consumes bytes of `in` up to and including the next event.
  decode_result next(std::string_view in) noexcept;

  /// The caller has finished request `id` (sent or received END_REQUEST); the id may begin again.
  void release(std::uint16_t id) noexcept;

  /// Back to the initial state, errors cleared, limits kept.
  void reset() noexcept;

  std::error_code error() const noexcept { return error_; }
  bool failed() const noexcept { return static_cast<bool>(error_); }
  std::size_t active_requests() const noexcept { return active_.size(); }
  /// No part of a record is pending: the next byte starts a new one. (After an event the state
  /// may still say padding, with none left, until the next call.)
  bool between_records() const noexcept {
    return (state_ == state::header && header_have_ == 0) || (state_ == state::padding && padding_left_ == 0);
  }
  bool is_active(std::uint16_t id) const noexcept;
  const decoder_limits& limits() const noexcept { return limits_; }

 private:
  struct active_request {
    std::uint16_t id;
    std::size_t params_bytes;
  };
  enum class state : std::uint8_t { header, body, padding };

  decode_result fail(std::size_t consumed, errc e) noexcept;
  active_request* find(std::uint16_t id) noexcept;

  decoder_limits limits_;
  std::error_code error_;
  state state_ = state::header;
  record_header header_{};
  char header_buf_[header_size] = {};
  std::size_t header_have_ = 0;
  std::size_t body_left_ = 0;  // content bytes of the current record not yet consumed
  std::size_t padding_left_ = 0;
  bool skip_body_ = false;  // content is consumed without events (ignored or unknown record)
  std::string body_buf_;    // whole non-stream body, only when it arrives split
  std::vector<active_request> active_;
};

}  // namespace fcgimux::proto
