#pragma once
// Address ranges (--allow): IPv4 and IPv6 CIDR blocks, matched against a peer's address. IPv4 is
// kept in its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so an IPv4 client reaching a dual-stack
// listener as ::ffff:127.0.0.1 matches 127.0.0.0/8 like one reaching an IPv4 listener.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace fcgimux {

/// One address range: ADDRESS/PREFIX, or one ADDRESS.
struct cidr {
  std::array<std::uint8_t, 16> net{};  ///< IPv6, or IPv4-mapped; host bits zero
  unsigned prefix = 128;               ///< leading bits that must match (IPv4's count plus 96)
  std::string text;                    ///< as given, for messages

  /// Whether the 16-byte address `addr` (IPv6 or IPv4-mapped) lies in this range.
  bool contains(const std::array<std::uint8_t, 16>& addr) const noexcept;
};

/// ADDRESS[/PREFIX] for IPv4 or IPv6; nullopt when it is neither (or the prefix is out of range).
std::optional<cidr> parse_cidr(std::string_view text);

/// An IPv4 or IPv6 socket address as 16 bytes (IPv4 mapped); nullopt for any other family.
std::optional<std::array<std::uint8_t, 16>> ip_bytes(const sockaddr* sa) noexcept;

}  // namespace fcgimux
