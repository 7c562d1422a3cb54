// SPDX-License-Identifier: ISC
// A worker's environment and the paths its program is looked for at, as spawn_worker() prepares
// them before fork() (the child only reads them).

#include "src/config/config.hpp"
#include "src/process/exec_plan.hpp"

#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace fcgimux {
namespace {

using strings = std::vector<std::string>;

config parse(std::vector<std::string> args) {
  args.insert(args.begin(), "fcgimux");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_config(static_cast<int>(args.size()), argv.data(), process_identity{.uid = 1000, .gid = 1000});
}

strings of(char* const* array) {
  strings out;
  for (; *array; ++array) out.emplace_back(*array);
  return out;
}

}  // namespace

TEST_CASE("a worker's environment: everything by default, PATH and --pass-env only when cleared, --env on top",
          "[security][workers]") {
  char path[] = "PATH=/usr/bin:/bin", home[] = "HOME=/root", secret[] = "API_TOKEN=t0ken", lang[] = "LANG=C.UTF-8";
  char* parent[] = {path, home, secret, lang, nullptr};

  CHECK(worker_environment(parent, {}) == strings{"PATH=/usr/bin:/bin", "HOME=/root", "API_TOKEN=t0ken", "LANG=C.UTF-8"});
  CHECK(worker_environment(parent, {.clear = true}) == strings{"PATH=/usr/bin:/bin"});
  CHECK(worker_environment(parent, {.clear = true, .pass = {"LANG", "NOT_SET"}}) ==
        strings{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"});
  CHECK(worker_environment(parent, {.clear = true, .set = {{"PATH", "/opt/bin"}, {"HOME", "/var/www"}}}) ==
        strings{"PATH=/opt/bin", "HOME=/var/www"});
  CHECK(worker_environment(parent, {.set = {{"HOME", "/var/www"}}}) ==
        strings{"PATH=/usr/bin:/bin", "API_TOKEN=t0ken", "LANG=C.UTF-8", "HOME=/var/www"});
  // A name is a whole name: PATHX is not PATH.
  char pathx[] = "PATHX=1";
  char* other[] = {pathx, nullptr};
  CHECK(worker_environment(other, {.clear = true}).empty());
}

TEST_CASE("a program is looked for as execvp looks for it, in the worker's PATH", "[security][workers]") {
  CHECK(program_candidates("/usr/bin/php-cgi", nullptr) == strings{"/usr/bin/php-cgi"});
  CHECK(program_candidates("./app", nullptr) == strings{"./app"});
  CHECK(program_candidates("php-cgi", nullptr) == strings{"/bin/php-cgi", "/usr/bin/php-cgi"});
  const std::string path = "/opt/bin/::/usr/bin";
  CHECK(program_candidates("app", &path) == strings{"/opt/bin/app", "app", "/usr/bin/app"});

  char p[] = "PATH=/srv/bin:/usr/bin";
  exec_plan plan({"app", "-x"}, {p});
  CHECK(of(plan.argv()) == strings{"app", "-x"});
  CHECK(of(plan.envp()) == strings{"PATH=/srv/bin:/usr/bin"});
  CHECK(of(plan.candidates()) == strings{"/srv/bin/app", "/usr/bin/app"});
  char** sh = plan.script_argv();
  CHECK(std::string(sh[0]) == "/bin/sh");
  CHECK(sh[1] == nullptr);  // the slot the child fills
  CHECK(std::string(sh[2]) == "-x");
  CHECK(sh[3] == nullptr);
}

TEST_CASE("the options clear-env, pass-env and no-new-privs are per-pool settings, checked when read", "[security][workers]") {
  const config plain = parse({"--", "prog"});
  CHECK_FALSE(plain.pools[0].clear_env);
  CHECK_FALSE(plain.pools[0].no_new_privs);
  const config c = parse({"--clear-env", "yes", "--pass-env", "LANG", "--pass-env", "TZ", "--pass-env", "LANG",
                          "--no-new-privs", "yes", "--", "prog"});
  CHECK(c.pools[0].clear_env);
  CHECK(c.pools[0].pass_env == strings{"LANG", "TZ"});
  CHECK(c.pools[0].no_new_privs);
  CHECK_THROWS_WITH(parse({"--pass-env", "LANG", "--", "prog"}),
                    Catch::Contains("pass-env: only means something with --clear-env yes"));
  CHECK_THROWS_WITH(parse({"--clear-env", "yes", "--pass-env", "A=B", "--", "prog"}),
                    Catch::Contains("pass-env: 'A=B' is not a variable's name"));
  CHECK_THROWS_WITH(parse({"--clear-env", "maybe", "--", "prog"}), Catch::Contains("clear-env: 'maybe' is not yes or no"));
  CHECK_THROWS_WITH(parse({"--no-new-privs", "2", "--", "prog"}), Catch::Contains("no-new-privs: '2' is not yes or no"));

  // In a file, "pass-env" is a list of its own: it must not replace the pool's "listen".
  char path[] = "/tmp/fcgimux-exec-plan-test-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path) << R"({"pools": [{"name": "www", "listen": "127.0.0.1:9100", "command": ["prog"],
                             "clear-env": "yes", "pass-env": ["LANG", "TZ"]}]})";
  const config f = parse({"-c", path});
  ::unlink(path);
  REQUIRE(f.pools.size() == 1);
  CHECK(f.pools[0].listen == strings{"127.0.0.1:9100"});
  CHECK(f.pools[0].pass_env == strings{"LANG", "TZ"});
}

}  // namespace fcgimux
