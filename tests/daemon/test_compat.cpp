// SPDX-License-Identifier: ISC
// The kfcgi and spawn-fcgi command lines: what each flag becomes in fcgimux's options, and, where
// those options exist, what parse_config() makes of the whole line. Also --backlog, --env,
// --daemon and --pidfile, which the translations use.

#include "src/config/compat.hpp"
#include "src/config/config.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using fcgimux::compat_mode;
using fcgimux::config;
using fcgimux::config_error;
using strings = std::vector<std::string>;

namespace {

// As an unprivileged user (nobody): the translation is what is tested here; as root, fcgimux
// would first ask for --user (tests/privilege).
config parse_as(const std::string& argv0, strings args) {
  args.insert(args.begin(), argv0);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return fcgimux::parse_config(static_cast<int>(argv.size()), argv.data(), fcgimux::process_identity{65534, 65534});
}

strings kfcgi(strings args) { return fcgimux::translate_kfcgi(args); }
strings spawn(strings args) { return fcgimux::translate_spawn_fcgi(args); }

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

std::string kfcgi_error(strings args) {
  return error_of([&] { kfcgi(std::move(args)); });
}
std::string spawn_error(strings args) {
  return error_of([&] { spawn(std::move(args)); });
}

// The value after `name` in a translated line ("" if absent); options come before "--".
std::string value_of(const strings& line, const std::string& name) {
  for (std::size_t i = 0; i + 1 < line.size() && line[i] != "--"; ++i)
    if (line[i] == name) return line[i + 1];
  return "";
}

bool has(const strings& line, const std::string& name) {
  for (std::size_t i = 0; i < line.size() && line[i] != "--"; ++i)
    if (line[i] == name) return true;
  return false;
}

strings program_of(const strings& line) {
  for (std::size_t i = 0; i < line.size(); ++i)
    if (line[i] == "--") return strings(line.begin() + static_cast<std::ptrdiff_t>(i) + 1, line.end());
  return {};
}

}  // namespace

TEST_CASE("compat: the mode follows the basename of argv[0]") {
  CHECK(fcgimux::compat_mode_of("kfcgi") == compat_mode::kfcgi);
  CHECK(fcgimux::compat_mode_of("/usr/lib/fcgimux/kfcgi") == compat_mode::kfcgi);
  CHECK(fcgimux::compat_mode_of("/usr/bin/fcgimux-kfcgi") == compat_mode::kfcgi);
  CHECK(fcgimux::compat_mode_of("spawn-fcgi") == compat_mode::spawn_fcgi);
  CHECK(fcgimux::compat_mode_of("/usr/lib/fcgimux/spawn-fcgi") == compat_mode::spawn_fcgi);
  CHECK(fcgimux::compat_mode_of("fcgimux-spawn-fcgi") == compat_mode::spawn_fcgi);
  CHECK(fcgimux::compat_mode_of("fcgimux") == compat_mode::none);
  CHECK(fcgimux::compat_mode_of("/usr/bin/fcgimux") == compat_mode::none);
  CHECK(fcgimux::compat_mode_of("kfcgi.sh") == compat_mode::none);
  CHECK(fcgimux::compat_mode_of("/opt/kfcgi/fcgimux") == compat_mode::none);
  CHECK(fcgimux::compat_mode_of("") == compat_mode::none);
  CHECK(fcgimux::compat_usage(compat_mode::none).empty());
  CHECK(fcgimux::compat_usage(compat_mode::kfcgi).find("usage: kfcgi [-drv]") == 0);
  CHECK(fcgimux::compat_usage(compat_mode::spawn_fcgi).find("usage: spawn-fcgi") == 0);
}

TEST_CASE("kfcgi: the defaults are kfcgi's") {
  CHECK(kfcgi({"/fcgi-bin/prog"}) == strings{"--stats", "off", "--listen", "unix:/var/www/run/httpd.sock", "--workers",
                                             "5", "--backlog", "10", "--keep-conn", "no", "--chroot", "/var/www",
                                             "--daemon", "--error-log", "syslog", "--", "/fcgi-bin/prog"});
}

