// SPDX-License-Identifier: ISC
#include "process_image.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fcgimux::php_trace {

std::optional<std::uint64_t> executable_mapping(int pid, const std::string& exe, std::string& error) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  if (!maps) {
    error = "cannot read /proc/" + std::to_string(pid) + "/maps";
    return std::nullopt;
  }
  // "start-end perms offset dev inode path": the path is the rest of the line and may hold spaces.
  for (std::string line; std::getline(maps, line);) {
    std::uint64_t start = 0, end = 0, offset = 0;
    char perms[8];
    int path_at = -1;
    if (std::sscanf(line.c_str(), "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*u %n", &start, &end, perms, &offset,
                    &path_at) < 4 ||
        path_at < 0)
      continue;
    if (offset == 0 && line.compare(static_cast<std::size_t>(path_at), std::string::npos, exe) == 0) return start;
  }
  error = "no mapping of " + exe + " at offset 0 in /proc/" + std::to_string(pid) + "/maps";
  return std::nullopt;
}

process_memory::process_memory(int pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/mem";
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) error_ = "cannot open " + path + ": " + std::strerror(errno);
}

process_memory::~process_memory() {
  if (fd_ >= 0) ::close(fd_);
}

bool process_memory::read(std::uint64_t address, void* out, std::size_t n) {
  auto* p = static_cast<char*>(out);
  for (std::uint64_t at = address; n > 0;) {
    const ssize_t got = ::pread(fd_, p, n, static_cast<off_t>(at));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      std::ostringstream s;
      s << "cannot read 0x" << std::hex << at << ": " << (got < 0 ? std::strerror(errno) : "not mapped");
      error_ = s.str();
      return false;
    }
    p += got, at += static_cast<std::uint64_t>(got), n -= static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace fcgimux::php_trace
