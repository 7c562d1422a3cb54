// SPDX-License-Identifier: ISC
#pragma once
// Settings from the command line and an optional JSON file (-c). Keys of the file are the long
// option names; the command line wins over the file. A file may hold several pools ("pools": [...]);
// without one, the flat file and the command line describe one pool named "default".

#include "proto/protocol.hpp"
#include "src/base/cidr.hpp"

#include <sys/socket.h>
#include <sys/types.h>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace fcgimux {

/// Thrown only while loading the configuration; main() prints it and exits with status 2.
struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// How fcgimux talks to a pool's workers between requests.
enum class keep_conn_mode : std::uint8_t {
  yes,   ///< one kept FCGI_KEEP_CONN connection per worker
  no,    ///< a connection per request (kcgi apps exit on KEEP_CONN)
  auto_  ///< yes, until a worker shows it cannot keep connections; then no for that pool
};

/// A setting in seconds, fractions allowed; zero means "off" where the option says so.
using seconds = std::chrono::duration<double>;

/// Who a pool's workers run as: --user/--group resolved once, when the configuration is read, so
/// that no name lookup ever runs between fork and exec (docs/privileges.md).
struct worker_credentials {
  bool change = false;  ///< false: the workers keep fcgimux's own ids (fcgimux is not root)
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  ///< supplementary groups (getgrouplist, as initgroups would)
  std::string user_name;      ///< for the log
  std::string group_name;
};

