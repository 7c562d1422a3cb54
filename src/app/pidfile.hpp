#pragma once
// --pidfile: the pid of the fcgimux that serves, for scripts and init systems that signal it.

#include <string>

namespace fcgimux {

/// Writes `pid` to `path` (through a temporary file and rename, so that a reader never sees it
/// half written). Returns false and logs why when it cannot.
bool write_pidfile(const std::string& path, int pid);
/// Removes `path` if it still names `pid` (after an upgrade it names the new process: left alone).
void remove_pidfile(const std::string& path, int pid);

}  // namespace fcgimux