TEST_CASE("kfcgi: every flag") {
  auto line =
      kfcgi({"-d",          "-r", "-v",       "-l", "64",     "-n", "3",  "-N", "9",        "-p", "/srv/jail", "-s",
             "/run/k.sock", "-u", "www-data", "-U", "nobody", "-w", "20", "--", "/bin/app", "a",  "-b"});
  CHECK(line == strings{"--stats",     "off",
                        "--listen",    "unix:/run/k.sock",
                        "--workers",   "3",
                        "--backlog",   "64",
                        "--keep-conn", "no",
                        "--variable",  "--max-workers",
                        "9",           "--idle-timeout",
                        "20",          "--chroot",
                        "/srv/jail",   "--socket-owner",
                        "www-data",    "--user",
                        "nobody",      "--verbose",
                        "--",          "/bin/app",
                        "a",           "-b"});
}

TEST_CASE("kfcgi: flags grouped and values attached, as getopt takes them") {
  auto line = kfcgi({"-dvr", "-n2", "-dN", "6", "-s/tmp/k.sock", "prog"});
  CHECK(has(line, "--verbose"));
  CHECK_FALSE(has(line, "--daemon"));
  CHECK(value_of(line, "--workers") == "2");
  CHECK(value_of(line, "--max-workers") == "6");
  CHECK(value_of(line, "--listen") == "unix:/tmp/k.sock");
  CHECK(program_of(line) == strings{"prog"});
}

TEST_CASE("kfcgi: options end at the program, whose own flags stay its own") {
  auto line = kfcgi({"-d", "/bin/app", "-n", "7", "--stats", "x"});
  CHECK(value_of(line, "--workers") == "5");
  CHECK(program_of(line) == strings{"/bin/app", "-n", "7", "--stats", "x"});
}

TEST_CASE("kfcgi: -r, -N and -n combine as in kfcgi") {
  // -r alone: the pool may double; the backlog is twice that.
  auto r = kfcgi({"-r", "-n", "4", "prog"});
  CHECK(has(r, "--variable"));
  CHECK_FALSE(has(r, "--max-workers"));
  CHECK(value_of(r, "--backlog") == "16");
  // -N equal to -n: a fixed pool.
  auto fixed = kfcgi({"-r", "-n", "4", "-N", "4", "prog"});
  CHECK_FALSE(has(fixed, "--variable"));
  CHECK_FALSE(has(fixed, "--max-workers"));
  CHECK(value_of(fixed, "--backlog") == "8");
  // -N without -r counts for nothing.
  auto ignored = kfcgi({"-n", "4", "-N", "10", "prog"});
  CHECK_FALSE(has(ignored, "--variable"));
  CHECK_FALSE(has(ignored, "--max-workers"));
  CHECK(value_of(ignored, "--backlog") == "8");
  // -r -N: the backlog follows the maximum; -l wins over it.
  CHECK(value_of(kfcgi({"-r", "-n", "2", "-N", "5", "prog"}), "--backlog") == "10");
  CHECK(value_of(kfcgi({"-r", "-n", "2", "-N", "5", "-l", "3", "prog"}), "--backlog") == "3");
  CHECK(kfcgi_error({"-r", "-n", "4", "-N", "3", "prog"}) == "kfcgi: -N (3) is smaller than -n (4)");
}

TEST_CASE("kfcgi: a jail of / is no jail") {
  CHECK_FALSE(has(kfcgi({"-p", "/", "prog"}), "--chroot"));
  CHECK(value_of(kfcgi({"-p", "/var/www", "prog"}), "--chroot") == "/var/www");
}

