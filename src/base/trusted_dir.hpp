// SPDX-License-Identifier: ISC
#pragma once
// Directories root works in by path: which ones another user could swap a name in (a symlink put
// where fcgimux expects its own file), and /run/fcgimux, the directory the examples use.

#include <string>

namespace fcgimux {

/// The directory the examples keep unix sockets and pid files in, created 0755 root if missing.
inline constexpr const char* run_dir = "/run/fcgimux";

/// Why `dir` is not a directory only root (or fcgimux's own user) can change entries of: "" when it
/// is one, else a short reason ("writable by others (mode 1777)", "owned by uid 33"...). A sticky
/// world-writable directory counts as writable by others: another user can still pre-create a name.
std::string untrusted_dir_reason(const std::string& dir);

/// The directory part of `path` ("." for a bare name, "/" for "/x").
std::string parent_dir(const std::string& path);

/// Creates `dir` 0755 if it is missing (as root); refuses one that is a symbolic link, not a
/// directory, neither root's nor fcgimux's own user's, or writable by group or others. Throws
/// std::system_error naming it.
void ensure_trusted_dir(const std::string& dir);
/// ensure_trusted_dir(run_dir).
inline void ensure_run_dir() { ensure_trusted_dir(run_dir); }

}  // namespace fcgimux
