// SPDX-License-Identifier: ISC
// A pool's remote servers in the configuration: --server ADDR[,weight=N][,max-conns=N][,backup],
// a file's "servers" array, names left to a lookup of their own (config/names.hpp), and the errors
// for what cannot work.
#include "src/config/config.hpp"
#include "src/config/names.hpp"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using fcgimux::config;
using fcgimux::config_error;

namespace {

constexpr fcgimux::process_identity unprivileged{65534, 65534};

config parse(std::vector<std::string> args) {
  args.insert(args.begin(), "fcgimux");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return fcgimux::parse_config(static_cast<int>(argv.size()), argv.data(), unprivileged);
}

std::string error_of(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

struct temp_file {
  std::string path;
  explicit temp_file(const std::string& text) {
    char name[] = "/tmp/fcgimux-servers-XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    path = name;
    std::ofstream(path) << text;
  }
  ~temp_file() { std::remove(path.c_str()); }
};

int port_of(const fcgimux::server_config& s) {
  REQUIRE(!s.resolved.empty());
  REQUIRE(s.resolved[0].address.ss_family == AF_INET);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&s.resolved[0].address)->sin_port);
}

}  // namespace

TEST_CASE("servers given with --server: a pool of servers only spawns nothing", "[servers]") {
  auto c = parse({"--server", "127.0.0.1:9100", "--server", "localhost:9101,weight=3,max-conns=7,backup", "--server",
                  "unix:/run/php/fpm.sock", "--balance", "round-robin"});
  REQUIRE(c.pools.size() == 1);
  const auto& p = c.pools[0];
  CHECK(p.command.empty());
  CHECK(p.workers == 0);
  CHECK(p.max_workers == 0);
  REQUIRE(p.servers.size() == 3);
  CHECK(p.servers[0].address == "127.0.0.1:9100");
  CHECK(p.servers[0].weight == 1);
  CHECK(p.servers[0].max_conns == 0);
  CHECK_FALSE(p.servers[0].backup);
  CHECK(port_of(p.servers[0]) == 9100);
  CHECK(p.servers[1].weight == 3);
  CHECK(p.servers[1].max_conns == 7);
  CHECK(p.servers[1].backup);
  CHECK_FALSE(p.servers[0].named);
  CHECK(p.servers[1].named);
  CHECK(port_of(p.servers[1]) == 9101);  // parse_config resolves the name (start-up)
  REQUIRE(p.servers[2].resolved.size() == 1);
  REQUIRE(p.servers[2].resolved[0].address.ss_family == AF_UNIX);
  CHECK(std::string(reinterpret_cast<const sockaddr_un*>(&p.servers[2].resolved[0].address)->sun_path) ==
        "/run/php/fpm.sock");
  CHECK(p.balance == fcgimux::balance_mode::round_robin);
  CHECK_FALSE(p.servers_first);
}

TEST_CASE("a pool with a command and servers keeps its workers, --prefer servers reverses the order", "[servers]") {
  auto c = parse({"--server", "127.0.0.1:9100", "-n", "2", "--prefer", "servers", "--", "/usr/bin/php-cgi"});
  const auto& p = c.pools[0];
  CHECK(p.workers == 2);
  CHECK(p.servers.size() == 1);
  CHECK(p.servers_first);
  CHECK(p.balance == fcgimux::balance_mode::least_outstanding);
}

TEST_CASE("a file's \"servers\" are objects, and its pools each have their own", "[servers]") {
  temp_file f(R"({"pools": [
      {"name": "app", "listen": "127.0.0.1:9200", "balance": "first", "connect-timeout": 0.5,
       "servers": [{"address": "127.0.0.1:9300", "weight": 2, "max-conns": 4},
                   {"address": "127.0.0.1:9301", "backup": true}]},
      {"name": "local", "listen": "127.0.0.1:9201", "command": ["/usr/bin/php-cgi"]}]})");
  auto c = parse({"-c", f.path});
  REQUIRE(c.pools.size() == 2);
  const auto& app = c.pools[0];
  REQUIRE(app.servers.size() == 2);
  CHECK(app.servers[0].weight == 2);
  CHECK(app.servers[0].max_conns == 4);
  CHECK(app.servers[1].backup);
  CHECK(port_of(app.servers[1]) == 9301);
  CHECK(app.balance == fcgimux::balance_mode::first);
  CHECK(app.connect_timeout.count() == 0.5);
  CHECK(c.pools[1].servers.empty());
  CHECK(c.pools[1].workers == 4);
}

