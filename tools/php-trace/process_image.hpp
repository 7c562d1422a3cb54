// SPDX-License-Identifier: ISC
#pragma once
// Another process as this tool sees it through /proc: where its executable is mapped, and its
// memory, read without stopping it (the kernel asks for ptrace access to both: root or
// CAP_SYS_PTRACE over a process of another user).

#include <cstdint>
#include <optional>
#include <string>

namespace fcgimux::php_trace {

/// Where the executable of `pid` (`exe`, as /proc/PID/exe names it) is mapped at file offset 0,
/// from /proc/PID/maps; nothing and `error` set when no such mapping is found.
std::optional<std::uint64_t> executable_mapping(int pid, const std::string& exe, std::string& error);

/// /proc/PID/mem, each read whole or failed: an address that is not mapped is an error, not a crash.
class process_memory {
 public:
  /// Opens the memory of `pid`; ok() says whether that worked, error() why not.
  explicit process_memory(int pid);
  ~process_memory();
  process_memory(const process_memory&) = delete;
  process_memory& operator=(const process_memory&) = delete;

  bool ok() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }
  /// Reads `n` bytes at `address` into `out`; false (and error() says where) if any is missing.
  bool read(std::uint64_t address, void* out, std::size_t n);

 private:
  int fd_ = -1;
  std::string error_;
};

}  // namespace fcgimux::php_trace
