// SPDX-License-Identifier: ISC
#pragma once
// fcgimux's own log (and its workers' stderr lines), each line with a level. Where it goes is
// --error-log: stderr ("fcgimux: message", written by the writer thread of log_file.hpp once
// configured, so a full pipe never blocks the loop; under systemd, when $JOURNAL_STREAM names stderr, the
// line starts with its "<N>" priority instead, as sd-daemon(3) describes), a file (a timestamp,
// the level and fcgimux's pid on each line; written by the writer thread of log_file.hpp, so the
// event loop never waits for a disk), or syslog (daemon facility; also through that thread).

#include <fmt/core.h>

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

namespace fcgimux::log {

/// syslog(3)'s priorities, which are also the journal's "<N>" prefixes.
enum class level : int { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

/// Set at start-up from --verbose (and by a reload).
inline bool verbose_enabled = false;

/// Sends every line to `where` ("stderr", "syslog" or an absolute file path) from now on. Called
/// once, before the event loop runs. Throws std::system_error when the file cannot be opened.
void configure(const std::string& where);
/// Where lines go, as configured ("stderr" until configure()).
const std::string& destination() noexcept;
/// Writes every line still queued for a file, syslog or the access logs, and stops the writer
/// thread. Called once as fcgimux exits: no line logged before it is lost.
void shutdown() noexcept;
/// Waits (at most 1 s) until every line logged so far is written: before this process's stderr is
/// handed on (a new binary, a daemon detaching from its terminal), so no line comes out of order.
void flush() noexcept;
/// Writes every queued line (at most 10 s) and ends the writer threads until resume(): around a
/// fork whose child goes on as fcgimux (--daemon), so that it is the copy of a process with one
/// thread, and around the moment a daemon's stderr leaves the terminal, so no line is lost.
void suspend() noexcept;
void resume() noexcept;
/// Error-log lines dropped so far because the output could not keep up (stderr a full pipe).
std::uint64_t dropped_lines() noexcept;

void write_line(level l, std::string_view line) noexcept;
inline void write_line(std::string_view line) noexcept { write_line(level::info, line); }

/// A failure fcgimux cannot work around: a worker that cannot start, a failed request, a reload refused.
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write_line(level::error, fmt::format(f, std::forward<Args>(args)...));
}

/// Something that went wrong and was handled: a worker crashed, a request timed out, its stderr.
template <typename... Args>
void warning(fmt::format_string<Args...> f, Args&&... args) {
  write_line(level::warning, fmt::format(f, std::forward<Args>(args)...));
}

/// A normal but significant event: start, stop, reload, reopened logs.
template <typename... Args>
void notice(fmt::format_string<Args...> f, Args&&... args) {
  write_line(level::notice, fmt::format(f, std::forward<Args>(args)...));
}

/// Always printed: what fcgimux does (listening, workers started and stopped).
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  write_line(level::info, fmt::format(f, std::forward<Args>(args)...));
}

/// Printed with --verbose only: per-connection and per-request detail.
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (verbose_enabled) write_line(level::debug, fmt::format(f, std::forward<Args>(args)...));
}

/// A co_spawn completion handler that logs what escaped the coroutine (asio::detached would drop it).
inline auto on_exception(const char* what) {
  return [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      error("internal error in {}: {}", what, ex.what());
    } catch (...) {
      error("internal error in {}", what);
    }
  };
}

}  // namespace fcgimux::log
