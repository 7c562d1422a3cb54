// SPDX-License-Identifier: ISC
#pragma once
// An IPv4 or IPv6 address block (10.0.0.0/8, ::1/128, or one address), as the allow lists of
// client addresses take it. Asio-free, so configuration validation and the fuzzers can use it.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fcgimux {

/// One address block.
struct cidr {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  ///< network order; the first 4 for IPv4; bits past prefix are 0
  unsigned prefix = 0;                   ///< 0..32 or 0..128

  /// ADDRESS[/PREFIX]; nullopt when it is not one (bits set past the prefix are refused too:
  /// 10.1.2.3/8 is a typo more often than a block).
  static std::optional<cidr> parse(std::string_view text);
  /// Whether the address (4 or 16 bytes, network order) lies in this block. An IPv4-mapped IPv6
  /// address (::ffff:a.b.c.d) is compared as the IPv4 address it carries.
  bool contains(const std::uint8_t* address, bool address_v6) const noexcept;
  /// The canonical text, e.g. "127.0.0.0/8".
  std::string to_string() const;
};

}  // namespace fcgimux
