// SPDX-License-Identifier: ISC
#pragma once
// What fcgimux keeps of root's powers once it has started (docs/privileges.md): it stays uid 0,
// like php-fpm's master, but drops every capability it does not need from its bounding,
// permitted, effective, inheritable and ambient sets, with raw prctl/capset calls (no libcap).

#include <string>

namespace fcgimux {

/// The capabilities kept, as their names ("chown, dac_override, ...").
std::string kept_capabilities();

/// As root: drops every other capability. Returns a line for the log (what was kept, or why
/// something could not be dropped); empty when fcgimux is not root and has nothing to drop.
std::string drop_capabilities();

}  // namespace fcgimux
