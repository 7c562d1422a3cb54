// SPDX-License-Identifier: ISC
#pragma once

#include "tests/support/unique_fd.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace fcgimux::test {

/// A TCP address on loopback or a unix socket path.
struct endpoint {
  std::string unix_path;  ///< set: a unix socket
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;

  /// A TCP endpoint on 127.0.0.1.
  static endpoint tcp(std::uint16_t port) { return endpoint{{}, "127.0.0.1", port}; }
  /// A unix socket endpoint.
  static endpoint unix_socket(std::string path) { return endpoint{std::move(path), {}, 0}; }
  /// True for a unix socket.
  bool is_unix() const noexcept { return !unix_path.empty(); }
  /// "HOST:PORT" or "unix:PATH", as fcgimux's --listen takes it.
  std::string to_string() const;
};

/// A port that was free a moment ago on 127.0.0.1 (bound to 0, read back, closed).
std::uint16_t free_tcp_port();

/// A listening socket (close-on-exec) for `where`; a TCP port 0 is replaced by the bound port.
/// Throws on failure.
unique_fd listen_on(endpoint& where, int backlog = 1024);

/// A connected blocking socket (close-on-exec), or an empty unique_fd on failure.
unique_fd connect_to(const endpoint& where);

/// Tries to connect until it succeeds or `timeout` passes.
bool wait_connectable(const endpoint& where, std::chrono::milliseconds timeout);

/// Makes `fd` non-blocking.
void set_nonblocking(int fd);

/// Ignores SIGPIPE in the test process once (writes to closed peers must fail, not kill).
void ignore_sigpipe();

}  // namespace fcgimux::test
