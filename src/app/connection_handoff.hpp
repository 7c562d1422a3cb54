// SPDX-License-Identifier: ISC
#pragma once
// After a binary upgrade (SIGUSR2) the old process passes each front connection that comes to rest
// to the new one over the upgrade channel (SCM_RIGHTS), on the loop: a non-blocking send, and when
// the channel is full, a wait for it to take more, in the order the connections came. A channel
// that takes nothing for a second (a new process that stopped reading) loses that connection,
// closed here with a log line, as a blocking send with a 1 s timeout did, without holding the loop.

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>

namespace fcgimux {

/// The old process's end of the upgrade channel, once the new process serves.
class connection_handoff {
 public:
  /// Takes `channel_fd` (a SOCK_SEQPACKET socket) and closes it on destruction. `on_idle` is
  /// told each time the last queued connection has gone (sent or given up).
  connection_handoff(asio::io_context& io, int channel_fd, std::function<void()> on_idle);
  ~connection_handoff();
  connection_handoff(const connection_handoff&) = delete;
  connection_handoff& operator=(const connection_handoff&) = delete;

  /// Passes front connection `fd` of pool `pool` after those queued before it; `fd` is this
  /// object's from now on (closed once sent, or when it cannot be).
  void send(int fd, std::string pool);
  /// Nothing waits to be sent: the process may exit without losing a connection.
  bool idle() const noexcept { return queue_.empty(); }

 private:
  struct pending {
    int fd;
    std::string pool;
  };
  void pump();
  void wait_writable();
  void give_up_head(const char* why);

  std::function<void()> on_idle_;
  asio::posix::stream_descriptor channel_;
  asio::steady_timer patience_;
  std::deque<pending> queue_;
  std::chrono::steady_clock::time_point head_since_{};  // when the head first found the channel full
  std::uint64_t wait_generation_ = 0;                   // tells a current wait from a cancelled one
  bool waiting_ = false;
};

}  // namespace fcgimux
