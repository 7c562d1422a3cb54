// SPDX-License-Identifier: ISC
#pragma once
// One non-blocking send, for output that nearly always fits the socket buffer: written at once it
// costs no loop turn and no asynchronous operation; the caller hands what is left to async_write.

#include <asio/error.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <string_view>
#include <system_error>

namespace fcgimux {

/// Sends as much of `data` as the socket takes now and removes it from `data`. A full socket is
/// not an error; anything else is returned in Asio's category, so that it compares equal to
/// asio::error::broken_pipe and the like (the resend rule depends on it).
inline std::error_code send_now(int fd, std::string_view& data) {
  ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n >= 0) {
    data.remove_prefix(static_cast<std::size_t>(n));
    return {};
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {};
  return {errno, asio::error::get_system_category()};
}

}  // namespace fcgimux
