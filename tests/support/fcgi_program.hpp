// SPDX-License-Identifier: ISC
#pragma once

#include "tests/support/child_process.hpp"
#include "tests/support/net.hpp"
#include "tests/support/temp_dir.hpp"

#include <string>
#include <vector>

namespace fcgimux::test {

/// A FastCGI application started spawn-fcgi style, for talking to it directly (no fcgimux).
struct fcgi_program {
  child_process process;
  endpoint address;  ///< where it accepts
};

/// Starts `argv` with a fresh listening socket as fd 0: a unix socket in `dir`, or TCP on a
/// free 127.0.0.1 port. stderr goes to `dir`/NAME.stderr. The test keeps no copy of the socket.
fcgi_program spawn_fcgi_program(const std::vector<std::string>& argv, const temp_dir& dir, bool use_unix,
                                const std::vector<std::string>& env = {});

}  // namespace fcgimux::test
