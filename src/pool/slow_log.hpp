// SPDX-License-Identifier: ISC
#pragma once
// A pool's slow log (--slowlog): one entry per request still at its worker past --slow-threshold,
// taken while it runs (php-fpm's request_slowlog_timeout), with what the worker is doing then:
// its kernel stack and wchan, and the output of --slowlog-command (process/worker_trace.hpp).
//
// No timer per request: requests are watched in the order their workers took them, which with
// one threshold is the order their deadlines come, so one timer serves the oldest and a request
// that ended is dropped from the front as new ones arrive. The entry is written in one append to
// the log writer (base/log_file.hpp): entries of two pools never interleave, and the loop never
// waits for the disk.

#include "src/base/log_file.hpp"
#include "src/config/config.hpp"
#include "src/core/request.hpp"
#include "src/process/reaper.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

namespace fcgimux {

class slow_log {
 public:
  /// Reads the threshold, the command and its bound from `cfg` as they are at each entry.
  slow_log(asio::io_context& io, reaper& children, const pool_config& cfg);
  ~slow_log();
  slow_log(const slow_log&) = delete;
  slow_log& operator=(const slow_log&) = delete;

  /// `r` has just been handed to its worker (r.worker_pid, r.started_at): an entry if it is still
  /// there, on the same attempt, past the threshold. Nothing when the log is off.
  void watch(const std::shared_ptr<request>& r);

  /// A reload, first step: opens the file `next` names if it is another one. Throws
  /// std::system_error when it cannot; then the reload is refused and nothing changed.
  void prepare(const pool_config& next);
  /// A reload, second step: writes to what prepare() opened from now on. False when prepare()
  /// opened nothing: the settings' path is then the one still written (the caller keeps it).
  bool reconfigure();
  /// Where it writes, or null when off.
  const log::output* output() const noexcept { return out_.get(); }

 private:
  struct watched {
    std::weak_ptr<request> r;
    int attempt;
    clock_type::time_point deadline;
  };
  void arm();
  void expired();
  void write_entry(request& r);

  asio::io_context& io_;
  reaper& children_;
  const pool_config& cfg_;
  std::shared_ptr<log::output> out_;
  std::optional<std::shared_ptr<log::output>> next_out_;
  std::deque<watched> watched_;
  asio::steady_timer timer_;
  bool armed_ = false;
  // The timer's handler may already be queued (not cancellable) when a retired pool is freed.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  // Workers a command runs on now: at most one each. Shared with the commands' completions,
  // which may outlive the pool (a reload retires it while a debugger still runs).
  std::shared_ptr<std::unordered_set<int>> tracing_ = std::make_shared<std::unordered_set<int>>();
};

/// The output `p.slowlog` names, or null when it is "off". Throws std::system_error, naming the
/// pool, when the file cannot be opened.
std::shared_ptr<log::output> open_slow_log(const pool_config& p);

}  // namespace fcgimux