/// Who owns a pool's unix listeners, from --socket-owner USER[:GROUP].
struct socket_owner_ids {
  bool set = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

/// One socket address, ready for bind or connect: a literal, a unix path, or an answer to a name.
struct resolved_address {
  sockaddr_storage address{};
  socklen_t length = 0;
};

/// A remote FastCGI server of a pool (docs/remote.md). A literal address or a unix path is read
/// with the configuration; a host name is looked up with the other names of the configuration
/// (config/names.hpp: at start-up, and off the event loop at a reload) and again every
/// resolve-interval, one member per address.
struct server_config {
  std::string address;        ///< as given: HOST:PORT or unix:PATH
  std::size_t weight = 1;     ///< its share under least-outstanding and round-robin balancing
  std::size_t max_conns = 0;  ///< requests in flight there at most; 0: its FCGI_MAX_CONNS answer
  bool backup = false;        ///< used only while no other member of the pool can take a request
  bool named = false;         ///< HOST is a name, not a literal address
  /// Its addresses: one for a literal or a unix path, each of its name's (in the resolver's order,
  /// with its port) once names are resolved.
  std::vector<resolved_address> resolved;
};

/// A resource limit set in each worker before exec (--rlimit-files, --rlimit-core).
struct worker_rlimit {
  bool set = false;        ///< false: the worker inherits fcgimux's
  bool unlimited = false;  ///< RLIM_INFINITY
  std::uint64_t value = 0;
};

/// Which of a pool's servers takes the next request.
enum class balance_mode : std::uint8_t {
  least_outstanding,  ///< fewest requests in flight for its weight
  round_robin,        ///< in turn, weighted
  first               ///< the first in the configured order that has room
};

/// Everything about one pool: where its requests come in, what runs them, and its limits.
struct pool_config {
  std::string name = "default";      ///< [a-z0-9_-]+, unique
  std::vector<std::string> listen;   ///< HOST:PORT or unix:PATH; default 127.0.0.1:9000 (one pool only)
  std::size_t backlog = 0;           ///< listen() backlog of the pool's listeners; 0: SOMAXCONN
  std::vector<std::string> command;  ///< PROGRAM ARGS...
  std::vector<std::pair<std::string, std::string>> env;  ///< added to (or replacing in) the workers' environment
  // What else of fcgimux's own environment and powers a worker gets (docs/privileges.md).
  bool clear_env = false;             ///< --clear-env: workers get only PATH, pass_env and env
  std::vector<std::string> pass_env;  ///< --pass-env: names of fcgimux's variables kept when cleared
  bool no_new_privs = false;          ///< --no-new-privs: PR_SET_NO_NEW_PRIVS in each worker
  std::size_t workers = 4;            ///< the pool's minimum
  std::size_t max_workers = 0;        ///< 0 until resolved: same as workers (or 2x with -r)
  bool variable_pool = false;         ///< -r
  keep_conn_mode keep_conn = keep_conn_mode::auto_;
  bool batch_workers = true;               ///< --worker-sched batch: workers under SCHED_BATCH
  std::size_t body_buffer = 1 << 20;       ///< STDIN bytes read before a request takes a worker
  std::size_t max_params = 64 * 1024;      ///< PARAMS bytes per request
  std::size_t max_reqs = 128;              ///< request ids in flight per front connection
  std::size_t output_buffer = 256 * 1024;  ///< bytes waiting for a front before workers pause
  seconds idle_timeout{300};               ///< before an idle worker above the minimum goes
  std::size_t spare = 0;                   ///< idle workers kept ready while below the maximum
  double max_spawn_rate = 0;               ///< workers per second; 0: max-workers * 10
  std::size_t queue_limit = 1024;          ///< requests waiting for a worker
  seconds queue_timeout{0};                ///< 0: no limit
  seconds request_timeout{0};              ///< from a worker taking a request; 0: no limit
  seconds send_timeout{60};                ///< a front may take no byte of pending output; 0: no limit
  seconds abandon_timeout{5};              ///< a worker may go on after its front left
  std::size_t max_requests = 0;            ///< per worker; 0: no limit
  seconds slow_threshold{0};               ///< 0: off
  std::string slowlog = "off";             ///< an entry per request past slow_threshold: a path, "-" or "off"
  std::string slowlog_command;             ///< run on a slow worker, {pid} replaced; empty: none
  seconds slowlog_timeout{10};             ///< before a slowlog command is killed
  std::string access_log = "off";          ///< one line per request: an absolute path, "-" (stdout) or "off"
  std::string access_format;               ///< php-fpm's access.format tokens; empty: the default
  seconds stop_grace{5};                   ///< between SIGTERM and SIGKILL for a worker
  std::size_t roll_surge = 1;              ///< new workers starting at once during a roll (SIGHUP)
  // What a front may hold (docs/security-front.md).
  seconds header_timeout{30};     ///< BEGIN_REQUEST to the end of its PARAMS; 0: no limit
  seconds front_idle_timeout{0};  ///< a front connection with no request open; 0: kept for ever
  std::vector<cidr> allow;        ///< --allow: peers a TCP listener accepts; empty: any
  // Privileges (docs/privileges.md).
  std::string user;                ///< --user: the workers' user (name or number); as root it must be given
  std::string group;               ///< --group; without it, the user's primary group
  std::string chroot;              ///< --chroot DIR: the workers' root; the program is found inside it
  std::string chdir;               ///< --chdir DIR: the workers' directory (inside the jail); default /
  std::string socket_owner;        ///< --socket-owner USER[:GROUP] of the pool's unix listeners
  unsigned socket_mode = 0660;     ///< --socket-mode of the pool's unix listeners
  worker_credentials credentials;  ///< resolved from user and group by parse_config
  socket_owner_ids socket_ids;     ///< resolved from socket_owner by parse_config
  // Remote servers (docs/remote.md).
  std::vector<server_config> servers;  ///< --server / "servers": members fcgimux connects to and does not spawn
  balance_mode balance = balance_mode::least_outstanding;
  bool servers_first = false;    ///< --prefer servers: the workers are the servers' overflow
  seconds connect_timeout{2};    ///< for a connect to a server
  std::size_t max_fails = 3;     ///< failures in a row that eject a server; 0: never
  seconds eject_time{10};        ///< a first ejection's length; doubled while it keeps failing
  seconds slow_start{0};         ///< a joining or recovered server's ramp to its full weight; 0: off
  seconds resolve_interval{30};  ///< between two lookups of a server's host name; 0: at start and reload only
  /// --roles: the FastCGI roles the program serves (proto::role_bit); the rest get UNKNOWN_ROLE
  /// (docs/roles.md: responder only by default, since most programs serve nothing else).
  unsigned roles = proto::role_bit(proto::role::responder);
  // php-fpm's security.limit_extensions (docs/migrating.md).
  std::vector<std::string> limit_extensions;  ///< SCRIPT_FILENAME must end in one; empty: any (403 otherwise)
  // Active health checks of the servers (docs/remote.md).
  seconds check_interval{5};  ///< between two checks of a server; 0: no checks
  std::string check_path;     ///< empty: FCGI_GET_VALUES; else a GET of this path
  int check_status = 200;     ///< the status check_path's answer must have
  seconds check_timeout{2};   ///< for a check's answer, once connected (connect-timeout before)
  std::size_t rise = 2;       ///< passed checks in a row that bring a down server back
  std::size_t fall = 3;       ///< failed checks in a row that take a server down
  // php-fpm's status page, ping and the workers' limits (docs/php-fpm-status.md).
  std::string status_path;             ///< SCRIPT_NAME answered by fcgimux with this pool's status
  std::string ping_path;               ///< SCRIPT_NAME answered by fcgimux: ping_response, or 503
  std::string ping_response = "pong";  ///< the ping's body
  worker_rlimit rlimit_files;          ///< RLIMIT_NOFILE of each worker (soft and hard)
  worker_rlimit rlimit_core;           ///< RLIMIT_CORE of each worker (soft and hard)
  bool nice_set = false;               ///< --nice given: workers run at `nice`
  int nice = 0;                        ///< -20 to 19, as php-fpm's process.priority
};

/// The whole process: what is not about one pool, and the pools.
struct config {
  std::string stats = "127.0.0.1:9001";  ///< HOST:PORT or "off"
  std::vector<cidr> stats_allow;         ///< clients the stats server answers; empty: loopback only
  std::string stats_token_file;          ///< holds the bearer token asked for all but /healthz; empty: none
  std::string stats_token;               ///< read from stats_token_file by parse_config (so SIGHUP rereads it)
  bool stats_show_query = false;         ///< ?full and --status-path show in-flight URIs with their query
  std::string error_log = "stderr";      ///< fcgimux's log: "stderr", "syslog" or an absolute path
  std::size_t max_conns = 16384;         ///< front connections at once, over all listeners
  seconds shutdown_timeout{30};          ///< to drain on SIGTERM
  seconds shutdown_delay{0};             ///< accepting on after SIGTERM, /healthz 503, before the drain
  bool daemon = false;                   ///< fork to the background once listening (app/daemon.hpp)
  std::string pidfile;                   ///< written once serving; after a USR2 upgrade it names the new process
  bool verbose = false;
  seconds upgrade_timeout{30};     ///< for the new binary to be ready on USR2
  std::vector<pool_config> pools;  ///< at least one once parsed (unless help or version)
  /// The host names of the listeners, the stats address and the servers, as they were resolved
  /// (config/names.hpp): host -> addresses, in the resolver's order, port 0.
  std::map<std::string, std::vector<resolved_address>> names;

