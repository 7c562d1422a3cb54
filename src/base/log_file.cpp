// SPDX-License-Identifier: ISC
// How a log output is opened: by fcgimux as root, so never through a symbolic link and never
// anything but a regular file (or a log pipe of its own); log_writer.cpp writes them.
#include "src/base/log_file.hpp"

#include "src/base/log.hpp"
#include "src/base/log_writer.hpp"
#include "src/base/trusted_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace fcgimux::log {

namespace detail {

// Root writes what a client controls (a URI) into these files: a symbolic link swapped in for the
// name is never followed (O_NOFOLLOW: ELOOP), and nothing but a regular file is written (EINVAL):
// no device, and no FIFO another user could have put there. O_NONBLOCK so that opening a FIFO
// nobody reads fails at once instead of blocking; one that fcgimux's own user made and a reader
// holds (a log collector) is a log pipe the operator set up, and is kept.
int open_path(const std::string& path) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK, 0640);
  if (fd < 0) {
    if (errno == ENXIO) errno = EINVAL;  // a FIFO nobody reads, a socket file
    return -1;
  }
  struct stat st {};
  const bool ok = ::fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || (S_ISFIFO(st.st_mode) && st.st_uid == ::geteuid()));
  if (!ok) {
    ::close(fd);
    errno = EINVAL;
    return -1;
  }
  ::fcntl(fd, F_SETFL, O_APPEND);  // a disk (or a pipe) that stalls is the writer thread's to wait for
  return fd;
}

// Why open_path() failed, for a person.
std::string open_error(int err) {
  if (err == ELOOP) return "a symbolic link (log files are never opened through one)";
  if (err == EINVAL) return "not a regular file (a device, or a FIFO another user made or nobody reads, is never written to)";
  return std::strerror(err);
}

}  // namespace detail

output::~output() {
  if (kind_ == kind::file && fd_ >= 0) ::close(fd_);
}

std::shared_ptr<output> open_output(const std::string& path) {
  if (auto o = detail::find_output(path)) return o;
  if (path == "-") return detail::add_output(std::make_shared<output>(output::kind::standard_output, path, STDOUT_FILENO));
  int fd = detail::open_path(path);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP || err == EINVAL)
      throw std::system_error(err, std::system_category(), "cannot open " + path + ", " + detail::open_error(err));
    throw std::system_error(err, std::system_category(), "cannot open " + path);
  }
  auto o = detail::add_output(std::make_shared<output>(output::kind::file, path, fd));
  // O_NOFOLLOW guards the last name only: whoever may change the directory's entries can still
  // put a file of their own there before fcgimux starts, or move the log away.
  if (std::string reason = untrusted_dir_reason(parent_dir(path)); !reason.empty())
    log::warning("{}: its directory {} is {}: another user can swap or read the log there; keep logs in a "
                 "directory only root writes", path, parent_dir(path), reason);
  return o;
}

std::shared_ptr<output> open_syslog() {
  if (auto o = detail::find_output("syslog")) return o;
  ::openlog("fcgimux", LOG_PID, LOG_DAEMON);
  return detail::add_output(std::make_shared<output>(output::kind::syslog, "syslog", -1));
}

std::shared_ptr<output> open_stderr() {
  if (auto o = detail::find_output("stderr")) return o;
  return detail::add_output(std::make_shared<output>(output::kind::standard_error, "stderr", STDERR_FILENO));
}

}  // namespace fcgimux::log
