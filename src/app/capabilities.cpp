// SPDX-License-Identifier: ISC
#include "src/app/capabilities.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fcgimux {
namespace {

struct kept_capability {
  int cap;
  const char* name;
};

// Each one for something fcgimux does after start-up (docs/privileges.md says what).
constexpr kept_capability kept[] = {
    {CAP_DAC_OVERRIDE, "dac_override"},          // binding and removing listener paths in others' directories
    {CAP_KILL, "kill"},                          // signalling workers that run as other users
    {CAP_SETGID, "setgid"},                      // a new worker's groups and gid
    {CAP_SETUID, "setuid"},                      // a new worker's uid
    {CAP_NET_BIND_SERVICE, "net_bind_service"},  // a listener on a port below 1024 added by a reload
    {CAP_SYS_CHROOT, "sys_chroot"},              // a new worker's --chroot
    {CAP_SETPCAP, "setpcap"},                    // emptying a new worker's bounding set before its setuid
};

// Kept only for a slow log, and never passed on to a worker (process/worker_process.cpp drops
// them from a root worker's bounding set; a worker of another user has none).
constexpr kept_capability for_stacks{CAP_SYS_ADMIN, "sys_admin (--slowlog: workers' kernel stacks)"};
constexpr kept_capability for_trace{CAP_SYS_PTRACE, "sys_ptrace (--slowlog-command)"};

std::uint64_t kept_mask(slowlog_needs slow) {
  std::uint64_t m = 0;
  for (auto& k : kept) m |= std::uint64_t{1} << k.cap;
  if (slow.stacks) m |= std::uint64_t{1} << for_stacks.cap;
  if (slow.trace) m |= std::uint64_t{1} << for_trace.cap;
  return m;
}

// The highest capability this kernel knows; CAP_LAST_CAP of the headers may be older or newer.
int last_cap() {
  int last = CAP_LAST_CAP;
  while (::prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0) ++last;
  while (last > 0 && ::prctl(PR_CAPBSET_READ, last, 0, 0, 0) < 0) --last;
  return last;
}

}  // namespace

std::string kept_capabilities(slowlog_needs slow) {
  std::vector<const char*> names;
  for (auto& k : kept) names.push_back(k.name);
  if (slow.stacks) names.push_back(for_stacks.name);
  if (slow.trace) names.push_back(for_trace.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

std::string drop_capabilities(slowlog_needs slow) {
  if (::geteuid() != 0) return {};
  const std::uint64_t keep = kept_mask(slow);
  std::string problems;
  // The bounding set first: dropping from it takes CAP_SETPCAP, which capset below gives up. It is
  // what stops a root process from getting capabilities back by exec'ing a program.
  int refused = 0, bound_errno = 0;
  const int last = last_cap();
  for (int cap = 0; cap <= last; ++cap) {
    if (keep & (std::uint64_t{1} << cap)) continue;
    if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      ++refused;
      bound_errno = errno;
    }
  }
  if (refused > 0)
    problems +=
        fmt::format("; {} could not leave the bounding set ({}: no CAP_SETPCAP?)", refused, std::strerror(bound_errno));
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    problems += fmt::format("; the ambient set stays ({})", std::strerror(errno));

  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0)
    return fmt::format("capabilities: capget failed ({}); nothing dropped", std::strerror(errno));
  for (int i = 0; i < 2; ++i) {
    const auto part = static_cast<std::uint32_t>(keep >> (32 * i));
    data[i].effective &= part;
    data[i].permitted &= part;
    data[i].inheritable = 0;
  }
  if (::syscall(SYS_capset, &header, data) != 0)
    problems += fmt::format("; capset failed ({}), the permitted set stays", std::strerror(errno));
  return fmt::format("capabilities: kept {}; every other one dropped{}", kept_capabilities(slow), problems);
}

}  // namespace fcgimux
