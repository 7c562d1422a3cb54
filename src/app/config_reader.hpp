// SPDX-License-Identifier: ISC
#pragma once
// A SIGHUP's read of the configuration, off the event loop. Reading the -c file (a FIFO, a slow
// network mount) and looking up the workers' users and groups (getpwnam_r with LDAP or sssd behind
// NSS) can block for seconds; the loop serves on meanwhile and gets the outcome as a handler.
// One thread per read: reloads are rare, and a thread that is not there cannot be stuck.

#include "src/config/config.hpp"

#include <asio/io_context.hpp>

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace fcgimux {

class config_reader {
 public:
  using source = std::function<config()>;
  /// On the loop: the configuration read, or why it could not be (`error` set, `read` empty).
  struct outcome {
    config read;
    std::string error;
  };

  config_reader(asio::io_context& io, source s) : io_(io), source_(std::move(s)) {}
  config_reader(const config_reader&) = delete;
  config_reader& operator=(const config_reader&) = delete;
  /// Waits for a read under way (its outcome is dropped): the thread must not outlive the loop it
  /// posts to. A read stuck in NSS delays the exit by as long.
  ~config_reader();

  /// Reads on a thread of its own; `done` runs on the loop. Only one at a time (see busy()).
  void read(std::function<void(outcome)> done);
  bool busy() const noexcept { return busy_; }

 private:
  asio::io_context& io_;
  source source_;
  std::thread thread_;
  bool busy_ = false;
  // Shared with the thread's handler: false once this reader is gone, so that nothing runs into it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fcgimux
