// SPDX-License-Identifier: ISC
#include "src/base/log.hpp"

#include "src/base/log_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

namespace fcgimux::log {
namespace {

struct destination_state {
  std::string where = "stderr";
  bool journal = false;         // stderr is systemd's journal stream: "<N>" prefixes
  std::shared_ptr<output> out;  // where lines go; null until configure(): stderr, written directly
};

destination_state& dest() {
  // Never destroyed: a line logged while static objects are destroyed must still find it.
  static destination_state& d = *new destination_state;
  return d;
}

// systemd sets JOURNAL_STREAM=DEVICE:INODE for the stream it connected to stdout/stderr; a stderr
// redirected elsewhere (a shell, a file) does not match, and gets plain lines.
bool stderr_is_journal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (!js || !*js) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

const char* level_name(level l) {
  switch (l) {
    case level::error: return "error";
    case level::warning: return "warning";
    case level::notice: return "notice";
    case level::info: return "info";
    case level::debug: return "debug";
  }
  return "info";
}

// "2024-05-01 12:00:00.123 [notice] fcgimux[4242]: " in local time. The pid tells an old and a new
// fcgimux apart while a binary upgrade has both writing to one file.
void file_prefix(std::string& buf, level l) {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t t = system_clock::to_time_t(now);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char stamp[32];
  std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  buf.append(stamp, n);
  buf.append(fmt::format(".{:03} [{}] fcgimux[{}]: ", ms, level_name(l), ::getpid()));
}

void write_stderr(std::string_view bytes) noexcept {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

void configure(const std::string& where) {
  destination_state& d = dest();
  if (where == "syslog") {
    d.out = open_syslog();
  } else if (where == "stderr") {
    d.journal = stderr_is_journal();
    d.out = open_stderr();
  } else {
    d.out = open_output(where);
  }
  d.where = where;
}

const std::string& destination() noexcept { return dest().where; }

void shutdown() noexcept { stop_writer(); }

void flush() noexcept { flush_writer(std::chrono::seconds(1)); }

void suspend() noexcept { stop_writer(); }

void resume() noexcept { restart_writer(); }

std::uint64_t dropped_lines() noexcept {
  const destination_state& d = dest();
  return d.out ? d.out->dropped_total() : 0;
}

void write_line(level l, std::string_view line) noexcept {
  destination_state& d = dest();
  try {
    std::string buf;
    buf.reserve(line.size() + 64);
    if (d.out && d.where == "syslog") {
      d.out->append_syslog(static_cast<int>(l), line);
      return;
    }
    if (d.out && d.where != "stderr") {
      file_prefix(buf, l);
      buf.append(line).push_back('\n');
      d.out->append(buf);
      return;
    }
    if (d.journal)
      buf.append(fmt::format("<{}>", static_cast<int>(l)));
    else
      buf.append("fcgimux: ");
    buf.append(line).push_back('\n');
    // Through the writer thread once configured, so that a stderr that is a full pipe or a slow
    // terminal blocks that thread, not the loop; whole lines, in order, one output for fcgimux's
    // lines and its workers' alike, so they never interleave.
    if (d.out)
      d.out->append(buf);
    else
      write_stderr(buf);  // before configure(): nothing is queued, nothing runs yet
  } catch (...) {
    // Out of memory while logging: the line is lost, fcgimux goes on.
  }
}

}  // namespace fcgimux::log
