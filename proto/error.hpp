// SPDX-License-Identifier: ISC
#pragma once
// Codec errors. "Need more bytes" is not an error; every value here is fatal for the connection
// that produced it, and the decoder that reported it stays failed.

#include <system_error>

namespace fcgimux::proto {

enum class errc {
  bad_version = 1,             ///< header version is not 1
  null_request_id,             ///< an application record (BEGIN_REQUEST, PARAMS, ...) with id 0
  management_with_request_id,  ///< GET_VALUES / GET_VALUES_RESULT / UNKNOWN_TYPE with id != 0
  bad_begin_request_length,    ///< BEGIN_REQUEST body is not 8 bytes
  bad_end_request_length,      ///< END_REQUEST body is not 8 bytes
  bad_unknown_type_length,     ///< UNKNOWN_TYPE body is not 8 bytes
  duplicate_request_id,        ///< BEGIN_REQUEST for an id that is already active
  params_too_large,            ///< a request's PARAMS stream exceeded the configured limit
  name_value_truncated,        ///< a name-value length runs past the end of its block
};

/// The category for errc; name "fcgimux.proto".
const std::error_category& error_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

}  // namespace fcgimux::proto

template <>
struct std::is_error_code_enum<fcgimux::proto::errc> : std::true_type {};
