// SPDX-License-Identifier: ISC
#include "src/app/upgrade.hpp"

#include "src/app/decimal.hpp"
#include "src/app/socket_activation.hpp"
#include "src/base/log.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string_view>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace fcgimux {
namespace {

constexpr std::string_view ready_variable = "FCGIMUX_UPGRADE_FD";
constexpr std::string_view owned_variable = "FCGIMUX_OWNED_FDS";

bool is_ours(std::string_view entry) {
  const std::string_view name = entry.substr(0, entry.find('='));
  return name == "LISTEN_PID" || name == "LISTEN_FDS" || name == "LISTEN_FDNAMES" || name == "NOTIFY_SOCKET" ||
         name == ready_variable || name == owned_variable;
}

int parse_fd(std::string_view s) {
  const long v = decimal_of(s);
  return v <= INT_MAX ? static_cast<int>(v) : -1;
}

// Writes `v` in decimal at `out` (room for 20 digits and a NUL); async-signal-safe.
void put_decimal(char* out, long v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
}

// Only async-signal-safe calls: the child of fork() in a process that may hold locks.
[[noreturn]] void exec_new(const char* exe, char* const* argv, char* const* envp, char* listen_pid_value,
                           const int* fds, int nfds) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  put_decimal(listen_pid_value, static_cast<long>(getpid()));
  // The sockets must end up at 3, 4, ...; some may sit there already, so every one goes through a
  // copy above that range first (close-on-exec: the copies are not the new process's).
  const int above = listen_fds_start + nfds;
  int copies[256];
  for (int i = 0; i < nfds; ++i) {
    copies[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, above);
    if (copies[i] < 0) _exit(126);
  }
  for (int i = 0; i < nfds; ++i)
    if (dup2(copies[i], listen_fds_start + i) < 0) _exit(126);
  if (syscall(SYS_close_range, static_cast<unsigned>(above), ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = above; fd < 65536; ++fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  execve(exe, argv, envp);
  static const char msg[] = "fcgimux: SIGUSR2: cannot execute the new binary\n";
  ssize_t r = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)r;
  _exit(127);
}

}  // namespace

process_image current_image(int argc, char** argv) {
  process_image image;
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  image.exe = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string(argc > 0 ? argv[0] : "");
  for (int i = 0; i < argc; ++i) image.argv.emplace_back(argv[i]);
  return image;
}

upgrade_child start_upgrade(const process_image& image, const std::vector<handover_socket>& sockets,
                            const std::string& notify_socket, std::error_code& ec) {
  upgrade_child out;
  ec.clear();
  if (sockets.size() + 1 > 256 || image.exe.empty()) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return out;
  }
  // Everything the child needs is built before fork.
  std::vector<char*> argv;
  for (const auto& a : image.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::string names, owned;
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    names += (i ? ":" : "") + sockets[i].name;
    if (sockets[i].owned) owned += (owned.empty() ? "" : ",") + std::to_string(listen_fds_start + i);
  }
  std::vector<std::string> ours = {
      "LISTEN_PID=" + std::string(24, ' '),
      "LISTEN_FDS=" + std::to_string(sockets.size()),
      "LISTEN_FDNAMES=" + names,
      std::string(ready_variable) + "=" + std::to_string(listen_fds_start + sockets.size()),
      std::string(owned_variable) + "=" + owned,
  };
  if (!notify_socket.empty()) ours.push_back("NOTIFY_SOCKET=" + notify_socket);
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e)
    if (!is_ours(*e)) envp.push_back(*e);
  for (auto& e : ours) envp.push_back(e.data());
  envp.push_back(nullptr);
  char* listen_pid_value = ours[0].data() + std::strlen("LISTEN_PID=");

  int ready[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ready) != 0) {
    ec.assign(errno, std::system_category());
    return out;
  }
  std::vector<int> fds;
  for (const auto& s : sockets) fds.push_back(s.fd);
  fds.push_back(ready[1]);
  // The new process writes to the same stderr: what this one logged so far comes first.
  log::flush();
  const pid_t pid = ::fork();
  if (pid == 0)
    exec_new(image.exe.c_str(), argv.data(), envp.data(), listen_pid_value, fds.data(), static_cast<int>(fds.size()));
  const int fork_errno = errno;
  ::close(ready[1]);
  if (pid < 0) {
    ::close(ready[0]);
    ec.assign(fork_errno, std::system_category());
    return out;
  }
  out.pid = pid;
  out.channel_fd = ready[0];
  return out;
}

upgrade_role take_upgrade_role() {
  upgrade_role role;
  if (const char* v = std::getenv(ready_variable.data())) role.channel_fd = parse_fd(v);
  if (const char* v = std::getenv(owned_variable.data())) {
    std::string_view rest(v);
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      if (int fd = parse_fd(rest.substr(0, comma)); fd >= 0) role.owned_fds.push_back(fd);
      rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    }
  }
  if (role.channel_fd >= 0 && ::fcntl(role.channel_fd, F_SETFD, FD_CLOEXEC) != 0) role.channel_fd = -1;
  ::unsetenv(ready_variable.data());
  ::unsetenv(owned_variable.data());
  return role;
}

bool started_by_upgrade() { return std::getenv(ready_variable.data()) != nullptr; }

void report_upgrade_ready(upgrade_role& role) {
  if (!role.active()) return;
  const char ready = 'R';
  ssize_t r = ::send(role.channel_fd, &ready, 1, MSG_NOSIGNAL);
  (void)r;
  role.reported = true;
}

handoff_result send_connection(int channel, int fd, const std::string& pool) {
  msghdr msg{};
  iovec iov{const_cast<char*>(pool.data()), pool.size()};
  char dummy = '-';
  if (pool.empty()) iov = {&dummy, 1};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  if (::sendmsg(channel, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) {
    ::close(fd);
    return handoff_result::sent;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ENOBUFS) return handoff_result::full;
  ::close(fd);
  return handoff_result::failed;
}

int receive_connection(int channel, std::string& pool, bool& eof) {
  eof = false;
  char name[256];
  iovec iov{name, sizeof name};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(channel, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n == 0) eof = true;
  if (n <= 0) {
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) eof = true;
    return -1;
  }
  int fd = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
  pool.assign(name, static_cast<std::size_t>(n));
  return fd;
}

}  // namespace fcgimux
