// SPDX-License-Identifier: ISC
#pragma once
// What the privilege tests share: who a process runs as (from /proc), a request to the identity
// responder, a connect() under another user's ids, and a temporary group.

#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/net.hpp"

#include <sys/types.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace fcgimux::test {

using namespace std::chrono_literals;

/// The static C responder (identity_responder.c).
inline constexpr const char* identity_responder_bin = IDENTITY_RESPONDER_BIN;

/// Copies the identity responder into `dir` (made 0755, so that any worker user reaches it) and
/// returns its path there: the build tree may sit where an unprivileged user cannot go.
std::string install_responder(const std::string& dir);

/// A process's ids and capabilities, from /proc/PID/status.
struct proc_identity {
  std::vector<unsigned> uid;  ///< real, effective, saved, filesystem
  std::vector<unsigned> gid;
  std::set<unsigned> groups;
  std::string cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;  ///< hex as printed
};
proc_identity identity_of(pid_t pid);

/// `pid`'s /proc/PID/root or /proc/PID/cwd link target ("" when unreadable).
std::string proc_link(pid_t pid, const char* which);

/// fcgimux's workers once `n` of them have exec'd `program` (their comm is its name); empty on timeout.
std::vector<pid_t> workers_running(const fcgimux_instance& mux, std::size_t n, const std::string& program,
                                   std::chrono::milliseconds timeout = 10s);

/// The body of the identity responder's answer to one request at `where` ("" if none came).
std::string ask_identity(const endpoint& where);

/// connect() to the unix socket `path` from a child that has taken `uid`, `gid` (and only that
/// group): 0 if it connected, else its errno.
int connect_errno_as(uid_t uid, gid_t gid, const std::string& path);

/// The ids of `id -G USER`: the groups the system gives that user (by another tool than fcgimux's).
std::set<unsigned> groups_by_id_tool(const std::string& user);

/// A system group that exists for the test's lifetime, with `member` in it (groupadd, gpasswd).
class temp_group {
 public:
  explicit temp_group(const std::string& member);
  ~temp_group();
  temp_group(const temp_group&) = delete;
  temp_group& operator=(const temp_group&) = delete;
  const std::string& name() const noexcept { return name_; }
  gid_t gid() const noexcept { return gid_; }

 private:
  std::string name_;
  gid_t gid_ = 0;
};

/// Text for a failure message: the fcgimux stderr.
std::string stderr_of(const fcgimux_instance& mux);

}  // namespace fcgimux::test
