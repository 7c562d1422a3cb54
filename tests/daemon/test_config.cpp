// SPDX-License-Identifier: ISC
#include "src/config/config.hpp"

#include <catch2/catch.hpp>

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using fcgimux::config;
using fcgimux::config_error;

namespace {

// The rules about --user depend on who starts fcgimux: these tests say who, whoever runs them.
constexpr fcgimux::process_identity unprivileged{65534, 65534};  // nobody:nogroup on Debian
constexpr fcgimux::process_identity root{0, 0};

config parse(std::vector<std::string> args, const fcgimux::process_identity& self = unprivileged) {
  args.insert(args.begin(), "fcgimux");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return fcgimux::parse_config(static_cast<int>(argv.size()), argv.data(), self);
}

std::string write_temp(const std::string& text) {
  char name[] = "/tmp/fcgimux-config-XXXXXX";
  int fd = mkstemp(name);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(name) << text;
  return name;
}

// The one pool of a configuration without "pools".
fcgimux::pool_config single_as(const fcgimux::process_identity& self, std::vector<std::string> args) {
  auto c = parse(std::move(args), self);
  REQUIRE(c.pools.size() == 1);
  CHECK(c.pools[0].name == "default");
  return c.pools[0];
}

fcgimux::pool_config single(std::vector<std::string> args) { return single_as(unprivileged, std::move(args)); }

std::string error_of(std::vector<std::string> args, const fcgimux::process_identity& self = unprivileged) {
  try {
    parse(std::move(args), self);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("defaults: one listener, a fixed pool, keep-conn auto") {
  auto c = single({"/usr/bin/php-cgi"});
  CHECK(c.listen == std::vector<std::string>{"127.0.0.1:9000"});
  CHECK(c.workers == 4);
  CHECK(c.max_workers == 4);
  CHECK(c.keep_conn == fcgimux::keep_conn_mode::auto_);
  CHECK(c.send_timeout == fcgimux::seconds(60));
  CHECK(c.batch_workers);
  CHECK(c.command == std::vector<std::string>{"/usr/bin/php-cgi"});
  CHECK(c.max_spawn_rate == 40);  // 10 x max-workers: the maximum within 100 ms
}

TEST_CASE("flags, short and long, with = and separate values") {
  auto all = parse({"-n", "2", "-N8", "--listen=127.0.0.1:1", "--listen", "unix:/tmp/x.sock", "--keep-conn", "no",
                    "--queue-timeout", "1.5", "--worker-sched", "normal", "-v", "--", "prog", "-a", "--b"});
  CHECK(all.verbose);
  auto c = all.pools.at(0);
  CHECK(c.workers == 2);
  CHECK(c.max_workers == 8);
  CHECK(c.listen == std::vector<std::string>{"127.0.0.1:1", "unix:/tmp/x.sock"});
  CHECK(c.keep_conn == fcgimux::keep_conn_mode::no);
  CHECK(c.queue_timeout == fcgimux::seconds(1.5));
  CHECK_FALSE(c.batch_workers);
  CHECK(c.command == std::vector<std::string>{"prog", "-a", "--b"});
}

TEST_CASE("kfcgi -r makes the pool variable: max defaults to twice the minimum") {
  auto c = single({"-r", "-n", "3", "prog"});
  CHECK(c.max_workers == 6);
}

TEST_CASE("a JSON file sets the same keys, and flags win over it") {
  auto path = write_temp(R"({"listen": ["127.0.0.1:7000", "127.0.0.1:7001"], "workers": 3, "max-workers": 9,
                             "keep-conn": false, "stats": "off", "worker-sched": "normal",
                             "command": ["/bin/prog", "x"]})");
  auto all = parse({"-c", path, "-n", "5"});
  CHECK(all.stats == "off");
  auto c = all.pools.at(0);
  CHECK(c.listen.size() == 2);
  CHECK(c.workers == 5);
  CHECK(c.max_workers == 9);
  CHECK(c.keep_conn == fcgimux::keep_conn_mode::no);
  CHECK_FALSE(c.batch_workers);
  CHECK(c.command == std::vector<std::string>{"/bin/prog", "x"});
  auto c2 = single({"-c", path, "--listen", "127.0.0.1:8000"});
  CHECK(c2.listen == std::vector<std::string>{"127.0.0.1:8000"});
  std::remove(path.c_str());
}

TEST_CASE("bad input gives one line naming the problem") {
  CHECK(error_of({"--nope", "prog"}).find("--nope") != std::string::npos);
  CHECK(error_of({"-n", "abc", "prog"}).find("workers") != std::string::npos);
  CHECK(error_of({"-n", "0", "prog"}).find("workers") != std::string::npos);
  CHECK(error_of({"-n", "4", "-N", "2", "prog"}).find("max-workers") != std::string::npos);
  CHECK(error_of({"--listen", "nonsense", "prog"}).find("nonsense") != std::string::npos);
  CHECK(error_of({"--keep-conn", "maybe", "prog"}).find("keep-conn") != std::string::npos);
  CHECK(error_of({"--send-timeout", "-1", "prog"}).find("send-timeout") != std::string::npos);
  CHECK(error_of({"--worker-sched", "fifo", "prog"}).find("worker-sched") != std::string::npos);
  CHECK(error_of({"-n", "2"}).find("PROGRAM") != std::string::npos);
  CHECK(error_of({"-c", "/nonexistent/fcgimux.json"}).find("cannot open") != std::string::npos);
  auto bad_json = write_temp("{ workers: 2 ");
  CHECK(error_of({"-c", bad_json}).find("not valid JSON") != std::string::npos);
  auto bad_key = write_temp(R"({"wrokers": 2, "command": ["x"]})");
  CHECK(error_of({"-c", bad_key}).find("wrokers") != std::string::npos);
  auto bad_type = write_temp(R"({"workers": [2], "command": ["x"]})");
  CHECK_FALSE(error_of({"-c", bad_type}).empty());
  std::remove(bad_json.c_str());
  std::remove(bad_key.c_str());
  std::remove(bad_type.c_str());
}

TEST_CASE("help and version need no program") {
  CHECK(parse({"--help"}).show_help);
  CHECK(parse({"--version"}).show_version);
  CHECK(fcgimux::usage_text().find("--max-workers") != std::string::npos);
}

TEST_CASE("keep-conn takes yes, no and auto, send-timeout takes seconds") {
  CHECK(single({"--keep-conn", "auto", "prog"}).keep_conn == fcgimux::keep_conn_mode::auto_);
  CHECK(single({"--keep-conn", "yes", "prog"}).keep_conn == fcgimux::keep_conn_mode::yes);
  CHECK(single({"--send-timeout", "2.5", "prog"}).send_timeout == fcgimux::seconds(2.5));
}

TEST_CASE("a pools file: each pool its own listeners, program and settings, the top level gives defaults") {
  auto path = write_temp(R"({"stats": "off", "workers": 2, "queue-limit": 7, "env": {"TZ": "UTC", "APP_ENV": "dev"},
    "pools": [
      {"name": "www", "listen": "127.0.0.1:7100", "command": ["/usr/bin/php-cgi"], "max-workers": 6,
       "env": {"PHP_FCGI_MAX_REQUESTS": "500", "APP_ENV": "prod"}},
      {"name": "api_2", "listen": ["127.0.0.1:7101", "unix:/tmp/api.sock"], "command": ["/usr/sbin/fcgiwrap"],
       "workers": 1, "keep-conn": "no", "request-timeout": 2.5}
    ]})");
  auto c = parse({"-c", path, "--max-conns", "99"});
  CHECK(c.stats == "off");
  CHECK(c.max_conns == 99);
  REQUIRE(c.pools.size() == 2);
  const auto& www = c.pools[0];
  CHECK(www.name == "www");
  CHECK(www.listen == std::vector<std::string>{"127.0.0.1:7100"});
  CHECK(www.workers == 2);
  CHECK(www.max_workers == 6);
  CHECK(www.queue_limit == 7);
  // The top level's variables, with the pool's added and replacing those of the same name.
  CHECK(www.env == std::vector<std::pair<std::string, std::string>>{
                       {"APP_ENV", "prod"}, {"TZ", "UTC"}, {"PHP_FCGI_MAX_REQUESTS", "500"}});
  const auto& api = c.pools[1];
  CHECK(api.name == "api_2");
  CHECK(api.listen.size() == 2);
  CHECK(api.workers == 1);
  CHECK(api.max_workers == 1);
  CHECK(api.queue_limit == 7);
  CHECK(api.keep_conn == fcgimux::keep_conn_mode::no);
  CHECK(api.request_timeout == fcgimux::seconds(2.5));
  CHECK(api.command == std::vector<std::string>{"/usr/sbin/fcgiwrap"});
  // A pool flag on the command line is a setting for every pool.
  auto flagged = parse({"-c", path, "--queue-limit", "3"});
  CHECK(flagged.pools[0].queue_limit == 3);
  CHECK(flagged.pools[1].queue_limit == 3);
  std::remove(path.c_str());
}

TEST_CASE("a flat file and a one-pool pools file describe the same pool") {
  auto flat = write_temp(R"({"listen": "127.0.0.1:7200", "workers": 3, "command": ["prog", "a"]})");
  auto pools = write_temp(
      R"({"pools": [{"name": "default", "listen": "127.0.0.1:7200", "workers": 3, "command": ["prog", "a"]}]})");
  auto a = single({"-c", flat});
  auto b = single({"-c", pools});
  CHECK(a.listen == b.listen);
  CHECK(a.workers == b.workers);
  CHECK(a.max_workers == b.max_workers);
  CHECK(a.command == b.command);
  CHECK(a.max_spawn_rate == b.max_spawn_rate);
  std::remove(flat.c_str());
  std::remove(pools.c_str());
}

TEST_CASE("pool errors are one line naming the pool and the key") {
  auto error_for = [](const std::string& json) {
    auto path = write_temp(json);
    auto e = error_of({"-c", path});
    std::remove(path.c_str());
    return e;
  };
  const std::string cmd = R"("command": ["prog"])";
  CHECK(error_for(R"({"pools": [{"name": "api", "listen": "127.0.0.1:1", "workers": 4, "max-workers": 2, )" + cmd +
                  "}]}") == "pool \"api\": max-workers (2) must be >= workers (4)");
  CHECK(error_for(R"({"pools": [{"name": "api", "listen": "127.0.0.1:1", "wrokers": 2, )" + cmd + "}]}") ==
        "pool \"api\": unknown key \"wrokers\"");
  CHECK(error_for(R"({"pools": [{"name": "a", "listen": "127.0.0.1:1", )" + cmd + R"(},
                                {"name": "a", "listen": "127.0.0.1:2", )" +
                  cmd + "}]}")
            .find("pool \"a\": a second pool of that name") != std::string::npos);
  CHECK(error_for(R"({"pools": [{"name": "a", "listen": "127.0.0.1:1", )" + cmd + R"(},
                                {"name": "b", "listen": "127.0.0.1:1", )" +
                  cmd + "}]}") == "pool \"b\": listen: '127.0.0.1:1' is already pool \"a\"'s");
  CHECK(error_for(R"({"pools": [{"name": "Bad Name", "listen": "127.0.0.1:1", )" + cmd + "}]}")
            .find("pool \"Bad Name\": name") != std::string::npos);
  CHECK(error_for(R"({"pools": [{"name": "a", )" + cmd + "}]}") ==
        "pool \"a\": listen: a pool needs at least one listener");
  CHECK(error_for(R"({"pools": [{"name": "a", "listen": "127.0.0.1:1"}]})") ==
        "pool \"a\": command: a pool needs a PROGRAM [ARGS...]");
  CHECK(error_for(R"({"pools": [{"listen": "127.0.0.1:1", )" + cmd + "}]}").find("pools[0]") != std::string::npos);
  CHECK(error_for(R"({"pools": [{"name": "a", "listen": "127.0.0.1:1", "env": {"X": 1}, )" + cmd + "}]}")
            .find("pool \"a\": env") != std::string::npos);
  CHECK(error_for(R"({"pools": [], "workers": 2})").find("pools") != std::string::npos);
  CHECK(error_for(R"({"listen": "127.0.0.1:1", "pools": [{"name": "a", "listen": "127.0.0.1:2", )" + cmd + "}]}")
            .find("listen") != std::string::npos);
  auto path = write_temp(R"({"pools": [{"name": "a", "listen": "127.0.0.1:1", )" + cmd + "}]}");
  CHECK(error_of({"-c", path, "--listen", "127.0.0.1:3"}).find("--listen") != std::string::npos);
  CHECK(error_of({"-c", path, "prog2"}).find("PROGRAM") != std::string::npos);
  std::remove(path.c_str());
}

TEST_CASE("the example configurations in config/ parse") {
  for (const char* name : {"demo.json", "php.json", "php-host.json"}) {
    INFO(name);
    auto c = parse({"-c", std::string(FCGIMUX_SOURCE_DIR "/config/") + name});
    CHECK(c.pools.size() == 1);
  }
  auto c = parse({"-c", FCGIMUX_SOURCE_DIR "/config/pools.json"}, root);  // it names www-data
  REQUIRE(c.pools.size() == 2);
  CHECK(c.pools[0].name == "www");
  CHECK(c.pools[0].idle_timeout == fcgimux::seconds(60));  // a top-level default
  CHECK(c.pools[1].name == "cgi");
  CHECK(c.pools[1].queue_limit == 64);
  CHECK(c.pools[0].status_path == "/fcgimux-status");  // a top-level default
  CHECK(c.pools[1].status_path == "/fcgimux-status");
}

TEST_CASE("as root, every pool must name its workers' user, --user root is taken when asked for") {
  const std::string refusal =
      "fcgimux runs as root: name the workers' user with --user (--user root to really run them as root)";
  CHECK(error_of({"prog"}, root) == refusal);
  CHECK(error_of({"--group", "nogroup", "prog"}, root) == refusal);  // a group alone leaves the user root
  auto path = write_temp(R"({"pools": [{"name": "www", "listen": "127.0.0.1:1", "command": ["p"], "user": "nobody"},
                                       {"name": "api", "listen": "127.0.0.1:2", "command": ["p"]}]})");
  CHECK(error_of({"-c", path}, root) == "pool \"api\": " + refusal);
  std::remove(path.c_str());

  auto r = single_as(root, {"--user", "root", "prog"});
  CHECK(r.credentials.change);
  CHECK(r.credentials.uid == 0);
  CHECK(r.credentials.gid == 0);
  CHECK(r.credentials.user_name == "root");
}

