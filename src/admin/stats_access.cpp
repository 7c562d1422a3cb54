// SPDX-License-Identifier: ISC
#include "src/admin/stats_access.hpp"

namespace fcgimux {

namespace {

const std::vector<cidr>& loopback() {
  static const std::vector<cidr> blocks{*cidr::parse("127.0.0.0/8"), *cidr::parse("::1/128")};
  return blocks;
}

char lower_ascii(char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; }

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  // Every byte of the longer one is read whatever differs, so the time says nothing of where.
  const std::size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

bool stats_access::address_allowed(const std::uint8_t* address, bool v6) const noexcept {
  for (const cidr& block : allow.empty() ? loopback() : allow)
    if (block.contains(address, v6)) return true;
  return false;
}

bool stats_access::token_accepted(std::string_view authorization) const noexcept {
  if (token.empty()) return true;
  // RFC 6750 2.1: the scheme is case-insensitive, then one or more spaces, then the token.
  constexpr std::string_view scheme = "bearer";
  if (authorization.size() <= scheme.size() || authorization[scheme.size()] != ' ') return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (lower_ascii(authorization[i]) != scheme[i]) return false;
  std::string_view given = authorization.substr(scheme.size());
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  return constant_time_equal(given, token);
}

}  // namespace fcgimux
