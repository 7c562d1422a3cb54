// SPDX-License-Identifier: ISC
#pragma once
// Binding a unix listener's path as root in a directory another user may write (/run/php is
// www-data's): the socket file is created with its final owner and mode, so that no call ever
// changes a file by its name afterwards (docs/security.md, "Paths").

#include "src/front/listener.hpp"

#include <string>

namespace fcgimux {

/// Binds the unix stream socket `fd` to `path`: a stale socket file there is removed first, a path
/// a live server listens on refused, anything else left alone (bind then fails). The file is born
/// with `access`'s mode (the umask around bind) and owner (the thread's filesystem ids around bind).
/// /run/fcgimux is created first when `path` is in it. Throws std::system_error saying which step.
void bind_unix_path(int fd, const std::string& path, const unix_access& access);

}  // namespace fcgimux