TEST_CASE("user and group resolve to ids and the user's supplementary groups") {
  auto n = single_as(root, {"--user", "nobody", "prog"});
  CHECK(n.credentials.change);
  CHECK(n.credentials.uid == 65534);
  CHECK(n.credentials.gid == 65534);  // nobody's primary group, without --group
  REQUIRE_FALSE(n.credentials.groups.empty());
  CHECK(n.credentials.groups.front() == 65534);
  CHECK(n.credentials.user_name == "nobody");
  CHECK(n.credentials.group_name == "nogroup");

  auto g = single_as(root, {"--user", "www-data", "--group", "nogroup", "prog"});
  CHECK(g.credentials.uid == 33);
  CHECK(g.credentials.gid == 65534);
  CHECK(g.credentials.groups.front() == 65534);

  auto numeric = single_as(root, {"--user", "4242", "--group", "4243", "prog"});  // no passwd entry needed
  CHECK(numeric.credentials.uid == 4242);
  CHECK(numeric.credentials.groups == std::vector<gid_t>{4243});
  CHECK(error_of({"--user", "4242", "prog"}, root).find("--group") != std::string::npos);

  auto path = write_temp(R"({"user": "nobody", "pools": [{"name": "a", "listen": "127.0.0.1:1", "command": ["p"]},
                            {"name": "b", "listen": "127.0.0.1:2", "command": ["p"], "user": "www-data",
                             "chroot": "/srv/jail", "chdir": "/app"}]})");
  auto c = parse({"-c", path}, root);
  CHECK(c.pools[0].credentials.uid == 65534);  // the top level's
  CHECK(c.pools[1].credentials.uid == 33);
  CHECK(c.pools[1].chroot == "/srv/jail");
  CHECK(c.pools[1].chdir == "/app");
  std::remove(path.c_str());
}

