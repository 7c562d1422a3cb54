// SPDX-License-Identifier: ISC
#pragma once
// FastCGI name-value pairs (PARAMS, GET_VALUES, GET_VALUES_RESULT): lengths of 1 byte (0..127) or
// 4 bytes with the high bit set (128..2^31-1).

#include "proto/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace fcgimux::proto {

struct name_value {
  std::string_view name;
  std::string_view value;
};

/// Iterates over a complete name-value block without copying; views point into the block.
class name_value_reader {
 public:
  explicit name_value_reader(std::string_view block) noexcept : rest_(block) {}

  /// The next pair; false at the end of the block or on error (then error() is set, sticky).
  bool next(name_value& out) noexcept;
  std::error_code error() const noexcept { return error_; }

 private:
  std::string_view rest_;
  std::error_code error_;
};

/// Checks that the block is a sequence of whole pairs.
std::error_code validate_name_values(std::string_view block) noexcept;

/// The value of `name` in the block (first match), or nullopt-like: found == false.
struct lookup_result {
  bool found = false;
  std::string_view value;
};
lookup_result find_name_value(std::string_view block, std::string_view name) noexcept;

/// Bytes one pair takes once encoded.
std::size_t encoded_size(std::string_view name, std::string_view value) noexcept;

/// Appends one encoded pair to `out`.
void append_name_value(std::string& out, std::string_view name, std::string_view value);

}  // namespace fcgimux::proto