TEST_CASE("kfcgi: fcgimux's long options are taken too, and win") {
  auto line = kfcgi({"-d", "--stats", "127.0.0.1:0", "--keep-conn=auto", "-n", "2", "--variable", "prog"});
  // Later options win in parse_config: the user's come after the translation.
  CHECK(line == strings{"--stats", "off", "--listen", "unix:/var/www/run/httpd.sock", "--workers", "2", "--backlog",
                        "4", "--keep-conn", "no", "--chroot", "/var/www", "--stats", "127.0.0.1:0", "--keep-conn=auto",
                        "--variable", "--", "prog"});
  CHECK(kfcgi_error({"--bogus", "prog"}) == "kfcgi: unknown option '--bogus' (see --help)");
  CHECK(kfcgi_error({"--stats"}) == "kfcgi: --stats needs a value");
}

TEST_CASE("kfcgi: errors name the flag") {
  CHECK(kfcgi_error({"-x", "prog"}) == "kfcgi: unknown option -x (see --help)");
  CHECK(kfcgi_error({"-h", "prog"}) == "kfcgi: unknown option -h (see --help)");
  CHECK(kfcgi_error({"-dx", "prog"}) == "kfcgi: unknown option -x (see --help)");
  CHECK(kfcgi_error({"-n"}) == "kfcgi: -n needs a value");
  CHECK(kfcgi_error({"-n", "two", "prog"}) == "kfcgi: -n: 'two' is not a whole number from 0 to 2147483647");
  CHECK(kfcgi_error({"-l", "0", "prog"}) == "kfcgi: -l: '0' is not a whole number from 1 to 2147483647");
  CHECK(kfcgi_error({"-w", "-1", "prog"}) == "kfcgi: -w: '-1' is not a whole number from 0 to 2147483647");
  CHECK(kfcgi_error({"-N", "3x", "prog"}) == "kfcgi: -N: '3x' is not a whole number from 0 to 2147483647");
  CHECK(kfcgi_error({"-d"}).rfind("kfcgi: no prog given", 0) == 0);
  CHECK(kfcgi_error({"-d", "--"}).rfind("kfcgi: no prog given", 0) == 0);
}

TEST_CASE("kfcgi: the whole line through parse_config") {
  auto c = parse_as("/usr/lib/fcgimux/kfcgi", {"-d", "-v", "-p", "/", "-s", "/tmp/k.sock", "-r", "-n", "2", "-N", "4",
                                               "-w", "2", "--", "/bin/app", "one"});
  CHECK(c.stats == "off");
  CHECK(c.verbose);
  CHECK_FALSE(c.daemon);
  REQUIRE(c.pools.size() == 1);
  const auto& p = c.pools[0];
  CHECK(p.listen == strings{"unix:/tmp/k.sock"});
  CHECK(p.workers == 2);
  CHECK(p.max_workers == 4);
  CHECK(p.variable_pool);
  CHECK(p.idle_timeout == fcgimux::seconds(2));
  CHECK(p.backlog == 8);
  CHECK(p.keep_conn == fcgimux::keep_conn_mode::no);
  CHECK(p.command == strings{"/bin/app", "one"});
  // -r alone: twice -n, through fcgimux's own --variable.
  auto v = parse_as("kfcgi", {"-d", "-p", "/", "-r", "-n", "3", "prog"});
  CHECK(v.pools[0].max_workers == 6);
  CHECK(v.pools[0].backlog == 12);
  // fcgimux's options win over the translation.
  auto own = parse_as("kfcgi", {"-d", "-p", "/", "--stats", "127.0.0.1:0", "--keep-conn", "auto", "prog"});
  CHECK(own.stats == "127.0.0.1:0");
  CHECK(own.pools[0].keep_conn == fcgimux::keep_conn_mode::auto_);
  // -n 0 is kfcgi's to accept, fcgimux's to refuse.
  CHECK(error_of([] { parse_as("kfcgi", {"-d", "-p", "/", "-n", "0", "prog"}); }) == "workers: must be at least 1");
  // --help and --version need no prog.
  CHECK(parse_as("kfcgi", {"--help"}).show_help);
  CHECK(parse_as("kfcgi", {"-d", "--version"}).show_version);
}

