// SPDX-License-Identifier: ISC
// fcgimux-php-trace without root: its ELF lookup of executor_globals against Debian's real php-cgi
// (the address and size nm -D prints), files it must refuse without crashing, and its clear exit
// on a process that is not PHP. Its walk of a live worker's frames is in slowlog_test.cpp (root).

#include "elf_file.hpp"
#include "php_stack.hpp"
#include "tests/support/run_program.hpp"
#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

using namespace fcgimux::test;
using namespace fcgimux::php_trace;
using namespace std::chrono_literals;

namespace {

constexpr const char* php_cgi = "/usr/bin/php-cgi8.2";

struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

TEST_CASE("php-trace: executor_globals is found in php-cgi's .dynsym where nm -D finds it", "[logs][php-trace]") {
  auto nm = run_child({"nm", "-D", "-S", "--defined-only", php_cgi}, 60s);
  REQUIRE(nm.exit_code == 0);
  // "VALUE SIZE TYPE NAME"; a symbol without a size has three fields.
  std::istringstream lines(nm.out);
  std::uint64_t nm_value = 0, nm_size = 0;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string value, size, type, name;
    if (f >> value >> size >> type >> name && name == "executor_globals") {
      nm_value = std::stoull(value, nullptr, 16);
      nm_size = std::stoull(size, nullptr, 16);
    }
  }
  REQUIRE(nm_value != 0);

  fd_closer f{::open(php_cgi, O_RDONLY | O_CLOEXEC)};
  REQUIRE(f.fd >= 0);
  elf_file elf(f.fd);
  REQUIRE(elf.ok());
  CHECK(elf.position_independent());  // Debian builds PIE: the address moves by the load bias
  auto eg = elf.dynamic_symbol("executor_globals");
  INFO(elf.error());
  REQUIRE(eg);
  CHECK(eg->value == nm_value);
  CHECK(eg->size == nm_size);
  // The headers the tool was compiled against describe the php-cgi installed beside them.
  CHECK(eg->size == executor_globals_size());
  CHECK(elf.contains(php_build_id()));
  CHECK_FALSE(elf.dynamic_symbol("executor_globals_no_such"));
  CHECK(elf.error() == "exports no symbol executor_globals_no_such");
  CHECK_FALSE(elf.dynamic_symbol("executor_global"));  // a prefix is no match
}

TEST_CASE("php-trace: a file that is not a whole ELF executable is refused, not read past its end",
          "[logs][php-trace]") {
  temp_dir dir;
  write_file(dir.file("text"), "<?php echo 1;\n");
  fd_closer text{::open(dir.file("text").c_str(), O_RDONLY | O_CLOEXEC)};
  elf_file t(text.fd);
  CHECK_FALSE(t.ok());
  CHECK(t.error() == "not an ELF file");
  CHECK_FALSE(t.dynamic_symbol("executor_globals"));

  // php-cgi cut after its headers: the section table and .dynsym lie past the end.
  const std::string whole = read_file(php_cgi);
  REQUIRE(whole.size() > 8192);
  write_file(dir.file("cut"), whole.substr(0, 8192));
  fd_closer cut{::open(dir.file("cut").c_str(), O_RDONLY | O_CLOEXEC)};
  elf_file c(cut.fd);
  REQUIRE(c.ok());
  CHECK_FALSE(c.dynamic_symbol("executor_globals"));
  CHECK_FALSE(c.error().empty());
}

TEST_CASE("php-trace: a process that is not PHP 8.2 is a clear error and exit 1, bad arguments exit 2",
          "[logs][php-trace]") {
  // This test binary: a running process, and not PHP.
  auto r = run_child({FCGIMUX_PHP_TRACE_BIN, std::to_string(::getpid())}, 60s);
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("fcgimux-php-trace: process " + std::to_string(::getpid()) + " (") == 0);
  CHECK(r.err.find(") is not PHP 8.2 (" + std::string(php_build_id()) + "): exports no symbol executor_globals\n") !=
        std::string::npos);

  for (std::vector<std::string> args : {std::vector<std::string>{}, {"x"}, {"0"}, {"12", "0"}, {"12", "20x"}}) {
    args.insert(args.begin(), FCGIMUX_PHP_TRACE_BIN);
    r = run_child(args, 60s);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("usage: fcgimux-php-trace PID [DEPTH]") == 0);
  }
}
