// SPDX-License-Identifier: ISC
#pragma once

#include <cstdint>
#include <string>

namespace fcgimux::demo {

/// Command-line settings of fcgimux-demo.
struct demo_options {
  std::string listen;              ///< empty: accept on the listening socket at fd 0
  bool kcgi = false;               ///< behave like a kcgi application
  std::uint64_t max_requests = 0;  ///< exit 0 after this many requests; 0: never
};

/// Result of parsing argv: options, or an error message (exit status 2), or a request for help.
struct parse_result {
  demo_options options;
  std::string error;
  bool help = false;
};

/// Parses the command line.
parse_result parse_options(int argc, char** argv);

/// The --help text.
const char* usage_text() noexcept;

}  // namespace fcgimux::demo
