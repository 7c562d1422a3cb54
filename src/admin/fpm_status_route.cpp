// SPDX-License-Identifier: ISC
#include "src/admin/fpm_status_route.hpp"

namespace fcgimux {

std::optional<fpm_page> fpm_status_route(const stats& s, std::string_view query) {
  std::optional<std::string_view> name;
  for (std::string_view rest = query; !rest.empty();) {
    const std::size_t amp = rest.find('&');
    const std::string_view word = rest.substr(0, amp);
    if (word.substr(0, 5) == "pool=") name = word.substr(5);
    rest.remove_prefix(amp == std::string_view::npos ? rest.size() : amp + 1);
  }
  // Pool names are [a-z0-9_-]: no decoding. Without a name only a lone pool is meant.
  for (const stats::named_pool& p : s.pools())
    if (name ? p.name == *name : s.pools().size() == 1) return fpm_status_page(s, p.name, *p.stats, query);
  return std::nullopt;
}

}  // namespace fcgimux