TEST_CASE("not root: workers run as fcgimux's own user, naming another one is a mistake") {
  auto c = single({"prog"});
  CHECK_FALSE(c.credentials.change);
  CHECK(c.credentials.uid == unprivileged.uid);
  CHECK(c.credentials.user_name == "nobody");
  CHECK_FALSE(single({"--user", "nobody", "--group", "nogroup", "prog"}).credentials.change);  // its own: fine
  CHECK(error_of({"--user", "www-data", "prog"}).find("not as root") != std::string::npos);
  CHECK(error_of({"--group", "www-data", "prog"}).find("not as root") != std::string::npos);
  CHECK(error_of({"--chroot", "/srv", "prog"}).find("root") != std::string::npos);
  CHECK(error_of({"--socket-owner", "www-data", "prog"}).find("socket-owner") != std::string::npos);
}

TEST_CASE("privilege settings: unknown names, relative paths and bad modes are one-line errors") {
  CHECK(error_of({"--user", "no-such-user-here", "prog"}, root) == "user: no user 'no-such-user-here' on this system");
  CHECK(error_of({"--user", "nobody", "--group", "no-such-group-here", "prog"}, root) ==
        "group: no group 'no-such-group-here' on this system");
  CHECK(error_of({"--user", "nobody", "--chroot", "srv", "prog"}, root) == "chroot: must be an absolute path");
  CHECK(error_of({"--user", "nobody", "--chdir", "app", "prog"}, root).find("chdir: must be an absolute path") == 0);
  CHECK(error_of({"--socket-mode", "0999", "prog"}).find("socket-mode: '0999'") == 0);
  CHECK(error_of({"--socket-mode", "1777", "prog"}).find("socket-mode") == 0);
  CHECK(error_of({"--socket-mode", "rw", "prog"}).find("socket-mode") == 0);
  CHECK(error_of({"--user", "nobody", "--socket-owner", "no-such-user-here", "prog"}, root).find("socket-owner") == 0);
  CHECK(error_of({"--user", "nobody", "--socket-owner", "www-data:", "prog"}, root).find("socket-owner") == 0);
}

