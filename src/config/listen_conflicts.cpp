// SPDX-License-Identifier: ISC
// Listeners that the kernel would refuse to bind side by side, found while the configuration is
// read, with both owners named: two spellings of one address (localhost:9000 and 127.0.0.1:9000),
// and a wildcard address with another address of its family on the same port (0.0.0.0:9000 and
// 127.0.0.1:9000: once the first listens, the second bind fails with EADDRINUSE). Host names are
// taken as the listener binds them (the first of c.names' answers, config/names.hpp), so
// localhost is compared as whatever it is on this machine: ::1 and 127.0.0.1 do not collide.
// Nothing here looks a name up: on a SIGHUP this runs on the event loop.

#include "src/config/names.hpp"
#include "src/config/options.hpp"

#include <fmt/core.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace fcgimux::config_detail {
namespace {

struct bound_address {
  int family = AF_INET;  // AF_INET, AF_INET6 or AF_UNIX
  std::string ip;        // the numeric address (an IPv4-mapped IPv6 one as IPv4), or the unix path
  unsigned port = 0;
  bool wildcard = false;
  std::string pool;     // the pool's name; empty: the stats address
  std::string written;  // as configured
};

std::string shown(const bound_address& a) {
  if (a.family == AF_UNIX) return "unix:" + a.ip;
  return a.family == AF_INET6 ? fmt::format("[{}]:{}", a.ip, a.port) : fmt::format("{}:{}", a.ip, a.port);
}

// Whether [::] also takes IPv4's port (Linux's default, net.ipv6.bindv6only = 0).
bool dual_stack() {
  std::ifstream f("/proc/sys/net/ipv6/bindv6only");
  int only = 0;
  return !(f >> only) || only == 0;
}

bound_address resolve(const config& c, const std::string& address, std::string pool) {
  bound_address b;
  b.pool = std::move(pool);
  b.written = address;
  if (address.rfind("unix:", 0) == 0) {
    b.family = AF_UNIX;
    b.ip = std::filesystem::absolute(address.substr(5)).lexically_normal().string();
    return b;
  }
  const resolved_address r = tcp_address(c, address);
  const sockaddr* sa = reinterpret_cast<const sockaddr*>(&r.address);
  char text[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    b.port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      b.family = AF_INET;
      ::inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], text, sizeof text);
    } else {
      b.family = AF_INET6;
      b.wildcard = IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    }
  } else {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    b.family = AF_INET;
    b.port = ntohs(in->sin_port);
    b.wildcard = in->sin_addr.s_addr == htonl(INADDR_ANY);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
  }
  b.ip = text;
  return b;
}

// Whether the wildcard `w` takes the port of `other` too.
bool covers(const bound_address& w, const bound_address& other, bool dual) {
  if (!w.wildcard || w.port != other.port || other.family == AF_UNIX) return false;
  return w.family == other.family || (w.family == AF_INET6 && other.family == AF_INET && dual);
}

// `a` came first, so it is a pool's (the stats address comes last); the line starts with `b`'s
// owner, as the other listen errors do.
[[noreturn]] void refuse(const bound_address& a, const bound_address& b, bool dual) {
  const std::string head = b.pool.empty() ? fmt::format("stats: '{}'", b.written)
                                          : fmt::format("pool \"{}\": listen: '{}'", b.pool, b.written);
  if (a.family == b.family && a.ip == b.ip && a.port == b.port) {
    if (a.pool == b.pool) throw config_error(fmt::format("{} and '{}' are both {}", head, a.written, shown(b)));
    throw config_error(fmt::format("{} is {}, as pool \"{}\"'s '{}' is", head, shown(b), a.pool, a.written));
  }
  const bool a_wide = covers(a, b, dual);
  const bound_address& w = a_wide ? a : b;
  const bound_address& other = a_wide ? b : a;
  throw config_error(
      fmt::format("{} and pool \"{}\"'s '{}' cannot both listen: the wildcard {} takes port {} of {} too", head, a.pool,
                  a.written, shown(w), w.port, shown(other)));
}

}  // namespace

void check_listen_conflicts(const config& c) {
  std::vector<bound_address> all;
  auto add = [&](const std::string& address, std::string pool) {
    if (address.ends_with(":0")) return;  // each gets a port of its own from the kernel
    all.push_back(resolve(c, address, std::move(pool)));
  };
  for (const auto& p : c.pools)
    for (const auto& a : p.listen) add(a, p.name);
  if (c.stats != "off") add(c.stats, {});
  const bool dual = dual_stack();
  for (std::size_t j = 1; j < all.size(); ++j)
    for (std::size_t i = 0; i < j; ++i) {
      const bound_address &a = all[i], &b = all[j];
      const bool same = a.family == b.family && a.ip == b.ip && a.port == b.port;
      if (same || covers(a, b, dual) || covers(b, a, dual)) refuse(a, b, dual);
    }
}

}  // namespace fcgimux::config_detail
