// SPDX-License-Identifier: ISC
#include "src/app/decimal.hpp"

#include <charconv>

namespace fcgimux {

long decimal_of(std::string_view s) {
  long v = -1;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && p == s.data() + s.size() && !s.empty() && v >= 0 ? v : -1;
}

}  // namespace fcgimux
