#include "src/app/pidfile.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace fcgimux {

void write_pidfile(const std::string& path) {
  const std::string text = fmt::format("{}\n", ::getpid());
  const std::string tmp = fmt::format("{}.{}.tmp", path, ::getpid());
  auto fail = [&](const std::string& what) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw std::system_error(e, std::system_category(), fmt::format("pid file {}: {}", path, what));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) fail("cannot create " + tmp);
  const ssize_t n = ::write(fd, text.data(), text.size());  // a few bytes to a new file: one write
  if (n != static_cast<ssize_t>(text.size())) {
    if (n >= 0) errno = EIO;
    const int e = errno;
    ::close(fd);
    errno = e;
    fail("cannot write");
  }
  if (::close(fd) != 0) fail("cannot write");
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename " + tmp + " to it");
}

void remove_pidfile(const std::string& path) noexcept {
  if (path.empty()) return;
  char buf[32] = {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return;
  long pid = 0;
  if (std::sscanf(buf, "%ld", &pid) == 1 && pid == static_cast<long>(::getpid())) ::unlink(path.c_str());
}

}  // namespace fcgimux
