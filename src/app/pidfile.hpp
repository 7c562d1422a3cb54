// SPDX-License-Identifier: ISC
#pragma once
// The pid file (--pidfile, spawn-fcgi's -P): the pid of the fcgimux that serves, for init scripts
// and `kill $(cat FILE)`.

#include <string>

namespace fcgimux {

/// Writes this process's pid and a newline to `path`, atomically (a temporary file in the same
/// directory, with a random name created O_EXCL | O_NOFOLLOW, fsync'ed and renamed over it), mode
/// 0644. Throws std::system_error naming the path.
void write_pidfile(const std::string& path);

/// Removes `path` if it still holds this process's pid: after a binary upgrade it names the new
/// fcgimux, which the old one must not take away. Never throws.
void remove_pidfile(const std::string& path) noexcept;

}  // namespace fcgimux
