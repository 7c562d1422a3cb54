// SPDX-License-Identifier: ISC
// The options about a pool's remote FastCGI servers: their addresses, balancing, ejection and
// health checks.
#include "src/config/option_parse.hpp"

namespace fcgimux::config_detail {

std::vector<option_def> server_options() {
  return {
      {"server", 0, kind::list, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.servers.push_back(parse_server(v)); },
       "a FastCGI server to send requests to: HOST:PORT or unix:PATH, then ,weight=N ,max-conns=N ,backup; "
       "repeatable (a file's \"servers\" is an array of objects)",
       no_process_list, [](pool_config& p) { p.servers.clear(); }},
      {"balance", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         if (v == "least-outstanding")
           p.balance = balance_mode::least_outstanding;
         else if (v == "round-robin")
           p.balance = balance_mode::round_robin;
         else if (v == "first")
           p.balance = balance_mode::first;
         else
           throw config_error(fmt::format("balance: '{}' is not least-outstanding, round-robin or first", v));
       },
       "which server takes a request: least-outstanding (fewest in flight per weight), round-robin or first "
       "(default least-outstanding)"},
      {"prefer", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         if (v != "workers" && v != "servers")
           throw config_error(fmt::format("prefer: '{}' is not workers or servers", v));
         p.servers_first = v == "servers";
       },
       "a pool with workers and servers sends requests to these first, to the others when they are full "
       "(default workers)"},
      {"connect-timeout", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(connect_timeout),
       "seconds a connect to a server may take (default 2)"},
      {"max-fails", 0, kind::count, scope::pool, no_process, POOL_COUNT(max_fails),
       "failed requests in a row (refused or timed-out connects, resets) that eject a server; 0 = never (default 3)"},
      {"eject-time", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(eject_time),
       "seconds an ejected server takes no request, doubled while it keeps failing, at most 32 times (default 10)"},
      {"slow-start", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(slow_start),
       "seconds over which a server that is added, recovers or passes its first check grows from 1/32 of its "
       "weight to all of it (default 0 = off)"},
      {"resolve-interval", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(resolve_interval),
       "seconds between two lookups of a server's host name, one member per address it gives; 0 = only at start "
       "and on SIGHUP (default 30)"},
      // php-fpm's configuration (docs/migrating.md).
      {"check-interval", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(check_interval),
       "seconds between two active checks of each server; 0 = none (default 5)"},
      {"check-path", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         if (!v.empty() && v.front() != '/')
           throw config_error(fmt::format("check-path: '{}' does not start with /", v));
         p.check_path = v;
       },
       "a check is a GET of this path (php-fpm's ping.path) instead of FCGI_GET_VALUES"},
      {"check-status", 0, kind::count, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         std::size_t n = to_count("check-status", v);
         if (n < 100 || n > 599)
           throw config_error(fmt::format("check-status: '{}' is not a status from 100 to 599", v));
         p.check_status = static_cast<int>(n);
       },
       "the status a check-path answer must have (default 200)"},
      {"check-timeout", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(check_timeout),
       "seconds a check's answer may take once connected (default 2)"},
      {"rise", 0, kind::count, scope::pool, no_process, POOL_COUNT(rise),
       "passed checks in a row that bring a down server back (default 2)"},
      {"fall", 0, kind::count, scope::pool, no_process, POOL_COUNT(fall),
       "failed checks in a row that take a server down (default 3)"},
  };
}

}  // namespace fcgimux::config_detail
