// SPDX-License-Identifier: ISC
#include "src/config/names.hpp"

#include "src/config/options.hpp"

#include <fmt/core.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>

namespace fcgimux {
namespace {

// A name a listener, the stats or a server needs, and the setting that names it (for the error).
struct name_user {
  std::string host;
  std::string key;      // "pool \"a\": listen", "stats", "server"
  std::string address;  // as configured
};

bool several_pools(const config& c) { return c.pools.size() > 1 || (!c.pools.empty() && c.pools[0].name != "default"); }

std::vector<name_user> users_of(const config& c) {
  std::vector<name_user> out;
  auto add = [&](std::string key, const std::string& address) {
    if (address.rfind("unix:", 0) == 0) return;
    host_port hp = split_host_port(address);
    if (!literal_address(hp.host, hp.port)) out.push_back({hp.host, std::move(key), address});
  };
  const bool several = several_pools(c);
  for (const pool_config& p : c.pools) {
    for (const auto& a : p.listen) add(fmt::format("pool \"{}\": listen", p.name), a);
    for (const auto& s : p.servers)
      if (s.named) add(several ? fmt::format("pool \"{}\": server", p.name) : "server", s.address);
  }
  if (c.stats != "off") add("stats", c.stats);
  return out;
}

}  // namespace

host_port split_host_port(const std::string& address) {
  const auto colon = address.rfind(':');
  host_port out;
  out.host = address.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);
  if (out.host == "*") out.host = "0.0.0.0";
  if (colon != std::string::npos)
    out.port = static_cast<std::uint16_t>(std::strtoul(address.c_str() + colon + 1, nullptr, 10));
  return out;
}

std::optional<resolved_address> literal_address(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;  // never a lookup
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || !found) return std::nullopt;
  resolved_address a;
  std::memcpy(&a.address, found->ai_addr, found->ai_addrlen);
  a.length = found->ai_addrlen;
  ::freeaddrinfo(found);
  return with_port(a, port);
}

resolved_address with_port(resolved_address a, std::uint16_t port) {
  if (a.address.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&a.address)->sin_port = htons(port);
  if (a.address.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&a.address)->sin6_port = htons(port);
  return a;
}

std::string address_text(const resolved_address& a) {
  char text[INET6_ADDRSTRLEN] = {};
  if (a.address.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a.address)->sin_addr, text, sizeof text);
    return text;
  }
  if (a.address.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&a.address)->sin6_addr, text, sizeof text);
    return fmt::format("[{}]", text);
  }
  if (a.address.ss_family == AF_UNIX)
    return "unix:" + std::string(reinterpret_cast<const sockaddr_un*>(&a.address)->sun_path);
  return "?";
}

void add_address(name_answer& answer, const sockaddr* sa, socklen_t length) {
  if (length > sizeof(sockaddr_storage)) return;
  resolved_address a;
  std::memcpy(&a.address, sa, length);
  a.length = length;
  const bool seen = std::any_of(answer.addresses.begin(), answer.addresses.end(), [&](const resolved_address& b) {
    return b.length == a.length && std::memcmp(&b.address, &a.address, a.length) == 0;
  });
  if (!seen) answer.addresses.push_back(a);
}

std::vector<std::string> names_to_resolve(const config& c) {
  std::vector<std::string> out;
  for (const name_user& u : users_of(c))
    if (std::find(out.begin(), out.end(), u.host) == out.end()) out.push_back(u.host);
  return out;
}

name_answers resolve_now(const std::vector<std::string>& hosts) {
  name_answers out;
  for (const std::string& host : hosts) {
    // The hints of the loop's resolver (asio::ip::tcp::resolver with no flags), so that a start
    // and a reload see one name alike.
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    addrinfo* found = nullptr;
    name_answer& answer = out[host];
    if (int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0 || !found) {
      answer.error = rc != 0 ? ::gai_strerror(rc) : "no address";
      continue;
    }
    for (const addrinfo* ai = found; ai; ai = ai->ai_next) add_address(answer, ai->ai_addr, ai->ai_addrlen);
    ::freeaddrinfo(found);
  }
  return out;
}

void apply_names(config& c, const name_answers& answers) {
  c.names.clear();
  for (const name_user& u : users_of(c)) {
    auto it = answers.find(u.host);
    if (it == answers.end() || it->second.addresses.empty())
      throw config_error(fmt::format("{}: cannot resolve '{}': {}", u.key, u.address,
                                     it == answers.end() ? "not looked up" : it->second.error));
    c.names[u.host] = it->second.addresses;
  }
  for (pool_config& p : c.pools)
    for (server_config& s : p.servers) {
      if (!s.named) continue;
      const host_port hp = split_host_port(s.address);
      s.resolved.clear();
      for (const resolved_address& a : c.names[hp.host]) s.resolved.push_back(with_port(a, hp.port));
    }
  config_detail::check_listen_conflicts(c);
}

resolved_address tcp_address(const config& c, const std::string& address) {
  const host_port hp = split_host_port(address);
  if (auto literal = literal_address(hp.host, hp.port)) return *literal;
  auto it = c.names.find(hp.host);
  if (it == c.names.end() || it->second.empty())
    throw config_error(fmt::format("'{}': its host name was not resolved", address));
  return with_port(it->second.front(), hp.port);
}

}  // namespace fcgimux
