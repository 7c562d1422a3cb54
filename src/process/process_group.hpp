// SPDX-License-Identifier: ISC
#pragma once
// A worker's process group, signalled so that a reused pid can never be hit. The worker leads
// the group (setsid before exec), so the group's id is the worker's pid. Which call is safe when
// is in docs/architecture.md ("Workers"): in short, a pidfd names the process itself, and a
// numeric kill(-pgid) is made only while the leader is unreaped, when its zombie still holds
// the number.

namespace fcgimux {

class process_group {
 public:
  process_group() = default;
  /// The group led by `leader`, with `pidfd` from pidfd_open(leader) (-1: none); takes the fd.
  process_group(int leader, int pidfd) noexcept : leader_(leader), pidfd_(pidfd) {}
  process_group(const process_group&) = delete;
  process_group& operator=(const process_group&) = delete;
  process_group(process_group&& o) noexcept;
  process_group& operator=(process_group&& o) noexcept;
  ~process_group();

  /// Sends `sig` to every process of the group that is still there; nothing once that cannot be
  /// done safely (the leader reaped, and a kernel older than 6.9).
  void signal(int sig) const noexcept;
  /// The leader has been reaped: its number may belong to a stranger from now on.
  void leader_reaped() noexcept { reaped_ = true; }

 private:
  int leader_ = -1;
  int pidfd_ = -1;
  bool reaped_ = false;
};

}  // namespace fcgimux
