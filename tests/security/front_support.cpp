// SPDX-License-Identifier: ISC
#include "tests/security/front_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace fcgimux::test {

std::uint64_t status_kib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    std::istringstream rest(line.substr(field.size() + 1));
    std::uint64_t kib = 0;
    rest >> kib;
    return kib;
  }
  return 0;
}

unique_fd connect_from(const std::string& source, std::uint16_t port) {
  unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return {};
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &src.sin_addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) return {};
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) return {};
  return fd;
}

flood_result flood(int fd, const std::string& unit, std::uint64_t total, std::chrono::milliseconds stall,
                   std::size_t read_chunk, std::chrono::milliseconds read_every) {
  using clock = std::chrono::steady_clock;
  flood_result r;
  std::string batch;
  while (batch.size() < 256 * 1024) batch += unit;
  std::vector<char> sink(read_chunk > 0 ? read_chunk : 1);
  std::size_t at = 0;  // in batch
  auto last_progress = clock::now();
  auto next_read = clock::now();
  while (r.sent < total) {
    const auto now = clock::now();
    if (read_chunk > 0 && now >= next_read) {
      const ssize_t n = ::recv(fd, sink.data(), sink.size(), MSG_DONTWAIT);
      if (n == 0) {
        r.closed = true;
        return r;
      }
      next_read = now + read_every;
    }
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, 5);
    if (p.revents & (POLLERR | POLLHUP)) {
      r.closed = true;
      return r;
    }
    if (p.revents & POLLOUT) {
      const ssize_t n = ::send(fd, batch.data() + at, batch.size() - at, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        r.closed = true;
        return r;
      }
      if (n > 0) {
        r.sent += static_cast<std::uint64_t>(n);
        at = (at + static_cast<std::size_t>(n)) % batch.size();
        last_progress = clock::now();
        continue;
      }
    }
    if (clock::now() - last_progress > stall) {
      r.stalled = true;
      return r;
    }
  }
  return r;
}

std::string small_quarantine_asan_options() {
  const char* given = std::getenv("ASAN_OPTIONS");
  std::string o = given ? given : "";
  if (!o.empty()) o += ':';
  return "ASAN_OPTIONS=" + o + "quarantine_size_mb=1";
}

}  // namespace fcgimux::test
