// SPDX-License-Identifier: ISC
#pragma once
// FastCGI 1.0 constants and the 8-byte record header. No I/O, no allocation.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace fcgimux::proto {

inline constexpr std::uint8_t version_1 = 1;
inline constexpr std::size_t header_size = 8;
inline constexpr std::size_t max_content_length = 65535;
inline constexpr std::size_t max_padding_length = 255;
/// Request id 0 marks a management record.
inline constexpr std::uint16_t null_request_id = 0;
/// FCGI_KEEP_CONN in BEGIN_REQUEST's flags.
inline constexpr std::uint8_t flag_keep_conn = 1;

/// The eleven record types of FastCGI 1.0; other values are "unknown types".
enum class record_type : std::uint8_t {
  begin_request = 1,
  abort_request = 2,
  end_request = 3,
  params = 4,
  stdin_stream = 5,
  stdout_stream = 6,
  stderr_stream = 7,
  data = 8,
  get_values = 9,
  get_values_result = 10,
  unknown_type = 11,
};
inline constexpr std::uint8_t max_known_type = 11;

/// BEGIN_REQUEST roles. Kept as a raw number in events, since unknown roles must be answered.
enum class role : std::uint16_t { responder = 1, authorizer = 2, filter = 3 };
/// A set of roles as bits (a pool's `roles`), one per role value.
constexpr unsigned role_bit(std::uint16_t r) noexcept { return r >= 1 && r <= 3 ? 1u << r : 0u; }
constexpr unsigned role_bit(role r) noexcept { return role_bit(static_cast<std::uint16_t>(r)); }
/// The role's name as a pool's `roles` and the access log write it.
constexpr std::string_view role_name(role r) noexcept {
  return r == role::authorizer ? "authorizer" : r == role::filter ? "filter" : "responder";
}

/// END_REQUEST protocolStatus values.
enum class protocol_status : std::uint8_t {
  request_complete = 0,
  cant_mpx_conn = 1,
  overloaded = 2,
  unknown_role = 3,
};

/// Names of the GET_VALUES variables.
inline constexpr std::string_view var_max_conns = "FCGI_MAX_CONNS";
inline constexpr std::string_view var_max_reqs = "FCGI_MAX_REQS";
inline constexpr std::string_view var_mpxs_conns = "FCGI_MPXS_CONNS";

/// A decoded record header; `type` is raw so that unknown types survive.
struct record_header {
  std::uint8_t version = version_1;
  std::uint8_t type = 0;
  std::uint16_t request_id = 0;
  std::uint16_t content_length = 0;
  std::uint8_t padding_length = 0;
};

/// True for PARAMS, STDIN, STDOUT, STDERR and DATA: content closed by an empty record.
constexpr bool is_stream_type(std::uint8_t t) noexcept { return t == 4 || t == 5 || t == 6 || t == 7 || t == 8; }
/// True for the types defined as management records (request id 0).
constexpr bool is_management_type(std::uint8_t t) noexcept { return t == 9 || t == 10 || t == 11; }
constexpr bool is_known_type(std::uint8_t t) noexcept { return t >= 1 && t <= max_known_type; }

/// The padding nginx uses: content plus padding is a multiple of 8.
constexpr std::uint8_t padding_for(std::size_t content_length) noexcept {
  return static_cast<std::uint8_t>((8 - content_length % 8) % 8);
}

/// Reads a header from 8 bytes.
record_header parse_header(const char* p) noexcept;
/// Writes a header into 8 bytes.
void write_header(char* p, const record_header& h) noexcept;

/// "BEGIN_REQUEST", "STDOUT", ... or "UNKNOWN" for a type outside 1..11.
std::string_view type_name(std::uint8_t t) noexcept;

}  // namespace fcgimux::proto