TEST_CASE("spawn-fcgi: a TCP port, with spawn-fcgi's defaults") {
  CHECK(spawn({"-p", "9000", "--", "/usr/bin/php-cgi"}) == strings{"--stats", "off", "--workers", "1", "--backlog",
                                                                   "1024", "--listen", "0.0.0.0:9000", "--daemon", "--",
                                                                   "/usr/bin/php-cgi"});
}

TEST_CASE("spawn-fcgi: -a and -p") {
  CHECK(value_of(spawn({"-a", "127.0.0.1", "-p", "9000", "prog"}), "--listen") == "127.0.0.1:9000");
  CHECK(value_of(spawn({"-a", "::1", "-p", "9000", "prog"}), "--listen") == "[::1]:9000");
  CHECK(spawn_error({"-a", "localhost", "-p", "9000", "prog"}) == "spawn-fcgi: 'localhost' is not a valid IP address");
  CHECK(spawn_error({"-p", "0", "prog"}) == "spawn-fcgi: -p: '0' is not a whole number from 1 to 65535");
  CHECK(spawn_error({"-p", "65536", "prog"}) == "spawn-fcgi: -p: '65536' is not a whole number from 1 to 65535");
  CHECK(spawn_error({"-p", "80x", "prog"}) == "spawn-fcgi: -p: '80x' is not a whole number from 1 to 65535");
  // -a only counts with -p.
  CHECK(value_of(spawn({"-a", "127.0.0.1", "-s", "/tmp/s.sock", "prog"}), "--listen") == "unix:/tmp/s.sock");
}

TEST_CASE("spawn-fcgi: a unix socket, its mode and owner") {
  auto line = spawn({"-s", "/run/php.sock", "-M", "0600", "prog"});
  CHECK(value_of(line, "--listen") == "unix:/run/php.sock");
  CHECK(value_of(line, "--socket-mode") == "0600");
  CHECK_FALSE(has(line, "--socket-owner"));
  CHECK(value_of(spawn({"-s", "/r.sock", "-M", "660", "prog"}), "--socket-mode") == "0660");
  CHECK(spawn_error({"-s", "/r.sock", "-M", "0689", "prog"}) == "spawn-fcgi: -M: '0689' is not an octal mode");
  CHECK(spawn_error({"-s", "/r.sock", "-M", "17777", "prog"}) == "spawn-fcgi: -M: '17777' is not an octal mode");
  // The socket's owner: -U, else -u; its group: -G, else -U's primary group, else -g.
  CHECK(value_of(spawn({"-s", "/r.sock", "-u", "www-data", "prog"}), "--socket-owner") == "www-data");
  CHECK(value_of(spawn({"-s", "/r.sock", "-u", "www-data", "-g", "nogroup", "prog"}), "--socket-owner") ==
        "www-data:nogroup");
  CHECK(value_of(spawn({"-s", "/r.sock", "-u", "www-data", "-g", "nogroup", "-U", "nobody", "prog"}),
                 "--socket-owner") == "nobody");
  CHECK(value_of(spawn({"-s", "/r.sock", "-U", "nobody", "-G", "www-data", "prog"}), "--socket-owner") ==
        "nobody:www-data");
  CHECK(value_of(spawn({"-s", "/r.sock", "-G", "www-data", "prog"}), "--socket-owner") == ":www-data");
  // -M, -U and -G are about the unix socket only.
  auto tcp = spawn({"-p", "9000", "-M", "0600", "-U", "nobody", "-G", "nogroup", "prog"});
  CHECK_FALSE(has(tcp, "--socket-mode"));
  CHECK_FALSE(has(tcp, "--socket-owner"));
}