TEST_CASE("servers that cannot work are refused with one line", "[servers]") {
  CHECK(error_of({"--server", "127.0.0.1"}) == "server: '127.0.0.1' is not HOST:PORT or unix:PATH");
  CHECK(error_of({"--server", "127.0.0.1:0"}) == "server: '127.0.0.1:0' needs a port other than 0");
  CHECK(error_of({"--server", "unix:relative.sock"}) == "server: 'unix:relative.sock': unix: needs an absolute path");
  CHECK(error_of({"--server", "127.0.0.1:9000,weight=0"}) == "server: weight '0' is not a whole number from 1 to 1000");
  CHECK(error_of({"--server", "127.0.0.1:9000,max-conns=x"}) ==
        "server: max-conns 'x' is not a whole number from 1 to 65535");
  CHECK(error_of({"--server", "127.0.0.1:9000,heavy"}) == "server: 'heavy' is not weight=N, max-conns=N or backup");
  CHECK(error_of({"--server", "127.0.0.1:9000,backup"}) ==
        "server: every server is a backup: a pool needs one that is not");
  CHECK(error_of({"--server", "no-such-host.invalid:9000"})
            .rfind("server: cannot resolve 'no-such-host.invalid:9000'", 0) == 0);
  CHECK(error_of({"--server", "127.0.0.1:9000", "--balance", "random"}) ==
        "balance: 'random' is not least-outstanding, round-robin or first");
  CHECK(error_of({"--server", "127.0.0.1:9000", "--prefer", "both"}) == "prefer: 'both' is not workers or servers");
  CHECK(error_of({"--server", "127.0.0.1:9000", "--connect-timeout", "0"}) == "connect-timeout: must be more than 0");
  CHECK(error_of({}) == "no PROGRAM given (fcgimux [options] -- PROGRAM [ARGS...]), and no --server");
  temp_file bad(R"({"servers": [{"address": "127.0.0.1:9000", "weight": "heavy"}]})");
  CHECK(error_of({"-c", bad.path}) == "config: servers[0]: \"weight\" has the wrong type");
  temp_file unknown(R"({"servers": [{"address": "127.0.0.1:9000", "slow-start": 5}]})");
  CHECK(error_of({"-c", unknown.path}) == "config: servers[0]: unknown key \"slow-start\"");
  temp_file none(R"({"servers": [{"weight": 2}]})");
  CHECK(error_of({"-c", none.path}) == "config: servers[0]: \"address\" is missing (a string)");
}

TEST_CASE("passive health settings: --max-fails and --eject-time, per pool", "[servers]") {
  auto p = parse({"--server", "127.0.0.1:9100"}).pools[0];
  CHECK(p.max_fails == 3);
  CHECK(p.eject_time.count() == 10);
  CHECK(p.connect_timeout.count() == 2);
  p = parse({"--server", "127.0.0.1:9100", "--max-fails", "0", "--eject-time", "2.5"}).pools[0];
  CHECK(p.max_fails == 0);
  CHECK(p.eject_time.count() == 2.5);
  CHECK(error_of({"--server", "127.0.0.1:9100", "--eject-time", "0"}) == "eject-time: must be more than 0");
}

