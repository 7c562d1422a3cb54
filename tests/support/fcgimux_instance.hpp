// SPDX-License-Identifier: ISC
#pragma once

#include "tests/support/child_process.hpp"
#include "tests/support/net.hpp"
#include "tests/support/temp_dir.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace fcgimux::test {

/// How to start the real fcgimux binary.
struct fcgimux_options {
  std::vector<std::string> args;     ///< options after `--listen 127.0.0.1:0` (e.g. {"-n", "2"})
  std::vector<std::string> command;  ///< the worker program and its arguments, after `--` (none: no `--`)
  std::vector<std::string> env;      ///< extra environment, "NAME=VALUE"
  bool listen_tcp = true;            ///< pass `--listen 127.0.0.1:0` and wait for its port
  std::chrono::milliseconds startup_timeout{10000};
  /// As root, fcgimux refuses to start without --user: pass `--user root` (tests that are not about
  /// privileges run their workers as root, asked for explicitly) unless `args` name a --user.
  bool root_workers = true;
  std::string binary{};  ///< the fcgimux to run; empty: the one just built
};

/// `--user root` when the tests run as root and `args` name no --user; nothing otherwise.
std::vector<std::string> root_user_args(const std::vector<std::string>& args);

/// A running fcgimux: `fcgimux --listen 127.0.0.1:0 ARGS -- COMMAND`, started once it printed
/// `listening on 127.0.0.1:PORT` on stderr. Stopped (and its workers killed) on destruction.
class fcgimux_instance {
 public:
  /// Starts it and waits for the listening line; throws (with its stderr) on failure.
  explicit fcgimux_instance(const fcgimux_options& options);

  /// The front TCP port.
  std::uint16_t port() const noexcept { return port_; }
  /// The front address.
  endpoint address() const { return endpoint::tcp(port_); }
  /// The stats port, if a `stats on HOST:PORT` line was printed by the time the front was up.
  std::uint16_t stats_port() const noexcept { return stats_port_; }
  /// Everything fcgimux wrote to stderr so far.
  std::string stderr_text() const { return process_.stderr_text(); }
  /// The process.
  child_process& process() noexcept { return process_; }
  /// Direct children of fcgimux (its workers), from /proc.
  std::vector<pid_t> worker_pids() const { return process_.children(); }
  /// Waits for a stderr line "...PREFIXPORT" (e.g. "stats on 127.0.0.1:"); 0 on timeout.
  std::uint16_t wait_for_port(const std::string& prefix, std::chrono::milliseconds timeout) const;
  /// Waits until fcgimux has `n` children (workers); false on timeout.
  bool wait_for_workers(std::size_t n, std::chrono::milliseconds timeout) const;

 private:
  temp_dir dir_;
  child_process process_;
  std::uint16_t port_ = 0;
  std::uint16_t stats_port_ = 0;
};

/// Result of running fcgimux to completion.
struct fcgimux_run {
  bool finished = false;  ///< it exited before the timeout
  exit_status status;
  std::string stderr_text;
  std::string stdout_text;
};

/// Runs `fcgimux ARGS` (no implicit --listen; `--user root` first as root, see root_user_args(),
/// unless `root_workers` is false) and waits up to `timeout` for it to exit.
fcgimux_run run_fcgimux(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                        bool root_workers = true);

/// The port in the first stderr line "... listening on HOST:PORT" for `host`; 0 if none.
std::uint16_t find_listening_port(const std::string& text, const std::string& prefix);

}  // namespace fcgimux::test
