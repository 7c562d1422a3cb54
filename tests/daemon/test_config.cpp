#include "src/config/config.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using fcgimux::config;
using fcgimux::config_error;

namespace {

config parse(std::vector<std::string> args) {
  args.insert(args.begin(), "fcgimux");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return fcgimux::parse_config(static_cast<int>(argv.size()), argv.data());
}

std::string write_temp(const std::string& text) {
  char name[] = "/tmp/fcgimux-config-XXXXXX";
  int fd = mkstemp(name);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(name) << text;
  return name;
}

std::string error_of(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("defaults: one listener, a fixed pool, keep-conn auto") {
  auto c = parse({"/usr/bin/php-cgi"});
  CHECK(c.listen == std::vector<std::string>{"127.0.0.1:9000"});
  CHECK(c.workers == 4);
  CHECK(c.max_workers == 4);
  CHECK(c.keep_conn == fcgimux::keep_conn_mode::auto_);
  CHECK(c.send_timeout == 60);
  CHECK(c.batch_workers);
  CHECK(c.command == std::vector<std::string>{"/usr/bin/php-cgi"});
  CHECK(c.max_spawn_rate == 40);  // 10 x max-workers: the maximum within 100 ms
}

TEST_CASE("flags, short and long, with = and separate values") {
  auto c = parse({"-n", "2", "-N8", "--listen=127.0.0.1:1", "--listen", "unix:/tmp/x.sock", "--keep-conn", "no",
                  "--queue-timeout", "1.5", "--worker-sched", "normal", "-v", "--", "prog", "-a", "--b"});
  CHECK(c.workers == 2);
  CHECK(c.max_workers == 8);
  CHECK(c.listen == std::vector<std::string>{"127.0.0.1:1", "unix:/tmp/x.sock"});
  CHECK(c.keep_conn == fcgimux::keep_conn_mode::no);
  CHECK(c.queue_timeout == 1.5);
  CHECK_FALSE(c.batch_workers);
  CHECK(c.verbose);
  CHECK(c.command == std::vector<std::string>{"prog", "-a", "--b"});
}

TEST_CASE("kfcgi -r makes the pool variable: max defaults to twice the minimum") {
  auto c = parse({"-r", "-n", "3", "prog"});
  CHECK(c.max_workers == 6);
}

TEST_CASE("a JSON file sets the same keys, and flags win over it") {
  auto path = write_temp(R"({"listen": ["127.0.0.1:7000", "127.0.0.1:7001"], "workers": 3, "max-workers": 9,
                             "keep-conn": false, "stats": "off", "worker-sched": "normal",
                             "command": ["/bin/prog", "x"]})");
  auto c = parse({"-c", path, "-n", "5"});
  CHECK(c.listen.size() == 2);
  CHECK(c.workers == 5);
  CHECK(c.max_workers == 9);
  CHECK(c.keep_conn == fcgimux::keep_conn_mode::no);
  CHECK(c.stats == "off");
  CHECK_FALSE(c.batch_workers);
  CHECK(c.command == std::vector<std::string>{"/bin/prog", "x"});
  auto c2 = parse({"-c", path, "--listen", "127.0.0.1:8000"});
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

TEST_CASE("keep-conn takes yes, no and auto; send-timeout takes seconds") {
  CHECK(parse({"--keep-conn", "auto", "prog"}).keep_conn == fcgimux::keep_conn_mode::auto_);
  CHECK(parse({"--keep-conn", "yes", "prog"}).keep_conn == fcgimux::keep_conn_mode::yes);
  CHECK(parse({"--send-timeout", "2.5", "prog"}).send_timeout == 2.5);
}
