// SPDX-License-Identifier: ISC
#include "src/front/socket_address.hpp"

#include <fmt/core.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace fcgimux {

std::string ip_port(const asio::ip::tcp::endpoint& ep) {
  return ep.address().is_v6() ? fmt::format("[{}]:{}", ep.address().to_string(), ep.port())
                              : fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

std::string socket_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  if (ss.ss_family == AF_UNIX) {
    const auto& un = reinterpret_cast<const sockaddr_un&>(ss);
    const std::size_t n = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    if (n > 0 && un.sun_path[0] == '\0') return "unix:@" + std::string(un.sun_path + 1, n - 1);
    return "unix:" + std::string(un.sun_path, strnlen(un.sun_path, n));
  }
  asio::ip::tcp::endpoint bound;
  std::memcpy(bound.data(), &ss, std::min<std::size_t>(len, bound.capacity()));
  return ip_port(bound);
}

}  // namespace fcgimux
