// SPDX-License-Identifier: ISC
// php-fpm's directives as fcgimux's pools: a file with every directive issue 25 lists, Debian's
// stock files, the warnings, and --print-config's JSON read back with -c.

#include "src/config/config.hpp"
#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>

using fcgimux::config;
using fcgimux::config_error;
using fcgimux::pool_config;
using fcgimux::test::temp_dir;
using fcgimux::test::write_file;

namespace {

const fcgimux::process_identity root{0, 0};

config parse(std::vector<std::string> args, std::string argv0 = "fcgimux") {
  args.insert(args.begin(), argv0);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return fcgimux::parse_config(static_cast<int>(argv.size()), argv.data(), root);
}

const pool_config& pool_named(const config& c, const std::string& name) {
  auto it = std::find_if(c.pools.begin(), c.pools.end(), [&](auto& p) { return p.name == name; });
  REQUIRE(it != c.pools.end());
  return *it;
}

bool warned(const config& c, const std::string& text) {
  return std::any_of(c.warnings.begin(), c.warnings.end(), [&](auto& w) { return w.find(text) != std::string::npos; });
}

std::string env_of(const pool_config& p, const std::string& name) {
  for (auto& [k, v] : p.env)
    if (k == name) return v;
  return "<absent>";
}

// Every directive of issue 25, over three pools and an include.
std::string multi_pool_file(const temp_dir& dir) {
  write_file(dir.file("pools/static.conf"), R"([static]
user = nobody
group = nogroup
listen = 127.0.0.1:19000
listen.backlog = 77
listen.allowed_clients = 127.0.0.1, 10.0.0.0/8
pm = static
pm.max_children = 3
pm.max_requests = 50
request_terminate_timeout = 2m
request_slowlog_timeout = 5s
slowlog = /var/log/$pool.slow
request_slowlog_trace_depth = 20
access.log = log/$pool.access
access.format = "%R %m %r %s"
pm.status_path = /status
ping.path = /ping
ping.response = pong
chroot = /srv/jail
chdir = /
env[GREETING] = hello $pool
env[PATH] = $PATH
clear_env = no
rlimit_files = 1024
rlimit_core = 0
process.priority = -5
catch_workers_output = no
decorate_workers_output = no
security.limit_extensions = .php .php7
php_value[memory_limit] = 64M
php_flag[display_errors] = on
php_admin_value[error_log] = /var/log/$pool.php.log
php_admin_flag[log_errors] = off
frobnicate = 1
)");
  write_file(dir.file("php-fpm.conf"), R"(; every directive of issue 25
[global]
pid = run/fpm.pid
error_log = /var/log/fpm-test.log
log_level = notice
daemonize = no
emergency_restart_threshold = 10
emergency_restart_interval = 1m
process_control_timeout = 7s
include = )" + dir.file("pools") + R"(/*.conf

[dynamic]
user = www-data
listen = /run/fcgimux-test/$pool.sock
listen.owner = www-data
listen.group = www-data
listen.mode = 0600
pm = dynamic
pm.max_children = 8
pm.start_servers = 3
pm.min_spare_servers = 2
pm.max_spare_servers = 4
pm.status_path = /other-status
slowlog = log/$pool.slow

[ondemand]
user = nobody
listen = 19001
pm = ondemand
pm.max_children = 5
pm.process_idle_timeout = 20s
security.limit_extensions =
env[HOME] = $HOME
)");
  return dir.file("php-fpm.conf");
}

}  // namespace

TEST_CASE("fpm map: every directive is mapped or named in a warning", "[fpm]") {
  temp_dir dir;
  ::mkdir(dir.file("pools").c_str(), 0755);
  const auto conf = multi_pool_file(dir);
  const config c = parse({"--php-fpm-config", conf, "--php-cgi", "/usr/bin/php-cgi8.2"});
  INFO([&] {
    std::string all;
    for (auto& w : c.warnings) all += w + "\n";
    return all;
  }());
  REQUIRE(c.pools.size() == 3);
  // The global section.
  CHECK(c.pidfile == "/var/run/fpm.pid");  // relative to php-fpm's /var
  CHECK(c.error_log == "/var/log/fpm-test.log");
  CHECK_FALSE(c.daemon);
  CHECK(c.stats == "off");
  CHECK(warned(c, "php-fpm.conf:5: [global] log_level:"));
  CHECK(warned(c, "php-fpm.conf:7: [global] emergency_restart_threshold:"));
  CHECK(warned(c, "[global] emergency_restart_interval:"));
  // static
  const pool_config& s = pool_named(c, "static");
  CHECK(s.user == "nobody");
  CHECK(s.group == "nogroup");
  CHECK(s.listen == std::vector<std::string>{"127.0.0.1:19000"});
  CHECK(s.backlog == 77);
  CHECK(s.allow.size() == 2);
  CHECK(s.workers == 3);
  CHECK(s.max_workers == 3);
  CHECK(s.max_requests == 50);
  CHECK(env_of(s, "PHP_FCGI_MAX_REQUESTS") == "50");
  CHECK(s.request_timeout.count() == 120);
  CHECK(s.slow_threshold.count() == 5);
  CHECK(s.slowlog == "/var/log/static.slow");
  CHECK(s.access_log == "/usr/log/static.access");
  CHECK(s.access_format == "%R %m %r %s");
  CHECK(s.chroot == "/srv/jail");
  CHECK(s.chdir == "/");
  CHECK(env_of(s, "GREETING") == "hello static");
  CHECK(env_of(s, "PATH") == "<absent>");  // $PATH: fcgimux's own, passed on as clear_env = no passes all
  CHECK_FALSE(s.clear_env);
  CHECK(s.stop_grace.count() == 7);
  CHECK(s.limit_extensions == std::vector<std::string>{".php", ".php7"});
  CHECK(s.command == std::vector<std::string>{"/usr/bin/php-cgi8.2", "-d", "memory_limit=64M", "-d",
                                              "display_errors=1", "-d", "error_log=/var/log/static.php.log", "-d",
                                              "log_errors=0"});
  CHECK(s.status_path == "/status");
  CHECK(s.ping_path == "/ping");
  CHECK(s.ping_response == "pong");
  CHECK(s.rlimit_files.set);
  CHECK(s.rlimit_files.value == 1024);
  CHECK(s.rlimit_core.set);
  CHECK(s.rlimit_core.value == 0);
  CHECK(s.nice_set);
  CHECK(s.nice == -5);
  CHECK_FALSE(warned(c, "[static] slowlog:"));
  for (const char* w : {"[static] request_slowlog_trace_depth: fcgimux reads no PHP", "[static] catch_workers_output:",
                        "[static] decorate_workers_output:", "[static] php_admin_value[error_log]: passed to php-cgi",
                        "[static] php_admin_flag[log_errors]:", "[static] frobnicate: unknown"})
    CHECK(warned(c, w));
  // dynamic
  const pool_config& d = pool_named(c, "dynamic");
  CHECK(d.status_path == "/other-status");  // each pool its own, as php-fpm
  // No request_slowlog_timeout: php-fpm writes no entry, and neither does fcgimux (it says why).
  CHECK(d.slowlog == "off");
  CHECK(warned(c, "[dynamic] slowlog: request_slowlog_timeout is 0 or unset"));
  CHECK(d.listen == std::vector<std::string>{"unix:/run/fcgimux-test/dynamic.sock"});
  CHECK(d.socket_owner == "www-data:www-data");
  CHECK(d.socket_mode == 0600);
  CHECK(d.workers == 3);
  CHECK(d.spare == 2);
  CHECK(d.max_workers == 8);
  CHECK(d.idle_timeout.count() == 10);
  CHECK(d.clear_env);  // php-fpm's default
  CHECK(d.limit_extensions == std::vector<std::string>{".php", ".phar"});  // php-fpm's default
  CHECK(env_of(d, "PHP_FCGI_MAX_REQUESTS") == "0");
  CHECK(warned(c, "[dynamic] pm.max_spare_servers: fcgimux releases"));
  // ondemand
  const pool_config& o = pool_named(c, "ondemand");
  CHECK(o.listen == std::vector<std::string>{"0.0.0.0:19001"});
  CHECK(o.workers == 1);
  CHECK(o.max_workers == 5);
  CHECK(o.idle_timeout.count() == 20);
  CHECK(o.limit_extensions.empty());
  CHECK(o.pass_env == std::vector<std::string>{"HOME"});  // clear_env: fcgimux's HOME kept by name
  CHECK(warned(c, "[ondemand] pm: ondemand:"));
  // Every warning names its file and line.
  for (auto& w : c.warnings) CHECK(w.find(".conf:") != std::string::npos);
}

TEST_CASE("fpm map: --print-config's JSON, read back with -c, gives the same pools", "[fpm]") {
  temp_dir dir;
  ::mkdir(dir.file("pools").c_str(), 0755);
  const auto conf = multi_pool_file(dir);
  const config a = parse({"--php-fpm-config", conf, "--php-cgi", "/usr/bin/php-cgi8.2", "--print-config"});
  REQUIRE(a.print_config);
  REQUIRE_FALSE(a.printed_config.empty());
  write_file(dir.file("printed.json"), a.printed_config);
  const config b = parse({"-c", dir.file("printed.json")});
  REQUIRE(b.pools.size() == a.pools.size());
  for (std::size_t i = 0; i < a.pools.size(); ++i) {
    const pool_config &x = a.pools[i], &y = b.pools[i];
    INFO(x.name);
    CHECK(x.name == y.name);
    CHECK(x.listen == y.listen);
    CHECK(x.command == y.command);
    CHECK(x.env == y.env);
    CHECK(x.pass_env == y.pass_env);
    CHECK(x.clear_env == y.clear_env);
    CHECK(x.user == y.user);
    CHECK(x.group == y.group);
    CHECK(x.workers == y.workers);
    CHECK(x.max_workers == y.max_workers);
    CHECK(x.spare == y.spare);
    CHECK(x.idle_timeout == y.idle_timeout);
    CHECK(x.max_requests == y.max_requests);
    CHECK(x.request_timeout == y.request_timeout);
    CHECK(x.slow_threshold == y.slow_threshold);
    CHECK(x.access_log == y.access_log);
    CHECK(x.access_format == y.access_format);
    CHECK(x.socket_owner == y.socket_owner);
    CHECK(x.socket_mode == y.socket_mode);
    CHECK(x.backlog == y.backlog);
    CHECK(x.allow.size() == y.allow.size());
    CHECK(x.chroot == y.chroot);
    CHECK(x.chdir == y.chdir);
    CHECK(x.stop_grace == y.stop_grace);
    CHECK(x.limit_extensions == y.limit_extensions);
    CHECK(x.status_path == y.status_path);
    CHECK(x.ping_path == y.ping_path);
    CHECK(x.nice == y.nice);
  }
  CHECK(a.pidfile == b.pidfile);
  CHECK(a.error_log == b.error_log);
  CHECK(a.stats == b.stats);
}

TEST_CASE("fpm map: Debian's stock php-fpm.conf and www.conf", "[fpm]") {
  const config c = parse({"--php-fpm-config", "/etc/php/8.2/fpm/php-fpm.conf"});
  REQUIRE(c.pools.size() == 1);
  const pool_config& p = c.pools.front();
  CHECK(p.name == "www");
  CHECK(p.listen == std::vector<std::string>{"unix:/run/php/php8.2-fpm.sock"});
  CHECK(p.user == "www-data");
  CHECK(p.group == "www-data");
  CHECK(p.socket_owner == "www-data:www-data");
  CHECK(p.workers == 2);
  CHECK(p.spare == 1);
  CHECK(p.max_workers == 5);
  CHECK(p.command.front() == "/usr/bin/php-cgi8.2");  // php-fpm's version, from the file's path
  CHECK(c.pidfile == "/run/php/php8.2-fpm.pid");
  CHECK(c.error_log == "/var/log/php8.2-fpm.log");
  CHECK_FALSE(c.daemon);  // fcgimux's own command line: daemonize only when the file says so
  CHECK(c.warnings.size() == 1);  // pm.max_spare_servers
}

TEST_CASE("fpm map: started as php-fpm8.2, php-fpm's flags and defaults", "[fpm][compat]") {
  const config c = parse({"-y", "/etc/php/8.2/fpm/php-fpm.conf", "-t"}, "/usr/sbin/php-fpm8.2");
  CHECK(c.check_only);
  CHECK(c.daemon);  // php-fpm's default daemonize = yes
  CHECK(parse({"--nodaemonize"}, "php-fpm8.2").pools.front().name == "www");  // the default -y of 8.2
  CHECK_FALSE(parse({"-F", "-R"}, "php-fpm8.2").daemon);
  CHECK(parse({"-F", "-D"}, "php-fpm8.2").daemon);
  CHECK(parse({"-F", "-c", "/etc/php/8.2/fpm/php.ini"}, "php-fpm8.2").pools.front().command ==
        std::vector<std::string>{"/usr/bin/php-cgi8.2", "-c", "/etc/php/8.2/fpm/php.ini"});
  CHECK_THROWS_WITH(parse({"-F", "-d", "x=1"}, "php-fpm8.2"), Catch::Contains("php-fpm: unknown option -d"));
  CHECK_THROWS_WITH(parse({"-y", "/nonexistent/php-fpm.conf"}, "php-fpm"), Catch::Contains("cannot open"));
}

TEST_CASE("fpm map: refusals", "[fpm]") {
  temp_dir dir;
  write_file(dir.file("a.conf"), "[www]\nlisten = 9000\npm = sometimes\npm.max_children = 2\n");
  CHECK_THROWS_WITH(parse({"--php-fpm-config", dir.file("a.conf"), "--php-cgi", "/bin/true"}),
                    Catch::Contains("a.conf:3: pm: 'sometimes' is not static, dynamic or ondemand"));
  write_file(dir.file("b.conf"), "[www]\nlisten = 9000\npm.max_children = lots\n");
  CHECK_THROWS_WITH(parse({"--php-fpm-config", dir.file("b.conf"), "--php-cgi", "/bin/true"}),
                    Catch::Contains("b.conf:3: pm.max_children: 'lots' is not a whole number"));
  write_file(dir.file("c.conf"), "[global]\npid = /run/x.pid\n");
  CHECK_THROWS_WITH(parse({"--php-fpm-config", dir.file("c.conf"), "--php-cgi", "/bin/true"}),
                    Catch::Contains("no pool section"));
  CHECK_THROWS_WITH(parse({"--print-config"}), Catch::Contains("only with --php-fpm-config"));
  CHECK_THROWS_WITH(parse({"--php-fpm-config", dir.file("a.conf"), "-c", dir.file("x.json")}),
                    Catch::Contains("give one of them"));
}
