// SPDX-License-Identifier: ISC
#pragma once
// How fcgimux writes a socket's address, in its log, its stats and to match the sockets passed by
// systemd or a binary upgrade with the configured listeners: IP:PORT, [IP6]:PORT or unix:PATH.

#include <asio/ip/tcp.hpp>

#include <string>

namespace fcgimux {

/// IP:PORT, or [IP6]:PORT.
std::string ip_port(const asio::ip::tcp::endpoint& ep);

/// The address a socket is bound to, as a listener prints it: IP:PORT, [IP6]:PORT or unix:PATH
/// (unix:@NAME for an abstract one); empty if getsockname fails.
std::string socket_address(int fd);

}  // namespace fcgimux
