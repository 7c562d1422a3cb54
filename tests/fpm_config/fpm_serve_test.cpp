// SPDX-License-Identifier: ISC
// The real fcgimux running php-fpm's configuration with php-cgi, behind nginx: Debian's stock files
// (only their paths moved into the test's directory) and a multi-pool file whose every mapped
// directive is checked on the running workers.

#include "tests/support/cgi_response.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fcgi_client.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/net.hpp"
#include "tests/support/nginx_instance.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/run_program.hpp"
#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return cond();
}

// `text` with every line that starts with `key` (after blanks) replaced by `line`.
std::string replace_directive(const std::string& text, const std::string& key, const std::string& line) {
  return std::regex_replace(text, std::regex("(^|\\n)" + key + " ?=[^\\n]*"), "$1" + line);
}

std::string comm_of(pid_t pid) { return read_file("/proc/" + std::to_string(pid) + "/comm"); }

fcgimux_options fpm_options(const std::string& conf, std::vector<std::string> more = {}) {
  fcgimux_options o;
  o.args = {"--php-fpm-config", conf};
  o.args.insert(o.args.end(), more.begin(), more.end());
  o.listen_tcp = false;
  o.root_workers = false;  // the pools name their users
  o.env = {"FCGIMUX_TEST_SECRET=kept-out"};
  return o;
}

// A script the workers (another user) can read, in a directory they can enter.
void world_readable(const temp_dir& dir) { ::chmod(dir.path().c_str(), 0755); }

cgi_response fcgi_get(const endpoint& at, const std::string& script, const std::string& uri) {
  fcgi_client c(at);
  if (!c.connected()) return {};
  request_spec r;
  r.params = cgi_params("GET", uri);
  r.params.emplace_back("SCRIPT_FILENAME", script);
  if (c.exchange(r, 15s) != read_status::ok) return {};
  return parse_cgi_response(c.response(1).out);
}

}  // namespace

TEST_CASE("Debian's stock php-fpm.conf and www.conf run under fcgimux behind nginx", "[fpm][nginx]") {
  REQUIRE(::geteuid() == 0);  // www.conf runs its workers as www-data
  temp_dir dir;
  world_readable(dir);
  ::mkdir(dir.file("pool.d").c_str(), 0755);
  // Only the paths change: the socket, pid and log in the test's directory, the include beside it.
  std::string main = read_file("/etc/php/8.2/fpm/php-fpm.conf");
  main = replace_directive(main, "pid", "pid = " + dir.file("fpm.pid"));
  main = replace_directive(main, "error_log", "; error_log: fcgimux's stderr, for the test");
  main = replace_directive(main, "include", "include=" + dir.file("pool.d") + "/*.conf");
  write_file(dir.file("php-fpm.conf"), main);
  const std::string www = read_file("/etc/php/8.2/fpm/pool.d/www.conf");
  write_file(dir.file("pool.d/www.conf"), replace_directive(www, "listen", "listen = " + dir.file("www.sock")));
  write_file(dir.file("index.php"),
             "<?php echo 'hello from ', getmyuid() >= 0 ? 'php' : '', ' ', ini_get('memory_limit');");
  write_file(dir.file("cat.jpg"), "<?php echo 'ran an image';");

  fcgimux_instance f(fpm_options(dir.file("php-fpm.conf")));
  REQUIRE(eventually(
      [&] { return f.stderr_text().find("listening on unix:" + dir.file("www.sock")) != std::string::npos; }, 15s));
  INFO(f.stderr_text());
  // pm = dynamic, pm.start_servers = 2: two php-cgi workers as www-data (the copy has no /etc/php/8.2/ path
  // to take a version from: php-cgi on PATH).
  REQUIRE(eventually(
      [&] {
        auto w = f.worker_pids();
        return w.size() == 2 &&
               std::all_of(w.begin(), w.end(), [](pid_t p) { return comm_of(p).rfind("php-cgi", 0) == 0; });
      },
      15s));
  for (pid_t w : f.worker_pids()) CHECK(uid_of(w) == 33);
  // listen.owner/group = www-data, php-fpm's mode 0660.
  struct stat st {};
  REQUIRE(::stat(dir.file("www.sock").c_str(), &st) == 0);
  CHECK(st.st_uid == 33);
  CHECK(st.st_gid == 33);
  CHECK((st.st_mode & 0777) == 0660);
  CHECK(f.stderr_text().find("pm.max_spare_servers") != std::string::npos);  // the one warning

  nginx_options n;
  n.upstream = endpoint::unix_socket(dir.file("www.sock"));
  n.script_filename = dir.file("index.php");
  nginx_instance web(n);
  for (int i = 0; i < 5; ++i) {
    auto r = http_request(web.port(), "GET", "/index.php", {}, 15s);
    CHECK(r.status == 200);
    CHECK(r.body == "hello from php 128M");
  }
  // security.limit_extensions' default (.php .phar): php-fpm's 403 for an image run as a script.
  auto denied = fcgi_get(endpoint::unix_socket(dir.file("www.sock")), dir.file("cat.jpg"), "/cat.jpg");
  CHECK(denied.status == 403);
  CHECK(denied.body.find("Access denied.") != std::string::npos);
  CHECK(eventually([&] { return f.stderr_text().find("access to the script") != std::string::npos; }, 5s));
}

