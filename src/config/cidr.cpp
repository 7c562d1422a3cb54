#include "src/config/cidr.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace fcgimux {
namespace {

std::array<std::uint8_t, 16> mapped(const in_addr& a) noexcept {
  std::array<std::uint8_t, 16> out{};
  out[10] = out[11] = 0xff;
  std::memcpy(out.data() + 12, &a, 4);
  return out;
}

}  // namespace

bool cidr::contains(const std::array<std::uint8_t, 16>& addr) const noexcept {
  const unsigned whole = prefix / 8;
  if (std::memcmp(addr.data(), net.data(), whole) != 0) return false;
  if (prefix % 8 == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - prefix % 8));
  return (addr[whole] & mask) == net[whole];
}

std::optional<cidr> parse_cidr(std::string_view text) {
  const auto slash = text.find('/');
  const std::string addr(text.substr(0, slash));
  cidr c;
  c.text = std::string(text);
  unsigned max_prefix = 0, offset = 0;
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, addr.c_str(), &v4) == 1) {
    c.net = mapped(v4);
    max_prefix = 32;
    offset = 96;
  } else if (::inet_pton(AF_INET6, addr.c_str(), &v6) == 1) {
    std::memcpy(c.net.data(), &v6, 16);
    max_prefix = 128;
  } else {
    return std::nullopt;
  }
  unsigned bits = max_prefix;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), bits);
    if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || bits > max_prefix) return std::nullopt;
  }
  c.prefix = bits + offset;
  // Host bits are cleared, so that 10.1.2.3/8 means 10.0.0.0/8 as it does to ip(8).
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned from = i * 8;
    if (from >= c.prefix)
      c.net[i] = 0;
    else if (c.prefix - from < 8)
      c.net[i] &= static_cast<std::uint8_t>(0xff << (8 - (c.prefix - from)));
  }
  return c;
}

std::optional<std::array<std::uint8_t, 16>> ip_bytes(const sockaddr* sa) noexcept {
  if (sa->sa_family == AF_INET) return mapped(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr);
  if (sa->sa_family == AF_INET6) {
    std::array<std::uint8_t, 16> out{};
    std::memcpy(out.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
    return out;
  }
  return std::nullopt;
}

}  // namespace fcgimux
