#pragma once
// Log lines to stderr: "fcgimux: message". Workers' stderr lines come through here too.

#include <fmt/core.h>

#include <exception>
#include <string_view>

namespace fcgimux::log {

/// Set once at start-up from --verbose.
inline bool verbose_enabled = false;

void write_line(std::string_view line) noexcept;

/// Always printed: start-up, errors, worker exits.
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  write_line(fmt::format(f, std::forward<Args>(args)...));
}

/// Printed with --verbose only: per-connection and per-request detail.
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (verbose_enabled) write_line(fmt::format(f, std::forward<Args>(args)...));
}

/// A co_spawn completion handler that logs what escaped the coroutine (asio::detached would drop it).
inline auto on_exception(const char* what) {
  return [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      info("internal error in {}: {}", what, ex.what());
    } catch (...) {
      info("internal error in {}", what);
    }
  };
}

}  // namespace fcgimux::log