TEST_CASE("A multi-pool php-fpm file: each mapped directive seen on the running pools", "[fpm][nginx]") {
  REQUIRE(::geteuid() == 0);  // the pools run as nobody
  temp_dir dir;
  world_readable(dir);
  ::mkdir(dir.file("pool.d").c_str(), 0755);
  ::mkdir(dir.file("www").c_str(), 0755);
  const auto port = std::to_string(free_tcp_port());
  write_file(dir.file("php-fpm.conf"), "[global]\npid = " + dir.file("fpm.pid") +
                                           "\ndaemonize = no\ninclude = " + dir.file("pool.d") + "/*.conf\n");
  write_file(dir.file("pool.d/app.conf"), R"([app]
user = nobody
group = nogroup
listen = )" + dir.file("$pool.sock") + R"(
listen.owner = nobody
listen.group = nogroup
listen.mode = 0666
pm = static
pm.max_children = 2
pm.max_requests = 3
request_terminate_timeout = 3s
access.log = )" + dir.file("$pool.access") + R"(
access.format = "%m %r %s"
chdir = )" + dir.file("www") + R"(
env[GREETING] = hello $pool
clear_env = yes
php_value[memory_limit] = 77M
php_admin_value[max_execution_time] = 33
security.limit_extensions = .php
)");
  write_file(dir.file("pool.d/tcp.conf"), R"([tcp]
user = nobody
listen = 127.0.0.1:)" + port + R"(
listen.allowed_clients = 127.0.0.1
pm = ondemand
pm.max_children = 3
)");
  write_file(dir.file("www/env.php"),
             "<?php if (isset($_GET['sleep'])) sleep((int)$_GET['sleep']);\n"
             "echo 'GREETING=', getenv('GREETING'), ';SECRET=', getenv('FCGIMUX_TEST_SECRET'), ';cwd=', getcwd(),\n"
             "  ';memory_limit=', ini_get('memory_limit'), ';max_execution_time=', ini_get('max_execution_time'),\n"
             "  ';pid=', getmypid();");

  fcgimux_instance f(fpm_options(dir.file("php-fpm.conf")));
  REQUIRE(eventually([&] { return f.stderr_text().find("listening on 127.0.0.1:" + port) != std::string::npos; }, 15s));
  INFO(f.stderr_text());
  // static 2 + ondemand's one kept worker, all as nobody.
  // Until it has exec'd php-cgi, a worker is fcgimux's forked child, still root.
  REQUIRE(eventually(
      [&] {
        auto w = f.worker_pids();
        return w.size() == 3 &&
               std::all_of(w.begin(), w.end(), [](pid_t p) { return comm_of(p).rfind("php-cgi", 0) == 0; });
      },
      15s));
  for (pid_t w : f.worker_pids()) CHECK(uid_of(w) == 65534);
  struct stat st {};
  REQUIRE(::stat(dir.file("app.sock").c_str(), &st) == 0);
  CHECK(st.st_uid == 65534);
  CHECK((st.st_mode & 0777) == 0666);

  nginx_options n;
  n.upstream = endpoint::unix_socket(dir.file("app.sock"));
  n.script_filename = dir.file("www/env.php");
  nginx_instance web(n);
  std::set<std::string> pids;
  for (int i = 0; i < 8; ++i) {
    auto r = http_request(web.port(), "GET", "/env.php", {}, 15s);
    REQUIRE(r.status == 200);
    CHECK_THAT(r.body, Catch::StartsWith("GREETING=hello app;SECRET=;cwd=" + dir.file("www") +
                                         ";memory_limit=77M;max_execution_time=33;pid="));
    pids.insert(r.body.substr(r.body.rfind('=') + 1));
  }
  // pm.max_requests = 3 over 2 workers: 8 requests need at least 3 processes.
  CHECK(pids.size() >= 3);
  // request_terminate_timeout = 3s: a script sleeping 10 s is cut off well before. Not 1 s: beside
  // two CPU hogs a fresh php-cgi (pm.max_requests replaces them) once took more for env.php.
  const auto t0 = std::chrono::steady_clock::now();
  auto slow = http_request(web.port(), "GET", "/env.php?sleep=10", {}, 20s);
  CHECK(slow.status >= 500);
  CHECK(std::chrono::steady_clock::now() - t0 < 8s);
  // access.log and access.format.
  CHECK(
      eventually([&] { return read_file(dir.file("app.access")).find("GET /env.php 200") != std::string::npos; }, 5s));
  // The TCP pool, ondemand, from 127.0.0.1 (listen.allowed_clients).
  auto r = fcgi_get(endpoint::tcp(static_cast<std::uint16_t>(std::stoi(port))), dir.file("www/env.php"), "/env.php");
  CHECK(r.status == 200);
  CHECK_THAT(r.body, Catch::StartsWith("GREETING=;"));
  // security.limit_extensions = .php: a .phar is refused in this pool.
  auto phar = fcgi_get(endpoint::unix_socket(dir.file("app.sock")), dir.file("www/x.phar"), "/x.phar");
  CHECK(phar.status == 403);
}

