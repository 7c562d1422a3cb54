// SPDX-License-Identifier: ISC
#pragma once
// Binary upgrade on SIGUSR2, the process side: the running fcgimux starts the binary on disk again
// with the same arguments and hands it its listening sockets through systemd's LISTEN_FDS protocol
// (so a socket-activated fcgimux and an upgraded one take their sockets the same way), plus a
// channel (a SOCK_SEQPACKET pair) on which the new process says it is ready and then receives the
// old one's front connections as they come to rest, so that a web server never sees one close. The server decides what
// happens around it (app/server_upgrade.cpp); docs/operations.md tells the whole sequence.

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace fcgimux {

/// What to start again: the executable's path as it was when fcgimux started (a package upgrade
/// replaces the file at that path) and the arguments.
struct process_image {
  std::string exe;
  std::vector<std::string> argv;
};

/// Reads /proc/self/exe; call once at start-up, before the file can be replaced.
process_image current_image(int argc, char** argv);

/// The LISTEN_FDNAMES name of the stats socket (a pool listener's is its pool's name).
inline constexpr std::string_view stats_socket_name = "fcgimux.stats";

/// A listening socket to hand over.
struct handover_socket {
  int fd = -1;
  std::string name;    ///< its LISTEN_FDNAMES entry
  bool owned = false;  ///< a unix socket path the new process must remove on its normal exit
};

/// A started new process.
struct upgrade_child {
  int pid = -1;
  int channel_fd = -1;  ///< one message once the new process serves; EOF if it failed
};

/// Forks and execs `image` with `sockets` as fds 3.. (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES),
/// the other end of the channel after them (FCGIMUX_UPGRADE_FD), and NOTIFY_SOCKET set back
/// to `notify_socket` when not empty. stdin, stdout and stderr are shared with this process.
upgrade_child start_upgrade(const process_image& image, const std::vector<handover_socket>& sockets,
                            const std::string& notify_socket, std::error_code& ec);

/// In the new process: what the old one passed, read and removed from the environment.
struct upgrade_role {
  int channel_fd = -1;         ///< -1: not started by an upgrade
  bool reported = false;       ///< ready was said: the channel now brings connections
  std::vector<int> owned_fds;  ///< inherited unix sockets whose paths are now this process's
  /// Started by an upgrade and not yet serving.
  bool active() const noexcept { return channel_fd >= 0 && !reported; }
};
upgrade_role take_upgrade_role();
/// Whether a SIGUSR2 started this process (before take_upgrade_role() removed the variable).
bool started_by_upgrade();

/// Tells the old process that this one serves (the channel stays open for connections).
void report_upgrade_ready(upgrade_role& role);

/// What one send_connection() did.
enum class handoff_result { sent, full, failed };
/// Old side: passes front connection `fd` and the name of its pool, without waiting. `fd` is
/// closed here once sent or when the channel failed; `full` leaves it open, to be tried again
/// when the channel can take more (app/connection_handoff.hpp).
handoff_result send_connection(int channel, int fd, const std::string& pool);

/// New side: the next connection on the (non-blocking) channel; -1 when none is waiting (`eof`
/// tells whether the old process has closed its end).
int receive_connection(int channel, std::string& pool, bool& eof);

}  // namespace fcgimux