TEST_CASE("spawn-fcgi: the socket is inside the chroot unless -S") {
  CHECK(value_of(spawn({"-c", "/srv/jail", "-s", "/run/php.sock", "prog"}), "--listen") ==
        "unix:/srv/jail/run/php.sock");
  CHECK(value_of(spawn({"-c", "/srv/jail/", "-s", "run/php.sock", "prog"}), "--listen") ==
        "unix:/srv/jail/run/php.sock");
  CHECK(value_of(spawn({"-c", "/", "-s", "/run/php.sock", "prog"}), "--listen") == "unix:/run/php.sock");
  auto outside = spawn({"-c", "/srv/jail", "-S", "-s", "/run/php.sock", "prog"});
  CHECK(value_of(outside, "--listen") == "unix:/run/php.sock");
  CHECK(value_of(outside, "--chroot") == "/srv/jail");
}

TEST_CASE("spawn-fcgi: every other flag") {
  auto line =
      spawn({"-p", "9000",        "-F", "4",        "-C", "2",        "-b", "64",         "-c", "/srv/jail",
             "-d", "/www",        "-u", "www-data", "-g", "www-data", "-P", "/run/x.pid", "--", "/usr/bin/php-cgi",
             "-c", "/etc/php.ini"});
  CHECK(line == strings{"--stats",
                        "off",
                        "--workers",
                        "4",
                        "--backlog",
                        "64",
                        "--listen",
                        "0.0.0.0:9000",
                        "--chroot",
                        "/srv/jail",
                        "--chdir",
                        "/www",
                        "--user",
                        "www-data",
                        "--group",
                        "www-data",
                        "--env",
                        "PHP_FCGI_CHILDREN=2",
                        "--daemon",
                        "--pidfile",
                        "/run/x.pid",
                        "--",
                        "/usr/bin/php-cgi",
                        "-c",
                        "/etc/php.ini"});
}

TEST_CASE("spawn-fcgi: -n stays in the foreground and, as spawn-fcgi, ignores -P") {
  auto line = spawn({"-n", "-p", "9000", "-P", "/run/x.pid", "prog"});
  CHECK_FALSE(has(line, "--daemon"));
  CHECK_FALSE(has(line, "--pidfile"));
}

TEST_CASE("spawn-fcgi: -f runs through the shell, as spawn-fcgi did, unless a program follows") {
  CHECK(program_of(spawn({"-p", "9000", "-f", "/usr/bin/php-cgi -c /etc/php.ini"})) ==
        strings{"/bin/sh", "-c", "exec /usr/bin/php-cgi -c /etc/php.ini"});
  CHECK(program_of(spawn({"-p", "9000", "-f", "/bin/a", "--", "/bin/b"})) == strings{"/bin/b"});
}

TEST_CASE("spawn-fcgi: -h, -? and -v") {
  CHECK(spawn({"-h"}) == strings{"--help"});
  CHECK(spawn({"-?"}) == strings{"--help"});
  CHECK(spawn({"-v"}) == strings{"--version"});
  CHECK(parse_as("spawn-fcgi", {"-h"}).show_help);
  CHECK(parse_as("spawn-fcgi", {"-v"}).show_version);
  CHECK(parse_as("spawn-fcgi", {"--help"}).show_help);
}

TEST_CASE("spawn-fcgi: no worker as root") {
  CHECK(spawn_error({"-p", "9000", "-u", "root", "prog"}) == "spawn-fcgi: -u: I will not set uid to 0");
  CHECK(spawn_error({"-p", "9000", "-u", "0", "prog"}) == "spawn-fcgi: -u: I will not set uid to 0");
  CHECK(spawn_error({"-p", "9000", "-u", "www-data", "-g", "root", "prog"}) ==
        "spawn-fcgi: -g: I will not set gid to 0");
  CHECK(spawn_error({"-s", "/r.sock", "-U", "root", "prog"}) == "spawn-fcgi: -U: I will not set uid to 0");
  CHECK(spawn_error({"-s", "/r.sock", "-G", "0", "prog"}) == "spawn-fcgi: -G: I will not set gid to 0");
}

