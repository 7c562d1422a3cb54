// SPDX-License-Identifier: ISC
#pragma once
// Record encoder: appends records to a caller's buffer. Content is padded to a multiple of 8
// bytes, as nginx does. The caller reuses its buffer, so steady state does not allocate.

#include "proto/protocol.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace fcgimux::proto {

/// One record; `content` must be at most 65535 bytes.
void append_record(std::string& out, record_type type, std::uint16_t id, std::string_view content);

/// Only a header (padding counted in it, not written); for callers that send content separately.
void append_header(std::string& out, record_type type, std::uint16_t id, std::uint16_t content_length,
                   std::uint8_t padding_length);

/// `data` as many records as needed (65535 content bytes at most each); nothing for empty data.
void append_stream(std::string& out, record_type type, std::uint16_t id, std::string_view data);

/// The empty record that closes a stream.
void append_stream_end(std::string& out, record_type type, std::uint16_t id);

void append_begin_request(std::string& out, std::uint16_t id, std::uint16_t role, std::uint8_t flags);
void append_abort_request(std::string& out, std::uint16_t id);
void append_end_request(std::string& out, std::uint16_t id, std::uint32_t app_status, protocol_status status);
void append_unknown_type(std::string& out, std::uint8_t type);
/// GET_VALUES or GET_VALUES_RESULT carrying an encoded name-value block, as one record: the pairs
/// that would take it past 65535 bytes are left out, never cut (nor anything that is not a pair).
void append_management(std::string& out, record_type type, std::string_view name_values);

}  // namespace fcgimux::proto
