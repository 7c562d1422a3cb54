// SPDX-License-Identifier: ISC
#include "src/base/cidr.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace fcgimux {

namespace {

bool bits_match(const std::uint8_t* a, const std::uint8_t* b, unsigned prefix) noexcept {
  const unsigned whole = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

constexpr std::uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<cidr> cidr::parse(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string address(text.substr(0, slash));
  cidr c;
  if (::inet_pton(AF_INET, address.c_str(), c.bytes.data()) == 1) {
    c.v6 = false;
  } else if (::inet_pton(AF_INET6, address.c_str(), c.bytes.data()) == 1) {
    c.v6 = true;
  } else {
    return std::nullopt;
  }
  const unsigned max = c.v6 ? 128 : 32;
  c.prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || value > max) return std::nullopt;
    c.prefix = value;
  }
  std::array<std::uint8_t, 16> masked{};
  const unsigned whole = c.prefix / 8, rest = c.prefix % 8;
  std::copy_n(c.bytes.begin(), whole, masked.begin());
  if (rest != 0) masked[whole] = static_cast<std::uint8_t>(c.bytes[whole] & (0xff << (8 - rest)));
  if (masked != c.bytes) return std::nullopt;
  // contains() compares a mapped address as IPv4, so a mapped block must be one too
  if (c.v6 && c.prefix >= 96 && std::memcmp(c.bytes.data(), v4_mapped_prefix, sizeof v4_mapped_prefix) == 0) {
    std::array<std::uint8_t, 16> v4{};
    std::copy_n(c.bytes.begin() + 12, 4, v4.begin());
    c = cidr{.v6 = false, .bytes = v4, .prefix = c.prefix - 96};
  }
  return c;
}

bool cidr::contains(const std::uint8_t* address, bool address_v6) const noexcept {
  if (address_v6 && std::memcmp(address, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0) {
    address += sizeof v4_mapped_prefix;
    address_v6 = false;
  }
  if (address_v6 != v6) return false;
  return bits_match(address, bytes.data(), prefix);
}

std::string cidr::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text);
  return std::string(text) + "/" + std::to_string(prefix);
}

}  // namespace fcgimux