TEST_CASE("as root without a workers' user, each mode names its own flag for it") {
  auto as_root = [](const std::string& argv0, strings args) {
    args.insert(args.begin(), argv0);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return error_of([&] {
      fcgimux::parse_config(static_cast<int>(argv.size()), argv.data(), fcgimux::process_identity{0, 0});
    });
  };
  CHECK(as_root("spawn-fcgi", {"-n", "-p", "9000", "--", "prog"}) ==
        "spawn-fcgi: started as root: name the workers' user with -u user (--user root runs them as root, with a "
        "warning)");
  CHECK(as_root("kfcgi", {"-d", "-p", "/", "-s", "/r.sock", "--", "prog"}) ==
        "kfcgi: started as root: name the workers' user with -U procuser (--user root runs them as root, with a "
        "warning)");
  // A socket owner is not a workers' user.
  CHECK(as_root("kfcgi", {"-d", "-p", "/", "-s", "/r.sock", "-u", "www-data", "--", "prog"}).starts_with("kfcgi: "));
  CHECK(as_root("spawn-fcgi", {"-n", "-p", "9000", "-u", "nobody", "--", "prog"}).empty());
  CHECK(as_root("kfcgi", {"-d", "-p", "/", "-s", "/r.sock", "-U", "nobody", "--", "prog"}).empty());
  CHECK(as_root("kfcgi", {"-d", "-p", "/", "-s", "/r.sock", "--user", "root", "--", "prog"}).empty());
  CHECK(as_root("fcgimux", {"prog"}) ==
        "fcgimux runs as root: name the workers' user with --user (--user root to really run them as root)");
}

TEST_CASE("spawn-fcgi: errors") {
  CHECK(spawn_error({"-p", "9000"}) ==
        "spawn-fcgi: no FastCGI application given (spawn-fcgi [options] -- PROGRAM [ARGS...])");
  CHECK(spawn_error({}) == "spawn-fcgi: no FastCGI application given (spawn-fcgi [options] -- PROGRAM [ARGS...])");
  CHECK(spawn_error({"prog"}) == "spawn-fcgi: no socket given (use either -p or -s)");
  CHECK(spawn_error({"-p", "9000", "-s", "/r.sock", "prog"}) ==
        "spawn-fcgi: either a Unix domain socket or a TCP-port, but not both");
  CHECK(spawn_error({"-s", std::string(108, 'x'), "prog"}) == "spawn-fcgi: path of the Unix domain socket is too long");
  CHECK(spawn_error({"-p", "9000", "-k", "prog"}) == "spawn-fcgi: unknown option -k (see --help)");
  CHECK(spawn_error({"-p"}) == "spawn-fcgi: -p needs a value");
  CHECK(spawn_error({"-p", "9000", "-F", "many", "prog"}) ==
        "spawn-fcgi: -F: 'many' is not a whole number from 0 to 2147483647");
  CHECK(spawn_error({"-p", "9000", "--nope", "prog"}) == "spawn-fcgi: unknown option '--nope' (see --help)");
}

