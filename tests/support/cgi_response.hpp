// SPDX-License-Identifier: ISC
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fcgimux::test {

/// A CGI response (an application's STDOUT) split into head and body.
struct cgi_response {
  bool valid = false;  ///< a complete head (ending in an empty line) was found
  int status = 200;    ///< from the Status header, 200 without one
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The first header named `name` (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

/// Parses STDOUT bytes: header lines ended by CRLF or LF, an empty line, then the body.
cgi_response parse_cgi_response(std::string_view out);

/// True if `a` and `b` are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace fcgimux::test
