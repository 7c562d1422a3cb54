// SPDX-License-Identifier: ISC
#include "src/front/unix_bind.hpp"

#include "src/base/trusted_dir.hpp"

#include <fmt/core.h>

#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace fcgimux {
namespace {

// A socket file left by a server that is gone would make bind fail, so it goes; one a live server
// listens on is refused (spawn-fcgi's test: connect to it). Anything that is not a socket is not
// ours to remove, and bind then says EADDRINUSE. The name may be swapped between these calls by
// whoever can write the directory: unlink only ever removes a name (never a symbolic link's
// target), and bind never follows one, so the worst is a refused start.
void remove_stale_socket(const sockaddr_un& addr) {
  struct stat st {};
  if (::lstat(addr.sun_path, &st) != 0 || !S_ISSOCK(st.st_mode)) return;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw std::system_error(errno, std::system_category(), "socket");
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int err = errno;
  ::close(fd);
  // EAGAIN: a live server whose backlog is full.
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS)
    throw std::system_error(std::make_error_code(std::errc::address_in_use), "another server is listening on it");
  if (err != ECONNREFUSED) return;  // EACCES and others: bind will say what is wrong
  ::unlink(addr.sun_path);
}

// The thread's effective capabilities (raw capget/capset: no libcap, as app/capabilities).
struct capability_state {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  bool read = false;
  capability_state() { read = ::syscall(SYS_capget, &header, data) == 0; }
  void restore() {
    if (read) ::syscall(SYS_capset, &header, data);
  }
};

// Around bind, this thread creates files as `access`'s user and group (setfsuid/setfsgid are per
// thread: the log writer thread keeps root's). The kernel clears CAP_DAC_OVERRIDE and its kin from
// the effective set when the filesystem uid leaves 0; they are put back, so the directory's mode
// still does not stop root, exactly as before, and the file is simply born the user's.
class file_creator {
 public:
  explicit file_creator(const unix_access& access) {
    if (access.gid >= 0) {
      ::setfsgid(static_cast<gid_t>(access.gid));
      gid_changed_ = true;
      if (current_fsgid() != static_cast<gid_t>(access.gid)) failed_ = EPERM;
    }
    if (failed_ == 0 && access.uid >= 0) {
      ::setfsuid(static_cast<uid_t>(access.uid));
      uid_changed_ = true;
      if (current_fsuid() != static_cast<uid_t>(access.uid)) failed_ = EPERM;
      caps_.restore();
    }
  }
  ~file_creator() {
    if (uid_changed_) ::setfsuid(::geteuid());
    if (gid_changed_) ::setfsgid(::getegid());
    if (uid_changed_) caps_.restore();  // back to 0, the kernel raised every permitted one
  }
  file_creator(const file_creator&) = delete;
  file_creator& operator=(const file_creator&) = delete;
  /// 0, or why the ids could not be taken (no CAP_SETUID/CAP_SETGID).
  int failed() const noexcept { return failed_; }

 private:
  // setfsuid(-1) changes nothing and returns the current value.
  static uid_t current_fsuid() { return static_cast<uid_t>(::setfsuid(static_cast<uid_t>(-1))); }
  static gid_t current_fsgid() { return static_cast<gid_t>(::setfsgid(static_cast<gid_t>(-1))); }

  capability_state caps_;
  bool uid_changed_ = false;
  bool gid_changed_ = false;
  int failed_ = 0;
};

}  // namespace

void bind_unix_path(int fd, const std::string& path, const unix_access& access) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    throw std::system_error(ENAMETOOLONG, std::system_category(), "bind");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (parent_dir(path) == run_dir) ensure_run_dir();
  remove_stale_socket(addr);
  if (access.gid >= 0) {
    // A set-group-ID directory gives new files its own group, whatever the creator's.
    struct stat dir {};
    if (::stat(parent_dir(path).c_str(), &dir) == 0 && (dir.st_mode & S_ISGID) &&
        dir.st_gid != static_cast<gid_t>(access.gid))
      throw std::system_error(EPERM, std::system_category(),
                              fmt::format("{} is set-group-ID (group {}): a socket there cannot get group {}",
                                          parent_dir(path), dir.st_gid, access.gid));
  }
  file_creator as_owner(access);
  if (as_owner.failed() != 0)
    throw std::system_error(as_owner.failed(), std::system_category(),
                            fmt::format("create {} as {}:{}", path, access.uid, access.gid));
  // The umask is the process's: the log writer thread may open a file meanwhile, with at most the
  // bits the socket's mode also lacks; nothing else runs (one thread, no fork during this call).
  const mode_t before = ::umask(~static_cast<mode_t>(access.mode) & 0777);
  const int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int err = errno;
  ::umask(before);
  if (rc != 0) throw std::system_error(err, std::system_category(), "bind");
}

}  // namespace fcgimux
