// SPDX-License-Identifier: ISC
#include "proto/encoder.hpp"

#include "proto/name_value.hpp"

#include <algorithm>
#include <cstring>

namespace fcgimux::proto {
namespace {

void put_header(char* p, std::uint8_t type, std::uint16_t id, std::size_t content_length,
                std::uint8_t padding_length) noexcept {
  record_header h;
  h.type = type;
  h.request_id = id;
  h.content_length = static_cast<std::uint16_t>(content_length);
  h.padding_length = padding_length;
  write_header(p, h);
}

// One resize and one copy per record: the hot path of a proxy relaying STDOUT.
void put_record(std::string& out, std::uint8_t type, std::uint16_t id, std::string_view content) {
  const std::uint8_t pad = padding_for(content.size());
  const std::size_t at = out.size();
  out.resize(at + header_size + content.size() + pad);
  char* p = out.data() + at;
  put_header(p, type, id, content.size(), pad);
  if (!content.empty()) std::memcpy(p + header_size, content.data(), content.size());
  std::memset(p + header_size + content.size(), 0, pad);
}

}  // namespace

void append_record(std::string& out, record_type type, std::uint16_t id, std::string_view content) {
  put_record(out, static_cast<std::uint8_t>(type), id, content.substr(0, max_content_length));
}

void append_header(std::string& out, record_type type, std::uint16_t id, std::uint16_t content_length,
                   std::uint8_t padding_length) {
  char h[header_size];
  put_header(h, static_cast<std::uint8_t>(type), id, content_length, padding_length);
  out.append(h, header_size);
}

void append_stream(std::string& out, record_type type, std::uint16_t id, std::string_view data) {
  const std::size_t records = (data.size() + max_content_length - 1) / max_content_length;
  out.reserve(out.size() + data.size() + records * (header_size + 7));
  while (!data.empty()) {
    const std::size_t n = std::min(data.size(), max_content_length);
    put_record(out, static_cast<std::uint8_t>(type), id, data.substr(0, n));
    data.remove_prefix(n);
  }
}

void append_stream_end(std::string& out, record_type type, std::uint16_t id) {
  put_record(out, static_cast<std::uint8_t>(type), id, {});
}

void append_begin_request(std::string& out, std::uint16_t id, std::uint16_t role, std::uint8_t flags) {
  const char body[8] = {
      static_cast<char>(role >> 8), static_cast<char>(role & 0xff), static_cast<char>(flags), 0, 0, 0, 0, 0};
  put_record(out, static_cast<std::uint8_t>(record_type::begin_request), id, {body, sizeof body});
}

void append_abort_request(std::string& out, std::uint16_t id) {
  put_record(out, static_cast<std::uint8_t>(record_type::abort_request), id, {});
}

void append_end_request(std::string& out, std::uint16_t id, std::uint32_t app_status, protocol_status status) {
  const char body[8] = {static_cast<char>(app_status >> 24),
                        static_cast<char>((app_status >> 16) & 0xff),
                        static_cast<char>((app_status >> 8) & 0xff),
                        static_cast<char>(app_status & 0xff),
                        static_cast<char>(status),
                        0,
                        0,
                        0};
  put_record(out, static_cast<std::uint8_t>(record_type::end_request), id, {body, sizeof body});
}

void append_unknown_type(std::string& out, std::uint8_t type) {
  const char body[8] = {static_cast<char>(type), 0, 0, 0, 0, 0, 0, 0};
  put_record(out, static_cast<std::uint8_t>(record_type::unknown_type), null_request_id, {body, sizeof body});
}

void append_management(std::string& out, record_type type, std::string_view name_values) {
  // The reply is one record (spec 4.1): what does not fit is left out a whole pair at a time, since
  // a cut pair would make the peer reject the whole block.
  std::size_t keep = 0;
  name_value_reader rd(name_values);
  name_value nv;
  while (rd.next(nv)) {
    const std::size_t end = static_cast<std::size_t>(nv.value.data() + nv.value.size() - name_values.data());
    if (end > max_content_length) break;
    keep = end;
  }
  put_record(out, static_cast<std::uint8_t>(type), null_request_id, name_values.substr(0, keep));
}

}  // namespace fcgimux::proto
