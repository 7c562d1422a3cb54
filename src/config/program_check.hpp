// SPDX-License-Identifier: ISC
#pragma once
// What only a start would find out about a configuration, checked without starting anything
// (-t, --check-config): that every pool's program is there to be executed.

#include "src/config/config.hpp"

namespace fcgimux {

/// Each pool's PROGRAM as its workers' execvp would find it: inside --chroot, relative paths from
/// --chdir, a bare name along PATH (the pool's env, else fcgimux's). Throws config_error naming
/// the pool and the program when one is missing or not an executable file. Checked with
/// fcgimux's own permissions, not the workers' user's.
void check_programs(const config& c);

}  // namespace fcgimux
