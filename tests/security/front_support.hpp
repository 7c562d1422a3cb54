// SPDX-License-Identifier: ISC
#pragma once
// What the front security tests share: fcgimux's memory from /proc, raw sockets from a chosen
// source address, and floods written without blocking so that a paused reader shows as a stall.

#include "tests/support/unique_fd.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace fcgimux::test {

/// A field of /proc/PID/status in KiB ("VmRSS", "VmHWM"); 0 if absent.
std::uint64_t status_kib(pid_t pid, const std::string& field);

/// A blocking TCP connection to 127.0.0.1:`port` from `source` (e.g. "127.0.0.2"), or empty.
unique_fd connect_from(const std::string& source, std::uint16_t port);

/// How a flood ended.
struct flood_result {
  std::uint64_t sent = 0;  ///< bytes the kernel took
  bool stalled = false;    ///< no byte taken for the stall time: the peer stopped reading
  bool closed = false;     ///< the peer closed or reset the connection
};

/// Writes `unit` over and over on `fd` until `total` bytes went, the peer takes nothing for
/// `stall`, or it closes. `drain` reads (and drops) the answers: at most `read_chunk` bytes every
/// `read_every`; a zero `read_chunk` never reads.
flood_result flood(int fd, const std::string& unit, std::uint64_t total, std::chrono::milliseconds stall,
                   std::size_t read_chunk, std::chrono::milliseconds read_every);

/// ASAN_OPTIONS for fcgimux under test, with a small quarantine: freed memory an ASan build keeps
/// back (256 MiB by default) would otherwise count in the RSS these tests bound.
std::string small_quarantine_asan_options();

}  // namespace fcgimux::test
