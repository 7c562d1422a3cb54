// SPDX-License-Identifier: ISC
#pragma once
// What the outputs (log_file.cpp: how a log is opened) and their writer threads (log_writer.cpp)
// share inside the log. Other code uses log_file.hpp.

#include "src/base/log_file.hpp"

#include <memory>
#include <string>

namespace fcgimux::log::detail {

/// Opens `path` for appending as log_file.cpp says (never through a symbolic link, a regular file
/// or a FIFO of fcgimux's own user only); -1 with errno set otherwise.
int open_path(const std::string& path);
/// Why open_path() failed, for a person.
std::string open_error(int err);
/// The output already open for `path` ("stderr", "syslog", "-" or a file), or nullptr.
std::shared_ptr<output> find_output(const std::string& path);
/// Hands `o` to its writer thread (stderr's own, or the one of every other output).
std::shared_ptr<output> add_output(std::shared_ptr<output> o);

}  // namespace fcgimux::log::detail