TEST_CASE("socket-mode is octal (default 0660) and socket-owner takes USER[:GROUP]") {
  CHECK(single({"prog"}).socket_mode == 0660);
  CHECK(single({"--socket-mode", "0600", "prog"}).socket_mode == 0600);
  CHECK(single({"--socket-mode", "666", "prog"}).socket_mode == 0666);
  CHECK_FALSE(single({"prog"}).socket_ids.set);
  auto owner = single_as(root, {"--user", "nobody", "--socket-owner", "www-data", "prog"});
  CHECK(owner.socket_ids.set);
  CHECK(owner.socket_ids.uid == 33);
  CHECK(owner.socket_ids.gid == 33);  // www-data's primary group
  auto both = single_as(root, {"--user", "nobody", "--socket-owner", "www-data:nogroup", "prog"});
  CHECK(both.socket_ids.gid == 65534);
  CHECK(single({"--socket-owner", "nobody:nogroup", "prog"}).socket_ids.set);  // its own user, not root: fine
}

TEST_CASE("stats access: a file's stats-allow list, replaced by the command line's; the token read from its file") {
  auto token = write_temp("  tok-1.A/b+c=\n");  // a final line end is dropped, a leading space is refused
  CHECK_THAT(error_of({"--stats-token-file", token, "--", "/bin/true"}), Catch::Contains("must hold one token"));
  std::ofstream(token) << "tok-1.A/b+c=\n";
  auto path = write_temp(R"({"stats-allow": ["10.0.0.0/8", "::1"], "stats-show-query": true,
                             "command": ["/bin/true"]})");
  auto from_file = parse({"-c", path, "--stats-token-file", token});
  REQUIRE(from_file.stats_allow.size() == 2);
  CHECK(from_file.stats_allow[0].to_string() == "10.0.0.0/8");
  CHECK(from_file.stats_allow[1].to_string() == "::1/128");
  CHECK(from_file.stats_show_query);
  CHECK(from_file.stats_token == "tok-1.A/b+c=");
  auto flagged = parse({"-c", path, "--stats-allow", "192.0.2.0/24", "--stats-allow", "127.0.0.1"});
  REQUIRE(flagged.stats_allow.size() == 2);
  CHECK(flagged.stats_allow[0].to_string() == "192.0.2.0/24");
  CHECK(flagged.stats_allow[1].to_string() == "127.0.0.1/32");
  CHECK(flagged.stats_token.empty());
  CHECK_FALSE(parse({"--", "/bin/true"}).stats_show_query);
  CHECK_THAT(error_of({"--stats-allow", "10.0.0.1/8", "--", "/bin/true"}),
             Catch::Contains("no bit set past the prefix"));
  auto bad_list = write_temp(R"({"stats-allow": 10, "command": ["/bin/true"]})");
  CHECK_THAT(error_of({"-c", bad_list}), Catch::Contains("must be a string or an array of strings"));
  std::remove(bad_list.c_str());
  std::remove(path.c_str());
  std::remove(token.c_str());
}

