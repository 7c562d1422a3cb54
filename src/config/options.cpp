// SPDX-License-Identifier: ISC
#include "src/config/options.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>

namespace fcgimux::config_detail {
namespace {

std::size_t to_count(std::string_view name, const std::string& v) {
  std::size_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || p != v.data() + v.size() || v.empty())
    throw config_error(fmt::format("{}: '{}' is not a non-negative whole number", name, v));
  return out;
}

double to_number(std::string_view name, const std::string& v, std::string_view unit = "a number of seconds") {
  std::size_t used = 0;
  double d = 0;
  try {
    d = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty() || !std::isfinite(d) || d < 0)
    throw config_error(fmt::format("{}: '{}' is not {}", name, v, unit));
  return d;
}

bool to_yes_no(std::string_view name, const std::string& v) {
  if (v == "yes" || v == "true" || v == "on" || v == "1") return true;
  if (v == "no" || v == "false" || v == "off" || v == "0") return false;
  throw config_error(fmt::format("{}: '{}' is not yes or no", name, v));
}

// Octal permission bits, as chmod(1) takes them: 0660, 660, 0600.
unsigned to_mode(std::string_view name, const std::string& v) {
  unsigned out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out, 8);
  if (ec != std::errc{} || p != v.data() + v.size() || v.empty() || out > 0777)
    throw config_error(fmt::format("{}: '{}' is not an octal mode from 0 to 0777, such as 0660", name, v));
  return out;
}

// The option's name is the field's, with dashes for underscores.
std::string option_name(std::string_view field) {
  std::string n(field);
  std::replace(n.begin(), n.end(), '_', '-');
  return n;
}