TEST_CASE("active check settings: --check-interval, --check-path, --check-status, --check-timeout, --rise, --fall",
          "[servers]") {
  auto p = parse({"--server", "127.0.0.1:9100"}).pools[0];
  CHECK(p.check_interval.count() == 5);
  CHECK(p.check_path.empty());
  CHECK(p.check_status == 200);
  CHECK(p.check_timeout.count() == 2);
  CHECK(p.rise == 2);
  CHECK(p.fall == 3);
  p = parse({"--server", "127.0.0.1:9100", "--check-interval", "0", "--check-path", "/ping", "--check-status", "204",
             "--rise", "1", "--fall", "5"})
          .pools[0];
  CHECK(p.check_interval.count() == 0);
  CHECK(p.check_path == "/ping");
  CHECK(p.check_status == 204);
  CHECK(p.rise == 1);
  CHECK(p.fall == 5);
  CHECK(error_of({"--server", "127.0.0.1:9100", "--check-path", "ping"}) == "check-path: 'ping' does not start with /");
  CHECK(error_of({"--server", "127.0.0.1:9100", "--check-status", "42"}) ==
        "check-status: '42' is not a status from 100 to 599");
  CHECK(error_of({"--server", "127.0.0.1:9100", "--fall", "0"}) == "fall: must be at least 1");
  CHECK(error_of({"--server", "127.0.0.1:9100", "--check-timeout", "0"}) == "check-timeout: must be more than 0");
}

TEST_CASE("read_config looks no name up: a reload resolves them off the loop, apply_names fills them in", "[servers]") {
  std::vector<std::string> args = {"fcgimux",        "--stats",       "off",
                                   "--listen",       "localhost:0",   "--server",
                                   "localhost:9101", "--server",      "no-such-host.invalid:9000",
                                   "--server",       "127.0.0.1:9100"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  config c = fcgimux::read_config(static_cast<int>(argv.size()), argv.data(), unprivileged);
  const auto& p = c.pools[0];
  // A name that does not resolve is no error yet: nothing was looked up.
  CHECK(p.servers[0].resolved.empty());
  CHECK(p.servers[1].resolved.empty());
  CHECK(p.servers[2].resolved.size() == 1);  // a literal is read with the rest
  CHECK(fcgimux::names_to_resolve(c) == std::vector<std::string>{"localhost", "no-such-host.invalid"});
  // Answers as a resolver gives them: the name without an address fails the whole configuration.
  fcgimux::name_answers answers;
  answers["localhost"].addresses.push_back(*fcgimux::literal_address("127.0.0.1", 0));
  answers["no-such-host.invalid"].error = "Name or service not known";
  config failing = c;
  try {
    fcgimux::apply_names(failing, answers);
    FAIL("a name without an address was accepted");
  } catch (const config_error& e) {
    CHECK(std::string(e.what()).rfind("server: cannot resolve 'no-such-host.invalid:9000'", 0) == 0);
  }
  // Two addresses for one name: a member each, with the server's port.
  fcgimux::name_answer two;
  auto a2 = fcgimux::literal_address("10.0.0.2", 0), a3 = fcgimux::literal_address("10.0.0.3", 0);
  REQUIRE((a2 && a3));
  two.addresses = {*a2, *a3};
  answers["no-such-host.invalid"] = two;
  fcgimux::apply_names(c, answers);
  REQUIRE(c.pools[0].servers[1].resolved.size() == 2);
  CHECK(fcgimux::address_text(c.pools[0].servers[1].resolved[1]) == "10.0.0.3");
  CHECK(ntohs(reinterpret_cast<const sockaddr_in*>(&c.pools[0].servers[1].resolved[1].address)->sin_port) == 9000);
  CHECK(port_of(c.pools[0].servers[0]) == 9101);
}

TEST_CASE("resolve-interval: 30 s by default, 0 for start and reload only", "[servers]") {
  CHECK(parse({"--server", "127.0.0.1:9100"}).pools[0].resolve_interval.count() == 30);
  CHECK(parse({"--server", "127.0.0.1:9100", "--resolve-interval", "0"}).pools[0].resolve_interval.count() == 0);
  temp_file f(R"({"resolve-interval": 2.5, "servers": [{"address": "127.0.0.1:9300"}]})");
  CHECK(parse({"-c", f.path}).pools[0].resolve_interval.count() == 2.5);
  CHECK_FALSE(error_of({"--server", "127.0.0.1:9100", "--resolve-interval", "-1"}).empty());
}
