// SPDX-License-Identifier: ISC
// The options of the whole process (stats server, shutdown, upgrade, daemon) and of the command
// line alone (-c, --help, php-fpm files).
#include "src/config/option_parse.hpp"

namespace fcgimux::config_detail {

std::vector<option_def> process_options() {
  return {
      {"config", 'c', kind::text, scope::command, no_process, no_pool,
       "JSON file with these settings, and optionally \"pools\" (flags win)"},
      {"stats", 0, kind::text, scope::process, [](config& c, const std::string& v) { c.stats = v; }, no_pool,
       "stats HTTP endpoint HOST:PORT, or off (default 127.0.0.1:9001)"},
      {"stats-allow", 0, kind::list, scope::process,
       [](config& c, const std::string& v) {
         const auto block = cidr::parse(v);
         if (!block)
           throw config_error(
               fmt::format("stats-allow: '{}' is not ADDRESS or ADDRESS/PREFIX (no bit set past the prefix)", v));
         c.stats_allow.push_back(*block);
       },
       no_pool,
       "clients (ADDRESS[/PREFIX]) the stats server answers, /healthz excepted; repeatable (default: loopback only)",
       [](config& c) { c.stats_allow.clear(); }, no_pool_list},
      {"stats-token-file", 0, kind::text, scope::process,
       [](config& c, const std::string& v) { c.stats_token_file = v; }, no_pool,
       "a file holding the token every stats request but /healthz must send as 'Authorization: Bearer TOKEN'; "
       "read at start and on SIGHUP (default: no token)"},
      {"stats-show-query", 0, kind::flag, scope::process,
       [](config& c, const std::string&) { c.stats_show_query = true; }, no_pool,
       "show in-flight URIs with their query string in ?full and --status-path (default: cut at '?')"},
      {"error-log", 0, kind::text, scope::process, [](config& c, const std::string& v) { c.error_log = v; }, no_pool,
       "fcgimux's log and its workers' stderr: a file, stderr or syslog; a file is reopened on SIGUSR1 (default "
       "stderr)"},
      {"max-conns", 0, kind::count, scope::process,
       [](config& c, const std::string& v) { c.max_conns = to_count("max-conns", v); }, no_pool,
       "front connections at once, over all listeners (default 16384)"},
      {"shutdown-timeout", 0, kind::seconds, scope::process,
       [](config& c, const std::string& v) { c.shutdown_timeout = seconds(to_number("shutdown-timeout", v)); }, no_pool,
       "seconds to let requests finish on SIGTERM (default 30)"},
      {"shutdown-delay", 0, kind::seconds, scope::process,
       [](config& c, const std::string& v) { c.shutdown_delay = seconds(to_number("shutdown-delay", v)); }, no_pool,
       "seconds fcgimux keeps accepting and serving after SIGTERM while /healthz already answers 503, so that a "
       "load balancer stops sending first; then it drains (default 0)"},
      {"upgrade-timeout", 0, kind::seconds, scope::process,
       [](config& c, const std::string& v) { c.upgrade_timeout = seconds(to_number("upgrade-timeout", v)); }, no_pool,
       "seconds the new binary started by SIGUSR2 may take to be ready before it is given up (default 30)"},
      {"daemon", 0, kind::flag, scope::process, [](config& c, const std::string&) { c.daemon = true; }, no_pool,
       "go to the background once listening; the command returns 0 once started, 1 if start-up failed"},
      {"pidfile", 0, kind::text, scope::process, [](config& c, const std::string& v) { c.pidfile = v; }, no_pool,
       "write fcgimux's pid to this file once it serves; removed at exit; after SIGUSR2 it names the new process"},
      {"verbose", 'v', kind::flag, scope::process, [](config& c, const std::string&) { c.verbose = true; }, no_pool,
       "log more"},
      {"version", 0, kind::flag, scope::command, [](config& c, const std::string&) { c.show_version = true; }, no_pool,
       "print the version"},
      {"help", 'h', kind::flag, scope::command, [](config& c, const std::string&) { c.show_help = true; }, no_pool,
       "this text"},
      {"check-config", 't', kind::flag, scope::command, [](config& c, const std::string&) { c.check_only = true; },
       no_pool,
       "check the flags, the -c file and every pool's users and program, then exit: 0 if they are fine, 2 with "
       "the error if not; nothing is bound, started or written (as nginx -t)"},
      // php-fpm's ping and its workers' limits (docs/php-fpm-status.md).
      {"php-fpm-config", 0, kind::text, scope::command, [](config& c, const std::string& v) { c.php_fpm_config = v; },
       no_pool,
       "run php-fpm's configuration file (its includes and [pool] sections) with php-cgi workers; every directive "
       "not mapped is named in a warning (docs/migrating.md)"},
      {"php-fpm-prefix", 0, kind::text, scope::command, [](config& c, const std::string& v) { c.php_fpm_prefix = v; },
       no_pool,
       "php-fpm's -p: the directory relative include= and paths are taken from (default /usr, /var for pid and "
       "error_log)"},
      {"php-fpm-daemonize", 0, kind::text, scope::command,
       [](config& c, const std::string& v) {
         if (v != "yes" && v != "no") throw config_error(fmt::format("php-fpm-daemonize: '{}' is not yes or no", v));
         c.php_fpm_daemonize = v;
       },
       no_pool,
       "yes (php-fpm's -D) or no (-F): wins over the file's daemonize (default: the file's; unset is no, "
       "yes when started as php-fpm)"},
      {"php-cgi", 0, kind::text, scope::command, [](config& c, const std::string& v) { c.php_cgi = v; }, no_pool,
       "the php-cgi that runs --php-fpm-config's pools (default: php-cgiX.Y of php-fpm's version beside it or on "
       "PATH, else php-cgi on PATH)"},
      {"php-ini", 0, kind::text, scope::command, [](config& c, const std::string& v) { c.php_ini = v; }, no_pool,
       "php-fpm's -c: the php.ini path or directory given to php-cgi (-c)"},
      {"print-config", 0, kind::flag, scope::command, [](config& c, const std::string&) { c.print_config = true; },
       no_pool, "print the fcgimux JSON (-c) that --php-fpm-config becomes, then exit"},
  };
}

}  // namespace fcgimux::config_detail
