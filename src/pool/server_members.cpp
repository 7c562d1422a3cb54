// SPDX-License-Identifier: ISC
#include "src/pool/server_members.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace fcgimux {

std::string member_key(const server_config& s, const resolved_address& a) {
  return s.named ? fmt::format("{}@{}", s.address, address_text(a)) : s.address;
}

std::vector<member_spec> members_of(const std::vector<server_config>& servers, const server_addresses& known) {
  std::vector<member_spec> out;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    const server_config& s = servers[i];
    const std::vector<resolved_address>* where = &s.resolved;
    if (s.named)
      if (auto it = known.find(s.address); it != known.end()) where = &it->second;
    for (const resolved_address& a : *where) {
      std::string key = member_key(s, a);
      // One member per name: the same server twice in the list, or two addresses written alike.
      if (std::any_of(out.begin(), out.end(), [&](const member_spec& m) { return m.key == key; })) continue;
      out.push_back({i, std::move(key), a});
    }
  }
  return out;
}

std::vector<std::string> take_answers(server_addresses& known, const std::vector<server_config>& servers,
                                      const name_answers& answers) {
  std::vector<std::string> failed;
  for (const server_config& s : servers) {
    if (!s.named) continue;
    const host_port hp = split_host_port(s.address);
    auto it = answers.find(hp.host);
    if (it == answers.end() || it->second.addresses.empty()) {
      if (std::find(failed.begin(), failed.end(), s.address) == failed.end()) failed.push_back(s.address);
      continue;
    }
    std::vector<resolved_address>& mine = known[s.address];
    mine.clear();
    for (const resolved_address& a : it->second.addresses) mine.push_back(with_port(a, hp.port));
  }
  return failed;
}

member_changes diff_members(const std::vector<std::string>& now, const std::vector<member_spec>& wanted) {
  member_changes c;
  std::vector<bool> matched(wanted.size(), false);
  for (std::size_t i = 0; i < now.size(); ++i) {
    auto it = std::find_if(wanted.begin(), wanted.end(), [&](const member_spec& w) { return w.key == now[i]; });
    if (it == wanted.end()) {
      c.drain.push_back(i);
      continue;
    }
    const auto j = static_cast<std::size_t>(it - wanted.begin());
    matched[j] = true;
    c.keep.emplace_back(i, j);
  }
  for (std::size_t j = 0; j < wanted.size(); ++j)
    if (!matched[j]) c.add.push_back(j);
  return c;
}

}  // namespace fcgimux
