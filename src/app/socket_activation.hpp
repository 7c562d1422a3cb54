// SPDX-License-Identifier: ISC
#pragma once
// systemd's socket activation without libsystemd: when $LISTEN_PID is fcgimux's pid, the
// $LISTEN_FDS sockets from fd 3 on (named by $LISTEN_FDNAMES) are fcgimux's listeners instead of
// ones it binds itself.

#include <string>
#include <string_view>
#include <vector>

namespace fcgimux {

/// The first passed socket's descriptor (sd-daemon's SD_LISTEN_FDS_START).
inline constexpr int listen_fds_start = 3;

struct inherited_socket {
  int fd = -1;
  std::string address;  ///< as socket_address() prints it (front/socket_address.hpp)
  std::string name;     ///< from $LISTEN_FDNAMES, or "" (systemd's default "unknown" counts as none)
};

/// The sockets passed to this process, marked close-on-exec; the three variables are removed
/// from the environment, so that workers never see them.
std::vector<inherited_socket> take_inherited_sockets();

}  // namespace fcgimux
