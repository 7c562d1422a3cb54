// SPDX-License-Identifier: ISC
#include "src/process/process_group.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <utility>

#ifndef PIDFD_SIGNAL_PROCESS_GROUP
#define PIDFD_SIGNAL_PROCESS_GROUP (1U << 2)
#endif

namespace fcgimux {

process_group::process_group(process_group&& o) noexcept
    : leader_(std::exchange(o.leader_, -1)), pidfd_(std::exchange(o.pidfd_, -1)), reaped_(o.reaped_) {}

process_group& process_group::operator=(process_group&& o) noexcept {
  if (this != &o) {
    if (pidfd_ >= 0) ::close(pidfd_);
    leader_ = std::exchange(o.leader_, -1);
    pidfd_ = std::exchange(o.pidfd_, -1);
    reaped_ = o.reaped_;
  }
  return *this;
}

process_group::~process_group() {
  if (pidfd_ >= 0) ::close(pidfd_);
}

void process_group::signal(int sig) const noexcept {
  if (leader_ <= 0) return;
  if (pidfd_ >= 0) {
    // Linux 6.9+: the group the pidfd's process leads, found by that process's struct pid and not
    // by its number, so it reaches what is left of the group even after the leader was reaped.
    if (::syscall(SYS_pidfd_send_signal, pidfd_, sig, nullptr, PIDFD_SIGNAL_PROCESS_GROUP) == 0 || errno == ESRCH)
      return;
    // Otherwise (EINVAL: an older kernel without the flag) by number, while that is safe.
  }
  if (reaped_) return;
  // The leader is not reaped, so its number, which is the group's id, is still taken by it.
  ::kill(-leader_, sig);
}

}  // namespace fcgimux
