// SPDX-License-Identifier: ISC
#pragma once
// The PHP functions a php-cgi (or php-fpm) process is in, read from its executor's globals in the
// layout of the PHP headers this tool is compiled against (PHP 8.2, non-thread-safe).

#include "process_image.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fcgimux::php_trace {

/// One PHP frame as php-fpm's slow log prints it: the function and where it was called from.
struct php_frame {
  std::uint64_t address = 0;  ///< its zend_execute_data in the traced process
  std::string function;       ///< "Class::method", "fn", "include", ... or "???"
  std::string file;           ///< the calling script, or "[no active file]"
  std::uint32_t line = 0;     ///< the calling line
};

/// The PHP version and build ID (ZEND_MODULE_BUILD_ID) the layout comes from.
std::string_view php_version();
std::string_view php_build_id();
/// sizeof(zend_executor_globals) here: a binary whose executor_globals differs in size is another layout.
std::size_t executor_globals_size();

/// Walks EG(current_execute_data) at `executor_globals` outward, at most `depth` frames, into
/// `frames`. False with `error` set when a read fails or the chain loops; the frames read until
/// then are kept. No frame at all (the worker runs no script now) is not an error.
bool php_stack(process_memory& mem, std::uint64_t executor_globals, unsigned depth, std::vector<php_frame>& frames,
               std::string& error);

}  // namespace fcgimux::php_trace
