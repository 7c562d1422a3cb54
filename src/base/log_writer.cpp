// SPDX-License-Identifier: ISC
// The writer threads of the log outputs (log_file.hpp says why and how they batch, bound and
// reopen): one for stderr, one for every other output.
#include "src/base/log_writer.hpp"

#include "src/base/log.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace fcgimux::log {

namespace {

constexpr std::size_t max_pending = 4 << 20;                  // bytes waiting for one output
constexpr auto batch_window = std::chrono::milliseconds(10);  // lines gathered into one write
constexpr long long drop_report_interval_ms = 1000;
constexpr std::size_t shrink_above = 256 * 1024;

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Writes all of `data`; false (errno set) on the first failure.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      // A stderr someone else made non-blocking (a shared pipe): wait here, in the writer thread.
      if (errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, 100);
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

// pthread primitives rather than std::: after a fork() (a worker about to exec, or a daemon going
// to the background) the child must be able to re-initialise them, and it has no writer thread.
struct writer {
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
  pthread_cond_t written = PTHREAD_COND_INITIALIZER;  // a round of writes ended: for flush_writer()
  std::vector<std::shared_ptr<output>> outputs;
  pthread_t thread{};
  bool running = false;   // a writer thread exists in this process
  bool idle = false;      // it waits for work: the next append wakes it
  bool busy = false;      // it writes what it took, without the lock
  bool urgent = false;    // a reopen or the stop: no batch window
  bool stopping = false;  // stop_writer(): drain, then leave
  bool stopped = false;   // after stop_writer(): appends write at once

  struct lock {
    explicit lock(writer& w) : m(&w.mutex) { pthread_mutex_lock(m); }
    ~lock() { pthread_mutex_unlock(m); }
    pthread_mutex_t* m;
  };

  static writer& get() {
    // Never destroyed: an exit() elsewhere (a daemon's parent) must not join or free anything.
    static writer& w = *new writer;
    return w;
  }
  // stderr has a thread of its own: a file or pipe output that blocks (an access log that is a
  // FIFO nobody reads) must not hold back the error log's lines, which say so.
  static writer& of_stderr() {
    static writer& w = *new writer;
    return w;
  }
  static writer& of(const output& o) { return o.kind_ == output::kind::standard_error ? of_stderr() : get(); }

  bool has_work() const {
    return std::any_of(outputs.begin(), outputs.end(), [](auto& o) { return !o->pending_.empty() || o->reopen_; });
  }

  // Called with the lock held.
  void ensure_thread() {
    if (running || stopped) return;
    static bool at_fork_registered = false;
    if (!at_fork_registered) {
      pthread_atfork(&writer::before_fork, &writer::after_fork_parent, &writer::after_fork_child);
      at_fork_registered = true;
    }
    if (pthread_create(&thread, nullptr, &writer::run, this) == 0) running = true;
  }

  void notify() {
    if (idle) {
      idle = false;
      pthread_cond_signal(&wake);
    }
  }

  static void before_fork() {
    pthread_mutex_lock(&get().mutex);
    pthread_mutex_lock(&of_stderr().mutex);
  }
  static void after_fork_parent() {
    pthread_mutex_unlock(&of_stderr().mutex);
    pthread_mutex_unlock(&get().mutex);
  }
  static void after_fork_child() {
    get().reset_after_fork();
    of_stderr().reset_after_fork();
  }
  void reset_after_fork() {
    writer& w = *this;
    // The child has no writer thread; one starts at its first line. What was queued is the
    // parent's to write: written here too, it would appear twice. clear() frees nothing.
    pthread_mutex_t fresh_mutex = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t fresh_wake = PTHREAD_COND_INITIALIZER;
    pthread_cond_t fresh_written = PTHREAD_COND_INITIALIZER;
    w.mutex = fresh_mutex;
    w.wake = fresh_wake;
    w.written = fresh_written;
    w.running = false;
    w.idle = false;
    w.busy = false;
    for (auto& o : w.outputs) {
      o->pending_.clear();
      o->writing_.clear();
      o->reopen_ = false;
    }
  }

  static void* run(void* self) {
    static_cast<writer*>(self)->loop();
    return nullptr;
  }

  struct job {
    std::shared_ptr<output> o;
    bool reopen;
  };

