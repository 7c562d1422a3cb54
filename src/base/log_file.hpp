// SPDX-License-Identifier: ISC
#pragma once
// Log outputs written by one background thread, so that the event loop never waits for a disk, a
// pipe or syslog: the loop appends a finished line to its output's buffer under a short lock (no
// I/O under it); the writer thread takes whole buffers, at most every 10 ms, and writes each with
// one write(). Memory is bounded: past 4 MiB waiting for one output, lines are dropped, counted,
// and the count is reported in the error log (at most once a second). Everything queued is written
// by shutdown(), so a SIGTERM loses no line. stderr is one of these outputs too, with a thread
// of its own (an output that blocks must not hold back the error log that says so) and without
// the 10 ms window (a terminal or the journal should see a line at once): a stderr that is a slow
// or full pipe blocks that thread, never the loop.
//
// Files are opened O_APPEND | O_CLOEXEC, mode 0640 (before the umask). reopen_files() (SIGUSR1)
// has the writer thread write what was queued before it to the file it has open, then open the
// path again: with logrotate's rename-then-signal, no line is lost or written twice. A path that
// cannot be opened again keeps the old file, and says so in the error log.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace fcgimux::log {

/// One destination of the writer thread: a file, stdout ("-"), stderr or syslog. Shared by whoever logs
/// to the same path (two pools with one access log write through one descriptor).
class output {
 public:
  /// Queues `line`, which ends in '\n'. Never waits for I/O; a line that does not fit is dropped
  /// (and false returned, so that the caller can count its own drops).
  bool append(std::string_view line) noexcept;
  /// syslog only: queues `message` (one line) at `priority` (LOG_ERR ... LOG_DEBUG).
  void append_syslog(int priority, std::string_view message) noexcept;
  /// The path it was opened with ("-" for stdout, "syslog").
  const std::string& path() const noexcept { return path_; }
  /// Lines dropped since the output was opened, because too much waited for it (for /stats).
  std::uint64_t dropped_total() const noexcept { return dropped_total_.load(std::memory_order_relaxed); }

  enum class kind { file, standard_output, standard_error, syslog };
  output(kind k, std::string path, int fd) noexcept : kind_(k), path_(std::move(path)), fd_(fd) {}
  ~output();
  output(const output&) = delete;
  output& operator=(const output&) = delete;

 private:
  friend struct writer;
  const kind kind_;
  const std::string path_;
  // Guarded by the writer's lock.
  std::string pending_;
  std::size_t dropped_ = 0;  // not reported yet
  std::atomic<std::uint64_t> dropped_total_{0};
  long long last_drop_report_ms_ = 0;
  bool reopen_ = false;
  // The writer thread's own (the loop only sets fd_ before the output is shared).
  int fd_;
  std::string writing_;
  bool failing_ = false;  // the last write failed; reported once per failing streak
};

/// The output for `path` ("-": stdout): the one already open for that path, or the file opened now
/// (created if missing). Throws std::system_error when it cannot be opened.
std::shared_ptr<output> open_output(const std::string& path);
/// The stderr output (fd 2), created once.
std::shared_ptr<output> open_stderr();
/// The syslog output: openlog("fcgimux", LOG_PID, LOG_DAEMON) once.
std::shared_ptr<output> open_syslog();
/// SIGUSR1: every file output is opened again by path. Returns how many files will be reopened.
std::size_t reopen_files();
/// Waits until every line queued before the call is written, for at most `bound` (a pipe nobody
/// reads must not hold the caller for ever). False when the bound passed first.
bool flush_writer(std::chrono::milliseconds bound) noexcept;
/// Writes everything queued and stops the writer thread. Lines appended later are written at once.
void stop_writer() noexcept;
/// After stop_writer(): the next line starts the writer threads again.
void restart_writer() noexcept;

}  // namespace fcgimux::log