#define POOL_COUNT(field) [](pool_config& p, const std::string& v) { p.field = to_count(option_name(#field), v); }
#define POOL_SECONDS(field) \
  [](pool_config& p, const std::string& v) { p.field = seconds(to_number(option_name(#field), v)); }

constexpr auto no_process = nullptr;
constexpr auto no_pool = nullptr;
constexpr void (*no_process_list)(config&) = nullptr;
constexpr void (*no_pool_list)(pool_config&) = nullptr;

}  // namespace

const std::vector<option_def>& options() {
  static const std::vector<option_def> defs = {
      {"listen", 0, kind::list, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.listen.push_back(v); },
       "front listener, HOST:PORT or unix:PATH; repeatable (default 127.0.0.1:9000)", no_process_list, [](pool_config& p) { p.listen.clear(); }},
      {"backlog", 0, kind::count, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         p.backlog = to_count("backlog", v);
         if (p.backlog > INT_MAX) throw config_error(fmt::format("backlog: at most {}", INT_MAX));
       },
       "listen() backlog of the pool's listeners; the kernel caps it at net.core.somaxconn (default: SOMAXCONN)"},
      {"workers", 'n', kind::count, scope::pool, no_process, POOL_COUNT(workers),
       "workers to start: the pool's minimum (default 4)"},
      {"max-workers", 'N', kind::count, scope::pool, no_process, POOL_COUNT(max_workers),
       "the pool's maximum (default: --workers)"},
      {"variable", 'r', kind::flag, scope::pool, no_process,
       [](pool_config& p, const std::string&) { p.variable_pool = true; },
       "variable pool: --max-workers defaults to 2 x --workers (kfcgi's -r)"},
      {"keep-conn", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         if (v == "auto")
           p.keep_conn = keep_conn_mode::auto_;
         else
           p.keep_conn = to_yes_no("keep-conn", v) ? keep_conn_mode::yes : keep_conn_mode::no;
       },
       "yes|no|auto. yes: one kept FCGI_KEEP_CONN connection per worker; no: a connection per request; auto: yes until "
       "a worker closes its first kept connection unanswered and exits (kcgi apps), then no (default auto)"},
      {"worker-sched", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         if (v != "batch" && v != "normal")
           throw config_error(fmt::format("worker-sched: '{}' is not batch or normal", v));
         p.batch_workers = v == "batch";
       },
       "batch: a woken worker waits for fcgimux's turn to end instead of preempting it; normal: "
       "as started (default batch)"},
      {"env", 0, kind::list, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         const auto eq = v.find('=');
         if (eq == 0 || eq == std::string::npos) throw config_error(fmt::format("env: '{}' is not NAME=VALUE", v));
         std::string name = v.substr(0, eq);
         auto same = std::find_if(p.env.begin(), p.env.end(), [&](auto& kv) { return kv.first == name; });
         if (same != p.env.end())
           same->second = v.substr(eq + 1);
         else
           p.env.emplace_back(std::move(name), v.substr(eq + 1));
       },
       "NAME=VALUE in the workers' environment; repeatable (a file's \"env\" is an object)"},
      {"clear-env", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.clear_env = to_yes_no("clear-env", v); },
       "yes: workers get none of fcgimux's environment but PATH, --pass-env and --env; no: all of it, as spawn-fcgi "
       "gives it (default no)"},
      {"pass-env", 0, kind::list, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         if (v.empty() || v.find_first_of(std::string_view("=\0", 2)) != std::string::npos)
           throw config_error(fmt::format("pass-env: '{}' is not a variable's name", v));
         if (std::find(p.pass_env.begin(), p.pass_env.end(), v) == p.pass_env.end()) p.pass_env.push_back(v);
       },
       "NAME of fcgimux's environment that a worker keeps under --clear-env yes; repeatable", no_process_list, [](pool_config& p) { p.pass_env.clear(); }},
      {"no-new-privs", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.no_new_privs = to_yes_no("no-new-privs", v); },
       "yes: workers and what they run never gain privileges through exec (setuid, setgid, file capabilities); "
       "breaks a setgid sendmail (default no)"},
      {"config", 'c', kind::text, scope::command, no_process, no_pool,
       "JSON file with these settings, and optionally \"pools\" (flags win)"},
      {"stats", 0, kind::text, scope::process, [](config& c, const std::string& v) { c.stats = v; }, no_pool,
       "stats HTTP endpoint HOST:PORT, or off (default 127.0.0.1:9001)"},
      {"stats-allow", 0, kind::list, scope::process,
       [](config& c, const std::string& v) {
         const auto block = cidr::parse(v);
         if (!block) throw config_error(
             fmt::format("stats-allow: '{}' is not ADDRESS or ADDRESS/PREFIX (no bit set past the prefix)", v));
         c.stats_allow.push_back(*block);
       },
       no_pool,
       "clients (ADDRESS[/PREFIX]) the stats server answers, /healthz excepted; repeatable (default: loopback only)", [](config& c) { c.stats_allow.clear(); }, no_pool_list},
      {"stats-token-file", 0, kind::text, scope::process,
       [](config& c, const std::string& v) { c.stats_token_file = v; }, no_pool,
       "a file holding the token every stats request but /healthz must send as 'Authorization: Bearer TOKEN'; "
       "read at start and on SIGHUP (default: no token)"},
      {"stats-show-query", 0, kind::flag, scope::process,
       [](config& c, const std::string&) { c.stats_show_query = true; }, no_pool,
       "show in-flight URIs with their query string in ?full and --status-path (default: cut at '?')"},
      {"status-path", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.status_path = v; },
       "a SCRIPT_NAME fcgimux answers itself with the pool's status in php-fpm's formats (?json, ?xml, ?html, "
       "?openmetrics, text; ?full), or ?metrics, like php-fpm's pm.status_path"},
      {"error-log", 0, kind::text, scope::process, [](config& c, const std::string& v) { c.error_log = v; }, no_pool,
       "fcgimux's log and its workers' stderr: a file, stderr or syslog; a file is reopened on SIGUSR1 (default "
       "stderr)"},
      {"body-buffer", 0, kind::count, scope::pool, no_process, POOL_COUNT(body_buffer),
       "request body bytes read before a request takes a worker (default 1048576)"},
      {"max-params", 0, kind::count, scope::pool, no_process, POOL_COUNT(max_params),
       "PARAMS bytes per request (default 65536)"},
      {"max-conns", 0, kind::count, scope::process,
       [](config& c, const std::string& v) { c.max_conns = to_count("max-conns", v); }, no_pool,
       "front connections at once, over all listeners (default 16384)"},
      {"max-reqs", 0, kind::count, scope::pool, no_process, POOL_COUNT(max_reqs),
       "request ids in flight per front connection (default 128)"},
      {"output-buffer", 0, kind::count, scope::pool, no_process, POOL_COUNT(output_buffer),
       "bytes queued for a slow front before its workers pause (default 262144)"},
      {"idle-timeout", 'w', kind::seconds, scope::pool, no_process, POOL_SECONDS(idle_timeout),
       "seconds an extra worker may stay idle before release (default 300)"},
      {"spare", 0, kind::count, scope::pool, no_process, POOL_COUNT(spare),
       "idle workers kept ready below the maximum (default 0)"},
      {"max-spawn-rate", 0, kind::rate, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         p.max_spawn_rate = to_number("max-spawn-rate", v, "a number of workers per second");
       },
       "workers started per second at most (default: 10 x --max-workers)"},
      {"queue-limit", 0, kind::count, scope::pool, no_process, POOL_COUNT(queue_limit),
       "requests waiting for a worker (default 1024)"},
      {"queue-timeout", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(queue_timeout),
       "seconds a request may wait for a worker; 0 = no limit (default 0)"},
      {"request-timeout", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(request_timeout),
       "seconds a worker may spend on one request before it is killed; 0 = off"},
      {"send-timeout", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(send_timeout),
       "seconds a front may take no byte of its pending answer before it is closed; 0 = off (default 60)"},
      {"abandon-timeout", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(abandon_timeout),
       "seconds a worker may go on with a request whose front left before it is killed; 0 = wait (default 5)"},
      {"max-requests", 0, kind::count, scope::pool, no_process, POOL_COUNT(max_requests),
       "retire a worker after N requests; 0 = off"},
      {"slow-threshold", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(slow_threshold),
       "log requests slower than this; 0 = off"},
      {"slowlog", 0, kind::text, scope::pool, no_process, [](pool_config& p, const std::string& v) { p.slowlog = v; },
       "an entry per request still at its worker past --slow-threshold (pid, script, kernel stack) to this file, "
       "- (stdout) or off; reopened on SIGUSR1 (default off)"},
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
      {"roll-surge", 0, kind::count, scope::pool, no_process, POOL_COUNT(roll_surge),
       "workers started at once beyond the pool's size while SIGHUP replaces them all (default 1)"},
      {"user", 0, kind::text, scope::pool, no_process, [](pool_config& p, const std::string& v) { p.user = v; },
       "the workers' user (name or number), with its supplementary groups; as root it must be given (--user root "
       "to really run them as root)"},
      {"group", 0, kind::text, scope::pool, no_process, [](pool_config& p, const std::string& v) { p.group = v; },
       "the workers' group (default: --user's primary group)"},
      {"chroot", 0, kind::text, scope::pool, no_process, [](pool_config& p, const std::string& v) { p.chroot = v; },
       "the workers' root directory; the program path is resolved inside it (root only)"},
      {"chdir", 0, kind::text, scope::pool, no_process, [](pool_config& p, const std::string& v) { p.chdir = v; },
       "the workers' working directory, inside --chroot if given (default /)"},
      {"socket-owner", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.socket_owner = v; },
       "USER[:GROUP] owning the pool's unix listeners (no GROUP: USER's primary group)"},
      {"socket-mode", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.socket_mode = to_mode("socket-mode", v); },
       "octal permissions of the pool's unix listeners (default 0660)"},
      // What a front may hold (docs/security.md, "Fronts").
      {"header-timeout", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(header_timeout),
       "seconds from a BEGIN_REQUEST to the end of its PARAMS before the front connection is closed; 0 = off "
       "(default 30, as nginx's client_header_timeout)"},
      {"front-idle-timeout", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(front_idle_timeout),
       "seconds a front connection may stay open with no request before it is closed; 0 = off (default 0: "
       "web servers' kept connections stay)"},
      {"allow", 0, kind::list, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         auto c = cidr::parse(v);
         if (!c) throw config_error(
             fmt::format("allow: '{}' is not an IPv4 or IPv6 ADDRESS[/PREFIX] (no bit set past the prefix)", v));
         p.allow.push_back(std::move(*c));
       },
       "ADDRESS[/PREFIX] a TCP listener of the pool accepts connections from; repeatable; others are closed at "
       "once (default: any; php-fpm's listen.allowed_clients)", no_process_list, [](pool_config& p) { p.allow.clear(); }},
      // Remote servers (docs/remote.md).
      {"server", 0, kind::list, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.servers.push_back(parse_server(v)); },
       "a FastCGI server to send requests to: HOST:PORT or unix:PATH, then ,weight=N ,max-conns=N ,backup; "
       "repeatable (a file's \"servers\" is an array of objects)", no_process_list, [](pool_config& p) { p.servers.clear(); }},
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
      {"php-fpm-config", 0, kind::text, scope::command,
       [](config& c, const std::string& v) { c.php_fpm_config = v; }, no_pool,
       "run php-fpm's configuration file (its includes and [pool] sections) with php-cgi workers; every directive "
       "not mapped is named in a warning (docs/migrating.md)"},
      {"php-fpm-prefix", 0, kind::text, scope::command,
       [](config& c, const std::string& v) { c.php_fpm_prefix = v; }, no_pool,
       "php-fpm's -p: the directory relative include= and paths are taken from (default /usr, /var for pid and "
       "error_log)"},
      {"php-fpm-daemonize", 0, kind::text, scope::command,
       [](config& c, const std::string& v) {
         if (v != "yes" && v != "no") throw config_error(fmt::format("php-fpm-daemonize: '{}' is not yes or no", v));
         c.php_fpm_daemonize = v;
       },
       no_pool, "yes (php-fpm's -D) or no (-F): wins over the file's daemonize (default: the file's; unset is no, "
                "yes when started as php-fpm)"},
      {"php-cgi", 0, kind::text, scope::command, [](config& c, const std::string& v) { c.php_cgi = v; }, no_pool,
       "the php-cgi that runs --php-fpm-config's pools (default: php-cgiX.Y of php-fpm's version beside it or on "
       "PATH, else php-cgi on PATH)"},
      {"php-ini", 0, kind::text, scope::command, [](config& c, const std::string& v) { c.php_ini = v; }, no_pool,
       "php-fpm's -c: the php.ini path or directory given to php-cgi (-c)"},
      {"print-config", 0, kind::flag, scope::command, [](config& c, const std::string&) { c.print_config = true; },
       no_pool, "print the fcgimux JSON (-c) that --php-fpm-config becomes, then exit"},
      {"roles", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         unsigned roles = 0;
         std::string_view rest = v;
         while (true) {
           const auto comma = rest.find(',');
           std::string_view one = rest.substr(0, comma);
           if (one == "responder") roles |= proto::role_bit(proto::role::responder);
           else if (one == "authorizer") roles |= proto::role_bit(proto::role::authorizer);
           else if (one == "filter") roles |= proto::role_bit(proto::role::filter);
           else
             throw config_error(fmt::format("roles: '{}' is not responder, authorizer or filter (comma-separated)", one));
           if (comma == std::string_view::npos) break;
           rest.remove_prefix(comma + 1);
         }
         p.roles = roles;
       },
       "the FastCGI roles the program serves, comma-separated: responder, authorizer, filter; others get "
       "UNKNOWN_ROLE (default responder)"},
      {"limit-extensions", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         p.limit_extensions.clear();
         std::string_view rest = v;
         while (!rest.empty()) {
           const auto blank = rest.find_first_of(" \t");
           std::string_view one = rest.substr(0, blank);
           if (!one.empty()) p.limit_extensions.emplace_back(one);
           if (blank == std::string_view::npos) break;
           rest.remove_prefix(blank + 1);
         }
       },
       "space-separated endings SCRIPT_FILENAME must have, such as '.php .phar', else 403 (php-fpm's "
       "security.limit_extensions; default: any)"},
      {"check-interval", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(check_interval),
       "seconds between two active checks of each server; 0 = none (default 5)"},
      {"check-path", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         if (!v.empty() && v.front() != '/') throw config_error(fmt::format("check-path: '{}' does not start with /", v));
         p.check_path = v;
       },
       "a check is a GET of this path (php-fpm's ping.path) instead of FCGI_GET_VALUES"},
      {"check-status", 0, kind::count, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         std::size_t n = to_count("check-status", v);
         if (n < 100 || n > 599) throw config_error(fmt::format("check-status: '{}' is not a status from 100 to 599", v));
         p.check_status = static_cast<int>(n);
       },
       "the status a check-path answer must have (default 200)"},
      {"check-timeout", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(check_timeout),
       "seconds a check's answer may take once connected (default 2)"},
      {"rise", 0, kind::count, scope::pool, no_process, POOL_COUNT(rise),
       "passed checks in a row that bring a down server back (default 2)"},
      {"fall", 0, kind::count, scope::pool, no_process, POOL_COUNT(fall),
       "failed checks in a row that take a server down (default 3)"},
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
      {"stop-grace", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(stop_grace),
       "seconds between SIGTERM and SIGKILL when stopping a worker (default 5)"},
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
      {"rlimit-files", 0, kind::count, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         p.rlimit_files = {.set = true, .value = to_count("rlimit-files", v)};
         if (p.rlimit_files.value == 0) throw config_error("rlimit-files: at least 1");
       },
       "open files each worker may hold (RLIMIT_NOFILE, soft and hard), like php-fpm's rlimit_files (default: "
       "fcgimux's own)"},
      {"rlimit-core", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         p.rlimit_core = v == "unlimited" ? worker_rlimit{.set = true, .unlimited = true}
                                          : worker_rlimit{.set = true, .value = to_count("rlimit-core", v)};
       },
       "the largest core file of a worker in bytes, or unlimited (RLIMIT_CORE, soft and hard), like php-fpm's "
       "rlimit_core (default: fcgimux's own)"},
      {"nice", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         int n = 0;
         auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
         if (ec != std::errc{} || end != v.data() + v.size() || v.empty() || n < -20 || n > 19)
           throw config_error(fmt::format("nice: '{}' is not a whole number from -20 to 19", v));
         p.nice_set = true;
         p.nice = n;
       },
       "the workers' nice value, -20 to 19 (below fcgimux's own takes root), like php-fpm's process.priority "
       "(default: fcgimux's own)"},
  };
  return defs;
}

#undef POOL_COUNT
#undef POOL_SECONDS

const option_def* find_long(std::string_view name) {
  for (const auto& o : options())
    if (o.name == name) return &o;
  return nullptr;
}

const option_def* find_short(char c) {
  for (const auto& o : options())
    if (o.short_name == c) return &o;
  return nullptr;
}

}  // namespace fcgimux::config_detail