namespace {

// What the listener binds for localhost here (getaddrinfo's first answer, as for any host name):
// 127.0.0.1 or ::1 depending on /etc/hosts, written the way a configuration would.
std::string numeric_localhost() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  REQUIRE(::getaddrinfo("localhost", "9000", &hints, &found) == 0);
  const bool v6 = found->ai_family == AF_INET6;
  ::freeaddrinfo(found);
  return v6 ? "[::1]" : "127.0.0.1";
}

std::string two_pools_error(const std::string& first, const std::string& second) {
  auto path =
      write_temp(R"({"stats": "off", "pools": [{"name": "a", "listen": ")" + first +
                 R"(", "command": ["prog"]}, {"name": "b", "listen": ")" + second + R"(", "command": ["prog"]}]})");
  auto e = error_of({"-c", path});
  std::remove(path.c_str());
  return e;
}

}  // namespace

TEST_CASE("listeners are compared as resolved addresses: one address spelt two ways, or inside a wildcard") {
  const std::string lo = numeric_localhost();
  INFO("localhost is " << lo << " here");
  SECTION("localhost and its numeric address in two pools") {
    const std::string e = two_pools_error("localhost:9000", lo + ":9000");
    CHECK(e == "pool \"b\": listen: '" + lo + ":9000' is " + lo + ":9000, as pool \"a\"'s 'localhost:9000' is");
  }
  SECTION("the two spellings in one pool") {
    const std::string e = error_of({"--stats", "off", "--listen", "localhost:9000", "--listen", lo + ":9000", "prog"});
    CHECK(e == "pool \"default\": listen: '" + lo + ":9000' and 'localhost:9000' are both " + lo + ":9000");
  }
  SECTION("a wildcard takes the port of every address of its family") {
    const std::string e = two_pools_error("127.0.0.1:9000", "*:9000");
    CHECK(e.find("pool \"b\": listen: '*:9000' and pool \"a\"'s '127.0.0.1:9000' cannot both listen") == 0);
    CHECK(e.find("the wildcard 0.0.0.0:9000 takes port 9000 of 127.0.0.1:9000 too") != std::string::npos);
    CHECK(two_pools_error("0.0.0.0:9000", "127.0.0.1:9000").find("the wildcard 0.0.0.0:9000") != std::string::npos);
  }
  SECTION("a pool on the stats address written another way") {
    const std::string e = error_of({"--listen", "localhost:9001", "prog"});  // the default stats, 127.0.0.1:9001
    if (lo == "127.0.0.1")
      CHECK(e == "stats: '127.0.0.1:9001' is 127.0.0.1:9001, as pool \"default\"'s 'localhost:9001' is");
    else
      CHECK(e.empty());
  }
  SECTION("what the kernel binds side by side is fine") {
    CHECK(two_pools_error("127.0.0.1:9000", "[::1]:9000").empty());      // two families
    CHECK(two_pools_error("127.0.0.1:9000", "127.0.0.2:9000").empty());  // two addresses
    CHECK(two_pools_error("0.0.0.0:9000", "127.0.0.1:9001").empty());    // two ports
    CHECK(two_pools_error("localhost:0", lo + ":0").empty());            // the kernel picks each port
    CHECK(two_pools_error("unix:/run/a.sock", "unix:/run/b.sock").empty());
  }
  SECTION("one unix path spelt two ways") {
    CHECK(
        two_pools_error("unix:/run/x/a.sock", "unix:/run/x/../x/a.sock") ==
        "pool \"b\": listen: 'unix:/run/x/../x/a.sock' is unix:/run/x/a.sock, as pool \"a\"'s 'unix:/run/x/a.sock' is");
  }
}

