// SPDX-License-Identifier: ISC
#pragma once
// The one SIGCHLD handler of fcgimux: reaps every exited child and tells whoever started it.
// One reaper for all pools, because waitpid(-1) in one pool would take another pool's children.

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <functional>
#include <string>
#include <unordered_map>

namespace fcgimux {

class reaper {
 public:
  using on_exit = std::function<void(int status)>;
  /// Runs when `pid` has exited but is not reaped yet: its zombie still holds its number.
  using before_reap = std::function<void()>;

  explicit reaper(asio::io_context& io);

  /// Starts handling SIGCHLD.
  void start();
  /// `done` runs once `pid` has exited and been reaped (not if forget()ten first); `last`, if
  /// given, runs just before it is reaped (for what must be done while its number is still its own).
  void watch(int pid, on_exit done, before_reap last = {});
  void forget(int pid);
  void stop();

 private:
  void wait();
  void reap();

  asio::signal_set sigchld_;
  struct watched {
    on_exit done;
    before_reap last;
  };
  std::unordered_map<int, watched> watched_;
};

/// "exited with status N" or "killed by signal N (NAME)", for a waitpid() status.
std::string describe_exit(int status);

}  // namespace fcgimux
