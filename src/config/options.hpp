// SPDX-License-Identifier: ISC
#pragma once
// The table of settings that the command line, the JSON file and --help all read: one entry per
// option, saying whether it is about the whole process or about a pool. Internal to src/config/.

#include "src/config/config.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace fcgimux::config_detail {

enum class kind { count, seconds, rate, text, list, flag };  // rate: a number per second
enum class scope {
  process,  ///< one value for the whole fcgimux
  pool,     ///< a value per pool; at the top of a pools file, the default of every pool
  command   ///< only on the command line (-c, --help, --version)
};

struct option_def {
  std::string_view name;  // long name, also the JSON key
  char short_name;        // 0: none
  kind k;
  scope s;
  void (*set_process)(config&, const std::string&);
  void (*set_pool)(pool_config&, const std::string&);
  std::string_view help;
  /// A list option's values at a lower level (the defaults, the file's top level, the file) are
  /// replaced, not extended, by the first value given at a higher one: this empties them. None
  /// (env): values are merged by name instead.
  void (*clear_process)(config&) = nullptr;
  void (*clear_pool)(pool_config&) = nullptr;
};

const std::vector<option_def>& options();
const option_def* find_long(std::string_view name);
const option_def* find_short(char c);

/// Started as root with no --user: the one refusal a compat mode rewords, since kfcgi's and
/// spawn-fcgi's users name the workers' user with a flag of their own (-U, -u).
struct user_required : config_error {
  using config_error::config_error;
};

/// Checks a pool and fills in what defaults to other settings; throws config_error without the
/// pool's name (the caller adds it when there are several pools).
void finish_pool(pool_config& p, bool only_pool, const process_identity& self);
/// Checks the process-wide settings and what pools must not share.
void finish_process(config& c, bool named_pools, const process_identity& self);
void check_listen(std::string_view key, const std::string& address);
/// Listeners (and the stats address) the kernel would not bind side by side once their names are
/// resolved (c.names, apply_names): one address spelt two ways, a wildcard and an address of its
/// family on one port.
void check_listen_conflicts(const config& c);
/// One --server value: ADDRESS[,weight=N][,max-conns=N][,backup] (config/servers.cpp).
server_config parse_server(const std::string& spec);
/// Checks a server's address and fills in a literal one or a unix path; a host name is only
/// marked `named` (config/names.hpp looks it up).
void check_server(server_config& s);

}  // namespace fcgimux::config_detail