TEST_CASE("front limits: header-timeout (default 30), front-idle-timeout (default off) and allow lists") {
  auto d = single({"--", "/bin/prog"});
  CHECK(d.header_timeout.count() == 30);
  CHECK(d.front_idle_timeout.count() == 0);
  CHECK(d.allow.empty());
  auto f = single({"--header-timeout", "2.5", "--front-idle-timeout", "60", "--allow", "10.0.0.0/8", "--allow", "::1",
                   "--", "/bin/prog"});
  CHECK(f.header_timeout.count() == 2.5);
  CHECK(f.front_idle_timeout.count() == 60);
  REQUIRE(f.allow.size() == 2);
  CHECK(f.allow[0].to_string() == "10.0.0.0/8");
  // In a file, "allow" is a list of its own: it leaves "listen" alone.
  auto path = write_temp(R"({"listen": ["127.0.0.1:7000"], "allow": ["127.0.0.1", "192.0.2.0/24"],
                             "command": ["/bin/prog"]})");
  auto c = single({"-c", path});
  CHECK(c.listen == std::vector<std::string>{"127.0.0.1:7000"});
  CHECK(c.allow.size() == 2);
  std::remove(path.c_str());
  CHECK(error_of({"--allow", "10.0.0.0/33", "--", "/bin/prog"}).find("allow: '10.0.0.0/33'") != std::string::npos);
  CHECK(error_of({"--allow", "127.0.0.1", "--listen", "unix:/run/x.sock", "--", "/bin/prog"})
            .find("applies to TCP listeners") != std::string::npos);
}

