// SPDX-License-Identifier: ISC
#include "src/base/trusted_dir.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace fcgimux {

std::string untrusted_dir_reason(const std::string& dir) {
  struct stat st {};
  // stat, not lstat: /var/run -> /run is root's own link; what counts is the directory reached.
  if (::stat(dir.c_str(), &st) != 0) return fmt::format("cannot be checked ({})", std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return "not a directory";
  if (st.st_mode & S_IWOTH) return fmt::format("writable by every user (mode {:04o})", st.st_mode & 07777);
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) return fmt::format("owned by uid {}", st.st_uid);
  return {};
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void ensure_trusted_dir(const std::string& dir) {
  auto fail = [&](int e, const std::string& what) {
    throw std::system_error(e, std::system_category(), fmt::format("{}: {}", dir, what));
  };
  bool created = false;
  if (::geteuid() == 0) {
    created = ::mkdir(dir.c_str(), 0755) == 0;
    if (!created && errno != EEXIST) fail(errno, "cannot create it");
  }
  // O_NOFOLLOW | O_DIRECTORY: a symbolic link put there is refused, not followed; the checks are
  // made on what was opened, so nothing can be swapped between them.
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) fail(errno, errno == ENOTDIR || errno == ELOOP ? "not a directory (a symbolic link?)" : "cannot open it");
  if (created) ::fchmod(fd, 0755);  // whatever the umask: other users (nginx) must reach the sockets
  struct stat st {};
  const int rc = ::fstat(fd, &st);
  const int e = errno;
  ::close(fd);
  if (rc != 0) fail(e, "cannot check it");
  // systemd's RuntimeDirectory= makes it the service user's: that user is fcgimux itself.
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) fail(EPERM, fmt::format("owned by uid {}, not root", st.st_uid));
  if (st.st_mode & 022) fail(EPERM, fmt::format("writable by group or others (mode {:04o})", st.st_mode & 07777));
}

}  // namespace fcgimux