  void loop() {
    std::vector<job> jobs;
    pthread_mutex_lock(&mutex);
    for (;;) {
      if (!has_work()) {
        if (stopping) break;
        idle = true;
        while (idle && !stopping) pthread_cond_wait(&wake, &mutex);
        idle = false;
      }
      if (!urgent && !stopping) {
        // Gather what the next 10 ms bring into one write: a wake-up and a write per request
        // would take more CPU from the event loop and the workers than the lines are worth.
        pthread_mutex_unlock(&mutex);
        std::this_thread::sleep_for(batch_window);
        pthread_mutex_lock(&mutex);
      }
      urgent = false;
      // Outputs nobody holds any more (a reload moved a pool's access log), once written out
      // and their drops told (by stop_writer() at the latest).
      outputs.erase(
          std::remove_if(
              outputs.begin(), outputs.end(),
              [](auto& o) { return o.use_count() == 1 && o->pending_.empty() && !o->reopen_ && o->dropped_ == 0; }),
          outputs.end());
      jobs.clear();
      for (auto& o : outputs) {
        if (o->pending_.empty() && !o->reopen_) continue;
        // Lines queued before a reopen was asked go to the file open until then.
        o->writing_.swap(o->pending_);
        jobs.push_back({o, o->reopen_});
        o->reopen_ = false;
      }
      busy = true;
      pthread_mutex_unlock(&mutex);
      for (auto& j : jobs) write_job(j);
      jobs.clear();
      pthread_mutex_lock(&mutex);
      busy = false;
      pthread_cond_broadcast(&written);
    }
    pthread_mutex_unlock(&mutex);
  }

  // The writer thread, without the lock.
  void write_job(job& j) {
    output& o = *j.o;
    if (!o.writing_.empty()) flush_out(o);
    o.writing_.clear();
    // A burst (a disk that stalled) leaves no 4 MiB buffer behind for good.
    if (o.writing_.capacity() > shrink_above) std::string().swap(o.writing_);
    if (j.reopen) reopen(o);
  }

  // Drops are reported by whoever appends, not by the writer: a writer blocked on a disk (or a
  // pipe nobody reads) is exactly when they happen.
  static void report_drops(const std::string& path, std::size_t n) {
    if (n > 0) log::error("{}: {} lines dropped: the writer could not keep up", path, n);
  }

  static void flush_out(output& o) {
    if (o.kind_ == output::kind::syslog) {
      // Each message: one priority byte, the text, '\n'.
      std::string_view rest = o.writing_;
      while (rest.size() > 1) {
        auto nl = rest.find('\n');
        if (nl == std::string_view::npos) nl = rest.size();
        ::syslog(static_cast<unsigned char>(rest[0]), "%.*s", static_cast<int>(nl - 1), rest.data() + 1);
        rest.remove_prefix(std::min(rest.size(), nl + 1));
      }
      return;
    }
    if (write_all(o.fd_, o.writing_)) {
      o.failing_ = false;
      return;
    }
    const int err = errno;
    if (!o.failing_) {
      o.failing_ = true;
      log::error("{}: write failed: {}; lines are lost until writing works again", o.path_, std::strerror(err));
    }
  }

  static void reopen(output& o) {
    if (o.kind_ != output::kind::file) return;
    int fd = detail::open_path(o.path_);
    if (fd < 0) {
      const int err = errno;
      log::error("cannot reopen {}: {}; still writing to the file it had open", o.path_, detail::open_error(err));
      return;
    }
    ::close(o.fd_);
    o.fd_ = fd;
    o.failing_ = false;
  }

  bool append(output& o, std::string_view bytes) {
    std::size_t report = 0;
    bool direct = false;
    {
      lock l(*this);
      direct = stopped;
      if (!direct) {
        ensure_thread();
        if (o.pending_.size() + bytes.size() <= max_pending) {
          o.pending_.append(bytes);
          // A terminal or the journal should show a line at once, as when stderr was written
          // directly; lines that come while it writes are still taken in one write.
          if (o.kind_ == output::kind::standard_error) urgent = true;
          notify();
          return true;
        }
        ++o.dropped_;
        o.dropped_total_.fetch_add(1, std::memory_order_relaxed);
        if (const long long now = now_ms(); now - o.last_drop_report_ms_ >= drop_report_interval_ms) {
          report = std::exchange(o.dropped_, 0);
          o.last_drop_report_ms_ = now;
        }
      }
    }
    if (!direct) {
      report_drops(o.path_, report);  // after the lock: the error log may be another output
      return false;
    }
    // fcgimux is exiting and the writer is gone: a last line is written where it stands.
    o.writing_.assign(bytes);
    flush_out(o);
    o.writing_.clear();
    return true;
  }