  // php-fpm's configuration (--php-fpm-config, docs/migrating.md): read once into a -c file's JSON.
  std::string php_fpm_config;         ///< php-fpm.conf to run
  std::string php_fpm_prefix;         ///< php-fpm's -p: relative includes and paths; empty: /usr
  std::string php_cgi;                ///< the pools' php-cgi; empty: php-cgi of php-fpm's version
  std::string php_ini;                ///< php-fpm's -c, passed to php-cgi
  std::string php_fpm_daemonize;      ///< yes (-D), no (-F), empty: the file's daemonize
  bool print_config = false;          ///< --print-config: print printed_config and exit
  std::string printed_config;         ///< the JSON --php-fpm-config became
  std::vector<std::string> warnings;  ///< one line per php-fpm directive not mapped, logged at start

  bool show_help = false;
  bool show_version = false;
  bool check_only = false;  ///< -t, --check-config: check everything, start nothing
};

/// Whose privileges the rules about --user, --group and --chroot are checked against.
struct process_identity {
  uid_t uid = 0;  ///< effective
  gid_t gid = 0;
  /// fcgimux's own (geteuid, getegid).
  static process_identity current() noexcept;
};

/// Parses argv (and the file named by -c) and resolves its host names now (start-up and -t:
/// nothing is served yet). Throws config_error with one line naming the problem (and the pool,
/// when the file has several). Invoked as kfcgi or spawn-fcgi (argv[0]), argv is that tool's
/// command line (config/compat.hpp).
config parse_config(int argc, char** argv);
/// The same, with the privilege rules checked against `self` instead of fcgimux's own ids.
config parse_config(int argc, char** argv, const process_identity& self);
/// parse_config without the host names: no lookup, so the event loop may call it (a reload
/// resolves names_to_resolve() off the loop and then calls apply_names(), config/names.hpp).
config read_config(int argc, char** argv);
config read_config(int argc, char** argv, const process_identity& self);

/// The --help text.
std::string usage_text();

}  // namespace fcgimux
