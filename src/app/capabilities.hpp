// SPDX-License-Identifier: ISC
#pragma once
// What fcgimux keeps of root's powers once it has started (docs/privileges.md): it stays uid 0,
// like php-fpm's master, but drops every capability it does not need from its bounding,
// permitted, effective, inheritable and ambient sets, with raw prctl/capset calls (no libcap).

#include <string>

namespace fcgimux {

/// What a pool's slow log needs beyond the rest, kept only when some pool has it at start-up.
struct slowlog_needs {
  bool stacks = false;  ///< --slowlog: /proc/PID/stack is shown to CAP_SYS_ADMIN only
  bool trace = false;   ///< --slowlog-command: a debugger attaching to another user's worker (CAP_SYS_PTRACE)
};

/// The capabilities kept, as their names ("chown, dac_override, ...").
std::string kept_capabilities(slowlog_needs slow = {});

/// As root: drops every other capability. Returns a line for the log (what was kept, or why
/// something could not be dropped); empty when fcgimux is not root and has nothing to drop.
std::string drop_capabilities(slowlog_needs slow = {});

}  // namespace fcgimux
