// SPDX-License-Identifier: ISC
// base/trusted_dir: which directories root may keep its paths in, and /run/fcgimux's checks, on
// private temporary directories (never the machine's own /run/fcgimux).

#include "src/base/trusted_dir.hpp"
#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <system_error>

using namespace fcgimux;
using fcgimux::test::temp_dir;

namespace {

std::string refusal(const std::string& dir) {
  try {
    ensure_trusted_dir(dir);
  } catch (const std::system_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("parent_dir", "[security][fs]") {
  CHECK(parent_dir("/run/fcgimux/www.sock") == "/run/fcgimux");
  CHECK(parent_dir("/x") == "/");
  CHECK(parent_dir("x.pid") == ".");
}

TEST_CASE("a missing trusted directory is created 0755 whatever the umask, a good one is taken as it is",
          "[security][fs]") {
  REQUIRE(::geteuid() == 0);
  temp_dir t;
  const std::string dir = t.file("run");
  const mode_t before = ::umask(077);
  CHECK(refusal(dir).empty());
  ::umask(before);
  struct stat st {};
  REQUIRE(::lstat(dir.c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 07777) == 0755);
  CHECK(st.st_uid == 0);
  CHECK(refusal(dir).empty());  // again: it exists now
  CHECK(untrusted_dir_reason(dir).empty());
}

TEST_CASE("a trusted directory that is a link, writable by others or another user's is refused", "[security][fs]") {
  REQUIRE(::geteuid() == 0);
  temp_dir t;
  const std::string real = t.file("real"), link = t.file("link");
  REQUIRE(::mkdir(real.c_str(), 0755) == 0);
  REQUIRE(::symlink(real.c_str(), link.c_str()) == 0);
  CHECK(refusal(link).rfind(link + ": not a directory (a symbolic link?): ", 0) == 0);  // ENOTDIR or ELOOP

  REQUIRE(::chmod(real.c_str(), 01777) == 0);
  CHECK(refusal(real) == real + ": writable by group or others (mode 1777): Operation not permitted");
  CHECK(untrusted_dir_reason(real) == "writable by every user (mode 1777)");

  REQUIRE(::chmod(real.c_str(), 0755) == 0);
  REQUIRE(::chown(real.c_str(), 65534, 65534) == 0);
  CHECK(refusal(real) == real + ": owned by uid 65534, not root: Operation not permitted");
  CHECK(untrusted_dir_reason(real) == "owned by uid 65534");
}
