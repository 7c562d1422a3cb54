// SPDX-License-Identifier: ISC
#pragma once
// What is risky in how a pool's workers are started, found at start-up and on each SIGHUP (it
// looks at the file system, so never on the data path): the root group, and a jail or program
// that the workers' own user could change, which a compromised worker would use to choose what
// the next worker runs, or to plant files in its jail.

#include "src/config/config.hpp"

#include <string>
#include <vector>

namespace fcgimux {

/// One line per problem (empty: none), without the pool's name.
std::vector<std::string> worker_warnings(const pool_config& p);

}  // namespace fcgimux
