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

  explicit reaper(asio::io_context& io);

  /// Starts handling SIGCHLD.
  void start();
  /// `done` runs once `pid` has exited and been reaped (not if forget()ten first).
  void watch(int pid, on_exit done);
  void forget(int pid);
  void stop();

 private:
  void wait();
  void reap();

  asio::signal_set sigchld_;
  std::unordered_map<int, on_exit> watched_;
};

/// "exited with status N" or "killed by signal N (NAME)", for a waitpid() status.
std::string describe_exit(int status);

}  // namespace fcgimux