TEST_CASE(
    "every list option: the command line's values replace the file's, a file's replace the defaults; env merges") {
  auto path = write_temp(R"({"listen": ["127.0.0.1:7001"], "allow": ["10.0.0.0/8"], "pass-env": ["LANG"],
                             "env": {"A": "file", "B": "file"}, "command": ["/bin/true"]})");
  auto from_file = parse({"-c", path});
  REQUIRE(from_file.pools.size() == 1);
  const auto& f = from_file.pools.front();
  CHECK(f.listen == std::vector<std::string>{"127.0.0.1:7001"});
  REQUIRE(f.allow.size() == 1);
  CHECK(f.allow[0].to_string() == "10.0.0.0/8");
  CHECK(f.pass_env == std::vector<std::string>{"LANG"});

  auto flagged = parse({"-c", path, "--listen", "127.0.0.1:7002", "--allow", "192.0.2.0/24", "--allow", "::1",
                        "--pass-env", "TZ", "--env", "B=flag"});
  const auto& g = flagged.pools.front();
  CHECK(g.listen == std::vector<std::string>{"127.0.0.1:7002"});
  REQUIRE(g.allow.size() == 2);
  CHECK(g.allow[0].to_string() == "192.0.2.0/24");
  CHECK(g.allow[1].to_string() == "::1/128");
  CHECK(g.pass_env == std::vector<std::string>{"TZ"});
  // env is the one list that merges: a flag replaces the variable of its name and keeps the others.
  auto value_of = [&](const std::string& name) {
    for (auto& [n, v] : g.env)
      if (n == name) return v;
    return std::string("(none)");
  };
  CHECK(value_of("A") == "file");
  CHECK(value_of("B") == "flag");
  std::remove(path.c_str());
}

TEST_CASE("roles: responder only by default, a comma-separated list per pool, an unknown name refused") {
  using fcgimux::proto::role;
  using fcgimux::proto::role_bit;
  CHECK(single({"prog"}).roles == role_bit(role::responder));
  CHECK(single({"--roles", "authorizer,filter", "prog"}).roles ==
        (role_bit(role::authorizer) | role_bit(role::filter)));
  auto path = write_temp(R"({"pools": [{"name": "auth", "listen": "127.0.0.1:7000", "roles": "authorizer",
                             "command": ["/bin/prog"]}]})");
  auto c = parse({"-c", path});
  std::remove(path.c_str());
  REQUIRE(c.pools.size() == 1);
  CHECK(c.pools[0].roles == role_bit(role::authorizer));
  CHECK(error_of({"--roles", "responder,checker", "prog"}).find("'checker'") != std::string::npos);
  CHECK(error_of({"--roles", "", "prog"}).find("roles") != std::string::npos);
}
