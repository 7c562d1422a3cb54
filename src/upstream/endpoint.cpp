// SPDX-License-Identifier: ISC
#include "src/upstream/endpoint.hpp"

#include <asio/local/stream_protocol.hpp>

namespace fcgimux {

member_endpoint unix_endpoint(const std::string& path) {
  member_endpoint e;
  e.address = asio::generic::stream_protocol::endpoint(asio::local::stream_protocol::endpoint(path));
  e.text = path;
  return e;
}

member_endpoint socket_endpoint(const sockaddr* address, socklen_t length, std::string text) {
  member_endpoint e;
  e.address = asio::generic::stream_protocol::endpoint(address, length);
  e.text = std::move(text);
  e.tcp = address->sa_family == AF_INET || address->sa_family == AF_INET6;
  return e;
}

}  // namespace fcgimux
