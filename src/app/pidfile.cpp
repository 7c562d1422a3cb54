// SPDX-License-Identifier: ISC
#include "src/app/pidfile.hpp"

#include "src/base/log.hpp"
#include "src/base/trusted_dir.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <system_error>

namespace fcgimux {
namespace {

// The last name of `path`.
std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A name nobody can guess in advance (mkstemp's idea, in a directory opened once).
std::string random_suffix() {
  std::uint64_t r = 0;
  if (::getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r) r ^= static_cast<std::uint64_t>(::getpid()) << 32;
  return fmt::format("{:016x}", r);
}

}  // namespace

void write_pidfile(const std::string& path) {
  const std::string text = fmt::format("{}\n", ::getpid());
  const std::string dir = parent_dir(path), name = base_name(path);
  if (dir == run_dir) ensure_run_dir();
  if (std::string reason = untrusted_dir_reason(dir); !reason.empty())
    log::warning("pid file {}: its directory is {}: another user can replace it there; keep it in a directory only "
                 "root writes, such as {}", path, reason, run_dir);
  // Every step goes through one descriptor of the directory: a directory swapped for a symbolic
  // link between two calls cannot send them elsewhere. The temporary's name is random and created
  // O_EXCL | O_NOFOLLOW: a file, a FIFO or a link another user put there in advance is never opened.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    throw std::system_error(errno, std::system_category(), fmt::format("pid file {}: cannot open {}", path, dir));
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = fmt::format(".{}.{}.tmp", name, random_suffix());
    fd = ::openat(dfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  auto fail = [&](const std::string& what, bool created) {
    const int e = errno;
    if (fd >= 0) ::close(fd);
    if (created) ::unlinkat(dfd, tmp.c_str(), 0);
    ::close(dfd);
    throw std::system_error(e, std::system_category(), fmt::format("pid file {}: {}", path, what));
  };
  if (fd < 0) fail("cannot create a temporary file in " + dir, false);
  const ssize_t n = ::write(fd, text.data(), text.size());  // a few bytes to a new file: one write
  if (n != static_cast<ssize_t>(text.size())) {
    if (n >= 0) errno = EIO;
    fail("cannot write", true);
  }
  // On disk before its name is: a crash never leaves an empty pid file behind.
  if (::fsync(fd) != 0) fail("cannot write", true);
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) fail("cannot write", true);
  // rename replaces whatever has the name (a symbolic link included) and never follows it.
  if (::renameat(dfd, tmp.c_str(), dfd, name.c_str()) != 0) fail("cannot rename " + tmp + " to it", true);
  ::close(dfd);
}

void remove_pidfile(const std::string& path) noexcept {
  if (path.empty()) return;
  char buf[32] = {};
  // O_NOFOLLOW | O_NONBLOCK: a symbolic link or FIFO put at the name is neither followed nor waited on.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return;
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  const ssize_t n = regular ? ::read(fd, buf, sizeof buf - 1) : -1;
  ::close(fd);
  if (n <= 0) return;
  long pid = 0;
  if (std::sscanf(buf, "%ld", &pid) == 1 && pid == static_cast<long>(::getpid())) ::unlink(path.c_str());
}

}  // namespace fcgimux
