// SPDX-License-Identifier: ISC
#include "proto/protocol.hpp"

namespace fcgimux::proto {

record_header parse_header(const char* p) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  record_header h;
  h.version = u[0];
  h.type = u[1];
  h.request_id = static_cast<std::uint16_t>((u[2] << 8) | u[3]);
  h.content_length = static_cast<std::uint16_t>((u[4] << 8) | u[5]);
  h.padding_length = u[6];
  return h;
}

void write_header(char* p, const record_header& h) noexcept {
  p[0] = static_cast<char>(h.version);
  p[1] = static_cast<char>(h.type);
  p[2] = static_cast<char>(h.request_id >> 8);
  p[3] = static_cast<char>(h.request_id & 0xff);
  p[4] = static_cast<char>(h.content_length >> 8);
  p[5] = static_cast<char>(h.content_length & 0xff);
  p[6] = static_cast<char>(h.padding_length);
  p[7] = 0;
}

std::string_view type_name(std::uint8_t t) noexcept {
  switch (t) {
    case 1: return "BEGIN_REQUEST";
    case 2: return "ABORT_REQUEST";
    case 3: return "END_REQUEST";
    case 4: return "PARAMS";
    case 5: return "STDIN";
    case 6: return "STDOUT";
    case 7: return "STDERR";
    case 8: return "DATA";
    case 9: return "GET_VALUES";
    case 10: return "GET_VALUES_RESULT";
    case 11: return "UNKNOWN_TYPE";
    default: return "UNKNOWN";
  }
}

}  // namespace fcgimux::proto
