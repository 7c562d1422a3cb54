#include "src/base/log.hpp"

#include <unistd.h>

#include <string>

namespace fcgimux::log {

void write_line(std::string_view line) noexcept {
  // One write() per line so lines from fcgimux and its workers' relayed stderr never interleave.
  std::string buf;
  buf.reserve(line.size() + 10);
  buf.append("fcgimux: ").append(line).push_back('\n');
  const char* p = buf.data();
  std::size_t left = buf.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace fcgimux::log
