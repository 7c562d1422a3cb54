// SPDX-License-Identifier: ISC
#include "src/process/worker_usage.hpp"

#include "src/base/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

namespace fcgimux {
namespace {

// A procfs file's text (at most 8 KiB: /proc/PID/status is about 1.5), or nullopt with errno set.
std::optional<std::string> proc_text(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::array<char, 8192> buf;
  std::size_t have = 0;
  while (have < buf.size()) {
    const ssize_t n = ::read(fd, buf.data() + have, buf.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      errno = e;
      return std::nullopt;
    }
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return std::string(buf.data(), have);
}

// Resets the resident peak (VmHWM) to the current resident size: clear_refs's "5" (Linux 4.0).
bool reset_peak_rss(int pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/clear_refs";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, "5", 1) == 1;
  const int e = errno;
  ::close(fd);
  errno = e;
  return ok;
}

bool told_no_reset = false;  // one line per process is enough: the cause is the same for every worker

std::optional<std::uint64_t> decimal_at(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  return v;
}

long clock_ticks_per_second() {
  static const long hz = ::sysconf(_SC_CLK_TCK);
  return hz > 0 ? hz : 100;
}

}  // namespace

std::optional<std::uint64_t> stat_cpu_ticks(std::string_view stat) {
  // The command name (field 2) is in parentheses and may hold spaces and ')': the fields
  // start after the last ')'. Then field 3 (state) ... field 14 utime, 15 stime, 16 cutime, 17 cstime.
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);
  std::uint64_t sum = 0;
  for (int field = 3; field <= 17; ++field) {
    const auto start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(start);
    const auto end = std::min(rest.find(' '), rest.size());
    if (field >= 14) {
      const auto v = decimal_at(rest.substr(0, end));
      if (!v) return std::nullopt;
      sum += *v;
    }
    rest.remove_prefix(end);
  }
  return sum;
}

std::optional<std::uint64_t> status_peak_rss(std::string_view status) {
  // "VmHWM:\t   20480 kB" (kernel's task_mem).
  constexpr std::string_view key = "\nVmHWM:";
  const auto at = status.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = status.substr(at + key.size());
  const auto start = rest.find_first_not_of(" \t");
  if (start == std::string_view::npos) return std::nullopt;
  rest.remove_prefix(start);
  const auto kib = decimal_at(rest.substr(0, rest.find(' ')));
  if (!kib || rest.find(" kB") != rest.find(' ')) return std::nullopt;
  return *kib * 1024;
}

void worker_usage::begin(int pid, clock_type::time_point now) {
  begun_ = true;
  start_at_ = now;
  const auto stat = proc_text("/proc/" + std::to_string(pid) + "/stat");
  start_ticks_ = stat ? stat_cpu_ticks(*stat) : std::nullopt;
  peak_reset_ = reset_peak_rss(pid);
  if (!peak_reset_ && !told_no_reset) {
    told_no_reset = true;
    log::warning(
        "cannot reset worker {}'s resident peak (/proc/{}/clear_refs: {}): php-fpm's last request memory "
        "stays 0",
        pid, pid, std::strerror(errno));
  }
}

void worker_usage::end(int pid, clock_type::time_point now) {
  if (!begun_) return;
  begun_ = false;
  const std::string dir = "/proc/" + std::to_string(pid);
  last_cpu_ = 0;
  const auto stat = proc_text(dir + "/stat");
  const auto ticks = stat ? stat_cpu_ticks(*stat) : std::nullopt;
  const double wall = std::chrono::duration<double>(now - start_at_).count();
  if (start_ticks_ && ticks && *ticks >= *start_ticks_ && wall > 0)
    last_cpu_ =
        static_cast<double>(*ticks - *start_ticks_) / static_cast<double>(clock_ticks_per_second()) / wall * 100.0;
  last_memory_ = 0;
  if (peak_reset_) {
    const auto status = proc_text(dir + "/status");
    if (status) last_memory_ = status_peak_rss(*status).value_or(0);
  }
}

}  // namespace fcgimux
