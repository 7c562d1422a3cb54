// SPDX-License-Identifier: ISC
#pragma once

#include <string>

namespace fcgimux::demo {

/// A listening socket for "HOST:PORT" or "unix:PATH"; -1 and `error` set on failure.
int open_listen_socket(const std::string& spec, std::string& error);

/// True if fd is a listening socket (spawn-fcgi hands one over as fd 0).
bool is_listening_socket(int fd) noexcept;

}  // namespace fcgimux::demo
