// SPDX-License-Identifier: ISC
#pragma once
// systemd's readiness protocol without libsystemd: one datagram per state change to the unix
// socket named by $NOTIFY_SOCKET (an abstract one when it starts with '@'). Without the variable
// (not started by systemd with Type=notify) it does nothing.

#include <string>
#include <string_view>

namespace fcgimux {

class sd_notifier {
 public:
  /// Takes $NOTIFY_SOCKET and removes it from the environment, so that workers never see it.
  sd_notifier();

  bool enabled() const noexcept { return !path_.empty(); }
  /// $NOTIFY_SOCKET as it was, for the process a SIGUSR2 starts.
  const std::string& socket_path() const noexcept { return path_; }
  /// Sends `state` ("READY=1\nSTATUS=...") as one datagram; failures are logged once, not fatal.
  void send(std::string_view state);

 private:
  std::string path_;
  bool told_failure_ = false;
};

/// CLOCK_MONOTONIC in microseconds, for RELOADING=1's MONOTONIC_USEC=.
unsigned long long monotonic_usec();

}  // namespace fcgimux
