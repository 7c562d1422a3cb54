// SPDX-License-Identifier: ISC
#pragma once
// Where a member listens, resolved before any request needs it: a unix socket path (a spawned
// worker, or a server given as unix:PATH) or a TCP address (a remote server). Both are one
// generic endpoint, so every line of the exchange after its connect is the same for both kinds
// (nghttp2's DownstreamAddr with host_unix is the model).

#include <asio/generic/stream_protocol.hpp>

#include <sys/socket.h>

#include <string>

namespace fcgimux {

struct member_endpoint {
  asio::generic::stream_protocol::endpoint address;  ///< what the exchange connects to
  std::string text;                                  ///< as configured, for the log and the stats
  bool tcp = false;                                  ///< TCP_NODELAY is set on its connections
};

/// A unix socket at `path`.
member_endpoint unix_endpoint(const std::string& path);
/// A resolved socket address (AF_INET, AF_INET6 or AF_UNIX); `text` names it.
member_endpoint socket_endpoint(const sockaddr* address, socklen_t length, std::string text);

}  // namespace fcgimux
