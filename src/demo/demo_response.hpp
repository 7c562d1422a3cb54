// SPDX-License-Identifier: ISC
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fcgimux::demo {

/// One complete request as the connection collected it.
struct request_view {
  std::uint16_t id = 1;
  std::string_view params;  ///< the whole PARAMS name-value block
  std::string_view body;    ///< the whole STDIN stream
};

/// What the connection does after respond().
enum class outcome { answered, hang, exit_after_write };

/// Appends the response records (STDOUT, STDERR, END_REQUEST) for `req` to `out`. Sleeps,
/// exits (crash=1) or returns outcome::hang or outcome::exit_after_write (crash_after=N) as the
/// request's query string asks.
outcome respond(const request_view& req, std::string& out);

/// Byte i of the deterministic body that `bytes=N` answers with.
constexpr char pattern_byte(std::size_t i) noexcept { return static_cast<char>('a' + i % 26); }

}  // namespace fcgimux::demo
