// SPDX-License-Identifier: ISC
#pragma once
// Which members a pool's servers stand for, and what changes when they change (sans I/O). A
// server given as a literal address or a unix path is one member, named as configured. One given
// by a host name is one member per address its name resolves to (a Kubernetes headless Service,
// nginx's `resolve`, HAProxy's server-template), each named NAME:PORT@ADDRESS. A lookup that
// fails keeps the addresses of the last one that did not.

#include "src/config/config.hpp"
#include "src/config/names.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fcgimux {

/// One member a configured server stands for.
struct member_spec {
  std::size_t server = 0;  ///< its server's index in the pool's servers
  std::string key;         ///< its name in /stats, /metrics and the log
  resolved_address where;  ///< what it connects to
};

/// Each named server's addresses (by its configured address), from its last lookup that answered.
using server_addresses = std::map<std::string, std::vector<resolved_address>>;

/// The name of `s`'s member at `a`: NAME:PORT@ADDRESS for a named server, the address as given
/// for a literal one or a unix path.
std::string member_key(const server_config& s, const resolved_address& a);

/// The members `servers` stand for: a literal one's own address, a named one's from `known`.
std::vector<member_spec> members_of(const std::vector<server_config>& servers, const server_addresses& known);

/// A lookup of the named servers' hosts taken into `known`: a host that answered gives its
/// servers its addresses (with each server's port); one that failed leaves theirs as they were.
/// Returns the configured addresses of the named servers whose lookup failed.
std::vector<std::string> take_answers(server_addresses& known, const std::vector<server_config>& servers,
                                      const name_answers& answers);

/// From the members a set has (their keys; draining ones left out) to the ones wanted.
struct member_changes {
  std::vector<std::pair<std::size_t, std::size_t>> keep;  ///< (index in now, index in wanted): settings may change
  std::vector<std::size_t> add;                           ///< index in wanted
  std::vector<std::size_t> drain;                         ///< index in now
};
member_changes diff_members(const std::vector<std::string>& now, const std::vector<member_spec>& wanted);

}  // namespace fcgimux