TEST_CASE("Started as php-fpm8.2: -t checks Debian's stock file, and --print-config's JSON passes -c -t",
          "[fpm][compat]") {
  temp_dir dir;
  const std::string link = dir.file("php-fpm8.2");
  REQUIRE(::symlink(fcgimux_bin, link.c_str()) == 0);
  // php-fpm8.2's own default file, as the Debian unit's ExecStartPre runs it.
  const auto t = run_child({link, "-t"}, 20s);
  INFO(t.err);
  CHECK(t.exit_code == 0);
  CHECK_THAT(t.err, Catch::Contains("configuration ok (1 pool: www)"));
  CHECK_THAT(t.err, Catch::Contains("www.conf:142: [www] pm.max_spare_servers:"));
  // A php-cgi flag is refused by name, exit 2.
  const auto d = run_child({link, "-F", "-d", "memory_limit=1G"}, 20s);
  CHECK(d.exit_code == 2);
  CHECK_THAT(d.err, Catch::Contains("php-fpm: unknown option -d"));
  // The JSON --print-config prints is a -c file fcgimux accepts.
  const auto printed =
      run_child({fcgimux_bin, "--php-fpm-config", "/etc/php/8.2/fpm/php-fpm.conf", "--print-config"}, 20s);
  REQUIRE(printed.exit_code == 0);
  CHECK_THAT(printed.out, Catch::Contains("\"command\""));
  write_file(dir.file("printed.json"), printed.out);
  const auto check = run_child({fcgimux_bin, "-t", "-c", dir.file("printed.json")}, 20s);
  INFO(check.err);
  CHECK(check.exit_code == 0);
  CHECK_THAT(check.err, Catch::Contains("configuration ok (1 pool: www)"));
}

namespace {

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

TEST_CASE("SIGHUP says the php-fpm file's warnings again, and nothing when the file has none", "[fpm][reload]") {
  REQUIRE(::geteuid() == 0);  // the pool runs as nobody
  temp_dir dir;
  world_readable(dir);
  const auto port = std::to_string(free_tcp_port());
  const std::string pool = "[app]\nuser = nobody\nlisten = 127.0.0.1:" + port + "\npm = static\npm.max_children = 1\n";
  const std::string global = "[global]\ndaemonize = no\n";
  write_file(dir.file("php-fpm.conf"), global + "log_level = notice\n" + pool);
  const std::string said = "[global] log_level:";

  fcgimux_instance f(fpm_options(dir.file("php-fpm.conf")));
  REQUIRE(eventually([&] { return f.stderr_text().find("listening on 127.0.0.1:" + port) != std::string::npos; }, 15s));
  INFO(f.stderr_text());
  CHECK(count_of(f.stderr_text(), said) == 1);

  f.process().send_signal(SIGHUP);
  REQUIRE(eventually([&] { return count_of(f.stderr_text(), "configuration reloaded") == 1; }, 30s));
  CHECK(count_of(f.stderr_text(), said) == 2);

  // The same file without the directive: the next reload says no warning at all.
  write_file(dir.file("php-fpm.conf"), global + pool);
  const std::size_t before = f.stderr_text().size();
  f.process().send_signal(SIGHUP);
  REQUIRE(eventually([&] { return count_of(f.stderr_text(), "configuration reloaded") == 2; }, 30s));
  const std::string after = f.stderr_text().substr(before);
  INFO(after);
  CHECK(count_of(f.stderr_text(), said) == 2);
  CHECK(count_of(after, "warning") == 0);
}