TEST_CASE("spawn-fcgi: the whole line through parse_config") {
  auto fg = parse_as("spawn-fcgi", {"-n", "-a", "127.0.0.1", "-p", "9000", "-F", "4", "-C", "0", "-b", "50", "--",
                                    "/usr/bin/php-cgi"});
  CHECK(fg.stats == "off");
  CHECK_FALSE(fg.daemon);
  CHECK(fg.pidfile.empty());
  REQUIRE(fg.pools.size() == 1);
  CHECK(fg.pools[0].listen == strings{"127.0.0.1:9000"});
  CHECK(fg.pools[0].workers == 4);
  CHECK(fg.pools[0].max_workers == 4);
  CHECK(fg.pools[0].backlog == 50);
  CHECK(fg.pools[0].env == std::vector<std::pair<std::string, std::string>>{{"PHP_FCGI_CHILDREN", "0"}});
  CHECK(fg.pools[0].command == strings{"/usr/bin/php-cgi"});
  auto bg = parse_as("/usr/bin/fcgimux-spawn-fcgi",
                     {"-p", "9000", "-P", "/tmp/x.pid", "--stats", "127.0.0.1:9100", "--", "/usr/bin/php-cgi"});
  CHECK(bg.daemon);
  CHECK(bg.pidfile == "/tmp/x.pid");
  CHECK(bg.stats == "127.0.0.1:9100");
  CHECK(bg.pools[0].listen == strings{"0.0.0.0:9000"});
  CHECK(bg.pools[0].workers == 1);
  CHECK(bg.pools[0].backlog == 1024);
  CHECK(error_of([] { parse_as("spawn-fcgi", {"-p", "9000", "-F", "0", "prog"}); }) == "workers: must be at least 1");
}

TEST_CASE("the backlog, env, daemon and pidfile options") {
  auto plain = parse_as("fcgimux", {"prog"});
  CHECK(plain.pools[0].backlog == 0);  // SOMAXCONN
  CHECK_FALSE(plain.daemon);
  CHECK(plain.pidfile.empty());
  CHECK(plain.pools[0].env.empty());
  auto c = parse_as("fcgimux", {"--backlog", "16", "--daemon", "--pidfile", "/run/f.pid", "--env", "A=1", "--env",
                                "B=x=y", "--env", "A=2", "--env", "C=", "prog"});
  CHECK(c.pools[0].backlog == 16);
  CHECK(c.daemon);
  CHECK(c.pidfile == "/run/f.pid");
  CHECK(c.pools[0].env == std::vector<std::pair<std::string, std::string>>{{"A", "2"}, {"B", "x=y"}, {"C", ""}});
  CHECK(error_of([] { parse_as("fcgimux", {"--backlog", "2147483648", "prog"}); }) == "backlog: at most 2147483647");
  CHECK(error_of([] {
          parse_as("fcgimux", {"--backlog", "-1", "prog"});
        }) == "backlog: '-1' is not a non-negative whole number");
  CHECK(error_of([] { parse_as("fcgimux", {"--env", "NOVALUE", "prog"}); }) == "env: 'NOVALUE' is not NAME=VALUE");
  CHECK(error_of([] { parse_as("fcgimux", {"--env", "=x", "prog"}); }) == "env: '=x' is not NAME=VALUE");
  CHECK(error_of([] { parse_as("fcgimux", {"--daemon=yes", "prog"}); }) == "--daemon takes no value");
}

TEST_CASE("backlog and env in a pools file, --env on the command line adds to every pool's") {
  char name[] = "/tmp/fcgimux-compat-XXXXXX";
  const int fd = ::mkstemp(name);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(name) << R"({"backlog": 9, "env": {"A": "top"}, "pools": [
      {"name": "a", "listen": "127.0.0.1:1", "command": ["x"], "backlog": 7, "env": {"A": "mine"}},
      {"name": "b", "listen": "127.0.0.1:2", "command": ["y"]}]})";
  auto c = parse_as("fcgimux", {"-c", name, "--env", "B=2"});
  ::unlink(name);
  REQUIRE(c.pools.size() == 2);
  CHECK(c.pools[0].backlog == 7);
  CHECK(c.pools[1].backlog == 9);
  CHECK(c.pools[0].env == std::vector<std::pair<std::string, std::string>>{{"A", "mine"}, {"B", "2"}});
  CHECK(c.pools[1].env == std::vector<std::pair<std::string, std::string>>{{"A", "top"}, {"B", "2"}});
}
