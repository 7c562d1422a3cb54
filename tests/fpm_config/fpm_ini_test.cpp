// SPDX-License-Identifier: ISC
// php-fpm's INI format as fcgimux reads it: sections, include= globs, quoting, ${ENV}, $pool, errors.

#include "src/config/config.hpp"
#include "src/config/fpm_ini.hpp"
#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <map>

using fcgimux::config_error;
using namespace fcgimux::config_detail;
using fcgimux::test::temp_dir;
using fcgimux::test::write_file;

namespace {

const env_lookup fake_env = [](const std::string& name) -> std::optional<std::string> {
  static const std::map<std::string, std::string> vars = {{"SOCKDIR", "/run/x"}, {"KIDS", "7"}};
  auto it = vars.find(name);
  if (it == vars.end()) return std::nullopt;
  return it->second;
};

std::string value_of(const fpm_section& s, const std::string& key) {
  for (auto& e : s.entries)
    if (e.key == key) return e.value;
  return "<absent>";
}

std::string error_of(const std::string& path, const std::string& prefix = "/usr") {
  try {
    read_fpm_ini(path, prefix, fake_env);
  } catch (const config_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("fpm ini: values are quoted, commented and expanded as PHP's normal INI scanner does", "[fpm]") {
  CHECK(fpm_ini_value(" 5 ", fake_env) == "5");
  CHECK(fpm_ini_value("/run/php.sock ; the socket", fake_env) == "/run/php.sock");
  CHECK(fpm_ini_value(R"("%R - %u \"%m\" ; not a comment")", fake_env) == R"(%R - %u "%m" ; not a comment)");
  CHECK(fpm_ini_value("'${SOCKDIR} raw'", fake_env) == "${SOCKDIR} raw");
  CHECK(fpm_ini_value("${SOCKDIR}/www.sock", fake_env) == "/run/x/www.sock");
  CHECK(fpm_ini_value("\"${SOCKDIR}\"/a", fake_env) == "/run/x/a");
  CHECK(fpm_ini_value("${UNSET}", fake_env).empty());
  CHECK(fpm_ini_value("yes", fake_env) == "1");
  CHECK(fpm_ini_value("Off", fake_env).empty());
  CHECK(fpm_ini_value("\"no\"", fake_env) == "no");  // a quoted word stays a word
  CHECK_THROWS_WITH(fpm_ini_value("\"open", fake_env), Catch::Contains("closing"));
  CHECK_THROWS_WITH(fpm_ini_value("${OPEN", fake_env), Catch::Contains("'}'"));
  CHECK(fpm_bool("1") == true);
  CHECK(fpm_bool("") == false);
  CHECK_FALSE(fpm_bool("maybe").has_value());
}

TEST_CASE("fpm ini: sections, $pool, and include globs relative to the prefix, in order", "[fpm]") {
  temp_dir dir;
  write_file(dir.file("main.conf"),
             "; comment\n"
             "pid = run/fpm.pid\n"
             "[global]\n"
             "error_log = syslog\n"
             "include = pool.d/*.conf\n"
             "include = pool.d/*.none\n");
  ::mkdir(dir.file("pool.d").c_str(), 0755);
  ::mkdir(dir.file("pool.d/sub.conf").c_str(), 0755);  // a directory the glob matches: skipped
  write_file(dir.file("pool.d/b.conf"), "[b]\nlisten = ${SOCKDIR}/$pool.sock\nenv[KIDS] = ${KIDS}\n");
  write_file(dir.file("pool.d/a.conf"), "[a]\nlisten = /a/$pool/$pool.sock\n");
  const fpm_file f = read_fpm_ini(dir.file("main.conf"), dir.path(), fake_env);
  REQUIRE(f.sections.size() == 4);
  CHECK(f.sections[0].name == "global");
  CHECK(value_of(f.sections[0], "pid") == "run/fpm.pid");
  CHECK(f.sections[1].name == "global");
  CHECK(f.sections[2].name == "a");  // glob order
  CHECK(value_of(f.sections[2], "listen") == "/a/a/a.sock");
  CHECK(f.sections[3].name == "b");
  CHECK(value_of(f.sections[3], "listen") == "/run/x/b.sock");
  CHECK(value_of(f.sections[3], "env[KIDS]") == "7");
  // A directory that is not there is an error, as glob(GLOB_ERR) makes it for php-fpm.
  write_file(dir.file("bad.conf"), "include = missing/*.conf\n");
  CHECK_THAT(error_of(dir.file("bad.conf"), dir.path()), Catch::Contains("bad.conf:1: include: cannot read"));
  CHECK(f.sections[3].entries[0].where() == dir.file("pool.d/b.conf") + ":2");
  REQUIRE(f.warnings.size() == 1);
  CHECK_THAT(f.warnings[0], Catch::Contains("main.conf:6: include: nothing matches"));
}

TEST_CASE("fpm ini: refused lines name their file and line", "[fpm]") {
  temp_dir dir;
  write_file(dir.file("a.conf"), "[www]\nlisten = 9000\njust words\n");
  CHECK_THAT(error_of(dir.file("a.conf")), Catch::Contains("a.conf:3: 'just words' is not key = value"));
  write_file(dir.file("b.conf"), "[www\n");
  CHECK_THAT(error_of(dir.file("b.conf")), Catch::Contains("b.conf:1: a section without its ']'"));
  write_file(dir.file("c.conf"), "[global]\npid = /run/$pool.pid\n");
  CHECK_THAT(error_of(dir.file("c.conf")), Catch::Contains("c.conf:2: pid: '$pool' outside a pool"));
  write_file(dir.file("d.conf"), "[www]\naccess.format = \"%R\n");
  CHECK_THAT(error_of(dir.file("d.conf")), Catch::Contains("d.conf:2: a '\"' without its closing"));
  CHECK_THAT(error_of(dir.file("none.conf")), Catch::Contains("none.conf: cannot open it"));
  // An include of itself: php-fpm's limit of 5 nested files.
  write_file(dir.file("loop.conf"), "include = " + dir.file("loop.conf") + "\n");
  CHECK_THAT(error_of(dir.file("loop.conf")), Catch::Contains("more than 5 files included"));
}