  // After the writer stopped: the drops not reported yet.
  void report_remaining_drops() {
    std::vector<std::pair<std::string, std::size_t>> left;
    {
      lock l(*this);
      for (auto& o : outputs)
        if (o->dropped_ > 0) left.emplace_back(o->path_, std::exchange(o->dropped_, 0));
    }
    for (auto& [path, n] : left) report_drops(path, n);
  }

  std::shared_ptr<output> add(std::shared_ptr<output> o) {
    lock l(*this);
    outputs.push_back(o);
    ensure_thread();
    return o;
  }

  void stop() noexcept;

  void restart() noexcept {
    lock l(*this);
    stopping = false;
    if (running) return;  // a stop that gave up on a blocked output: that thread goes on once it can
    stopped = urgent = idle = busy = false;
  }

  std::size_t reopen_all() {
    lock l(*this);
    std::size_t n = 0;
    for (auto& o : outputs)
      if (o->kind_ == output::kind::file && o.use_count() > 1) {
        o->reopen_ = true;
        ++n;
      }
    if (n > 0) {
      urgent = true;
      ensure_thread();
      notify();
    }
    return n;
  }

  bool flush(std::chrono::milliseconds bound) {
    timespec deadline{};
    ::clock_gettime(CLOCK_REALTIME, &deadline);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(bound).count() + deadline.tv_nsec;
    deadline.tv_sec += static_cast<time_t>(ns / 1000000000);
    deadline.tv_nsec = static_cast<long>(ns % 1000000000);
    lock l(*this);
    if (!running) return !has_work();
    urgent = true;
    notify();
    while (has_work() || busy)
      if (pthread_cond_timedwait(&written, &mutex, &deadline) == ETIMEDOUT) return false;
    return true;
  }

  std::size_t queued_bytes() {
    lock l(*this);
    std::size_t n = 0;
    for (auto& o : outputs) n += o->pending_.size();
    return n;
  }

  std::shared_ptr<output> find(const std::string& path) {
    lock l(*this);
    for (auto& o : outputs)
      if (o->path_ == path) return o;
    return nullptr;
  }
};

bool output::append(std::string_view line) noexcept { return writer::of(*this).append(*this, line); }

void output::append_syslog(int priority, std::string_view message) noexcept {
  std::string record;
  record.reserve(message.size() + 2);
  record.push_back(static_cast<char>(priority));
  record.append(message);
  std::replace(record.begin() + 1, record.end(), '\n', ' ');
  record.push_back('\n');
  writer::of(*this).append(*this, record);
}

namespace detail {

std::shared_ptr<output> find_output(const std::string& path) {
  return (path == "stderr" ? writer::of_stderr() : writer::get()).find(path);
}

std::shared_ptr<output> add_output(std::shared_ptr<output> o) { return writer::of(*o).add(std::move(o)); }

}  // namespace detail

std::size_t reopen_files() { return writer::get().reopen_all(); }

bool flush_writer(std::chrono::milliseconds bound) noexcept {
  const auto start = std::chrono::steady_clock::now();
  const bool err = writer::of_stderr().flush(bound);
  const auto spent = std::chrono::steady_clock::now() - start;
  const auto left = bound - std::chrono::duration_cast<std::chrono::milliseconds>(spent);
  return writer::get().flush(std::max(left, std::chrono::milliseconds(0))) && err;
}

void stop_writer() noexcept {
  // The files' writer first: the drops it reports last go to the error log, stderr perhaps.
  writer::get().stop();
  writer::of_stderr().stop();
}

void restart_writer() noexcept {
  writer::get().restart();
  writer::of_stderr().restart();
}

void writer::stop() noexcept {
  writer& w = *this;
  bool join = false;
  {
    writer::lock l(w);
    if (w.stopped) return;
    w.stopping = true;
    w.urgent = true;
    join = w.running;
    w.idle = false;
    pthread_cond_signal(&w.wake);
  }
  if (join) {
    // A disk (or a pipe nobody reads) that never takes the lines must not keep fcgimux from
    // exiting: after 10 s what is left is given up, and said so.
    timespec deadline{};
    ::clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    if (pthread_timedjoin_np(w.thread, nullptr, &deadline) != 0) {
      const std::size_t left = w.queued_bytes();
      const std::string line =
          fmt::format("fcgimux: a log output still blocks writes after 10 s; {} queued bytes are lost\n", left);
      (void)!::write(STDERR_FILENO, line.data(), line.size());
      return;  // the thread stays blocked; exit ends it
    }
  }
  {
    writer::lock l(w);
    w.running = false;
    w.stopped = true;
  }
  w.report_remaining_drops();
}

}  // namespace fcgimux::log
