// SPDX-License-Identifier: ISC
// The options about what a pool reports: php-fpm's status and ping pages, the slow log, the access
// log.
#include "src/config/option_parse.hpp"

namespace fcgimux::config_detail {

std::vector<option_def> report_options() {
  return {
      {"status-path", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.status_path = v; },
       "a SCRIPT_NAME fcgimux answers itself with the pool's status in php-fpm's formats (?json, ?xml, ?html, "
       "?openmetrics, text; ?full), or ?metrics, like php-fpm's pm.status_path"},
      {"ping-path", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.ping_path = v; },
       "a SCRIPT_NAME fcgimux answers itself with --ping-response while the pool can serve, 503 otherwise, like "
       "php-fpm's ping.path"},
      {"ping-response", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         if (v.empty()) throw config_error("ping-response: must not be empty");
         p.ping_response = v;
       },
       "the body of --ping-path's answer (default pong)"},
      {"slowlog", 0, kind::text, scope::pool, no_process, [](pool_config& p, const std::string& v) { p.slowlog = v; },
       "an entry per request still at its worker past --slow-threshold (pid, script, kernel stack) to this file, "
       "- (stdout) or off; reopened on SIGUSR1 (default off)"},
      {"slow-threshold", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(slow_threshold),
       "log requests slower than this; 0 = off"},
      {"slowlog-command", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.slowlog_command = v; },
       "a command (sh -c) run on a slow request's worker, {pid} replaced by its pid, its output added to the "
       "slowlog entry, e.g. 'gdb -p {pid} -batch -ex bt' (default none)"},
      {"slowlog-timeout", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(slowlog_timeout),
       "seconds a --slowlog-command may run before it is killed (default 10)"},
      {"access-log", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.access_log = v; },
       "one line per request to this file, - (stdout) or off; reopened on SIGUSR1 (default off)"},
      {"access-format", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.access_format = v; },
       "the access log's line, with php-fpm's access.format tokens (docs/logging.md; default "
       "'%R - %u [%t] \"%m %r%Q%q\" %s %d %n %p')"},
  };
}

}  // namespace fcgimux::config_detail
