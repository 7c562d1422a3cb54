// SPDX-License-Identifier: ISC
#pragma once
// The host names of a configuration: which it needs looked up (its TCP listeners, the stats
// address, its servers), the lookup itself for start-up and -t (getaddrinfo, while nothing is
// served yet), and what the answers fill in. A reload reads the configuration with
// read_config(), which looks nothing up, has the same names resolved off the event loop
// (upstream/name_resolver.hpp) and then calls apply_names() with the answers: no lookup ever runs
// on the loop once fcgimux serves.

#include "src/config/config.hpp"

#include <sys/socket.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fcgimux {

/// One host name's answer: its addresses (port 0, each once) in the resolver's order, or why none.
struct name_answer {
  std::vector<resolved_address> addresses;
  std::string error;
};
/// Host name -> its answer.
using name_answers = std::map<std::string, name_answer>;

/// HOST:PORT (as check_listen accepts it) taken apart: the host as looked up (no brackets, `*` as
/// 0.0.0.0) and the port.
struct host_port {
  std::string host;
  std::uint16_t port = 0;
};
host_port split_host_port(const std::string& address);

/// A literal IPv4 or IPv6 host with `port` (no lookup: AI_NUMERICHOST); nullopt for a name.
std::optional<resolved_address> literal_address(const std::string& host, std::uint16_t port);
/// `a` with its port set to `port`.
resolved_address with_port(resolved_address a, std::uint16_t port);
/// Its numeric address without the port: 10.0.0.5, [fd00::5]; a unix path as unix:PATH.
std::string address_text(const resolved_address& a);
/// Adds `sa` to `answer` unless it is there already (a name may give one address twice).
void add_address(name_answer& answer, const sockaddr* sa, socklen_t length);

/// The host names `c` needs looked up, each once, in the order the configuration names them.
std::vector<std::string> names_to_resolve(const config& c);
/// Looks `hosts` up now, one getaddrinfo each (start-up and -t only).
name_answers resolve_now(const std::vector<std::string>& hosts);
/// Fills in what `answers` say: c.names, each named server's addresses; then compares the
/// listeners as resolved addresses (check_listen_conflicts). Throws config_error naming the
/// setting of a name without an address.
void apply_names(config& c, const name_answers& answers);
/// A listener's or the stats' HOST:PORT as `c` resolved it: its host's first answer (what bind
/// gets, as getaddrinfo orders them), or the literal address.
resolved_address tcp_address(const config& c, const std::string& address);

}  // namespace fcgimux
