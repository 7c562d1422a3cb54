// SPDX-License-Identifier: ISC
// The options about a pool's own workers: how many, their environment, users and limits, their
// timeouts, and the pool's front listeners.
#include "src/config/option_parse.hpp"

#include <algorithm>
#include <climits>

namespace fcgimux::config_detail {

std::vector<option_def> worker_options() {
  return {
      {"listen", 0, kind::list, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.listen.push_back(v); },
       "front listener, HOST:PORT or unix:PATH; repeatable (default 127.0.0.1:9000)", no_process_list,
       [](pool_config& p) { p.listen.clear(); }},
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
       "NAME of fcgimux's environment that a worker keeps under --clear-env yes; repeatable", no_process_list,
       [](pool_config& p) { p.pass_env.clear(); }},
      {"no-new-privs", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) { p.no_new_privs = to_yes_no("no-new-privs", v); },
       "yes: workers and what they run never gain privileges through exec (setuid, setgid, file capabilities); "
       "breaks a setgid sendmail (default no)"},
      {"body-buffer", 0, kind::count, scope::pool, no_process, POOL_COUNT(body_buffer),
       "request body bytes read before a request takes a worker (default 1048576)"},
      {"max-params", 0, kind::count, scope::pool, no_process, POOL_COUNT(max_params),
       "PARAMS bytes per request (default 65536)"},
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
         if (!c)
           throw config_error(
               fmt::format("allow: '{}' is not an IPv4 or IPv6 ADDRESS[/PREFIX] (no bit set past the prefix)", v));
         p.allow.push_back(std::move(*c));
       },
       "ADDRESS[/PREFIX] a TCP listener of the pool accepts connections from; repeatable; others are closed at "
       "once (default: any; php-fpm's listen.allowed_clients)",
       no_process_list, [](pool_config& p) { p.allow.clear(); }},
      // Remote servers (docs/remote.md).
      {"roles", 0, kind::text, scope::pool, no_process,
       [](pool_config& p, const std::string& v) {
         unsigned roles = 0;
         std::string_view rest = v;
         while (true) {
           const auto comma = rest.find(',');
           std::string_view one = rest.substr(0, comma);
           if (one == "responder")
             roles |= proto::role_bit(proto::role::responder);
           else if (one == "authorizer")
             roles |= proto::role_bit(proto::role::authorizer);
           else if (one == "filter")
             roles |= proto::role_bit(proto::role::filter);
           else
             throw config_error(
                 fmt::format("roles: '{}' is not responder, authorizer or filter (comma-separated)", one));
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
      {"stop-grace", 0, kind::seconds, scope::pool, no_process, POOL_SECONDS(stop_grace),
       "seconds between SIGTERM and SIGKILL when stopping a worker (default 5)"},
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
}

}  // namespace fcgimux::config_detail
