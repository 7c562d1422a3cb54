// SPDX-License-Identifier: ISC
#include "tests/support/test_data.hpp"

#include <algorithm>

namespace fcgimux::test {

std::string pattern_bytes(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

std::string random_bytes(std::size_t n, std::uint64_t seed) {
  std::string s(n, '\0');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (std::size_t i = 0; i < n; ++i) {
    // xorshift64*: cheap and good enough to catch reordered or dropped chunks.
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s[i] = static_cast<char>((x * 0x2545F4914F6CDD1DULL) >> 56);
  }
  return s;
}

std::size_t first_difference(const std::string& a, const std::string& b) {
  auto m = std::mismatch(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(std::min(a.size(), b.size())), b.begin());
  return static_cast<std::size_t>(m.first - a.begin());
}

}  // namespace fcgimux::test
