// SPDX-License-Identifier: ISC
// A worker's last request's CPU and resident peak from procfs (process/worker_usage.hpp): the
// parsers on the kernel's formats, then the real /proc of a child that allocates and spins.

#include "src/process/worker_usage.hpp"

#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstring>
#include <ctime>

using namespace fcgimux;

TEST_CASE("worker_usage: the four times of /proc/PID/stat, after a command name with spaces and parentheses",
          "[usage]") {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
  const char* line = "4242 (php ) (x) S 1 4242 4242 0 -1 4194560 900 0 0 0 25 7 3 1 20 0 1 0 123 4096 300";
  CHECK(stat_cpu_ticks(line) == 25u + 7u + 3u + 1u);
  CHECK(stat_cpu_ticks("4242 (php) S 1 4242") == std::nullopt);  // cut short
  CHECK(stat_cpu_ticks("no parenthesis at all") == std::nullopt);
  CHECK(stat_cpu_ticks("1 (a) S 1 1 1 0 -1 0 0 0 0 0 x 7 3 1") == std::nullopt);
}

TEST_CASE("worker_usage: VmHWM of /proc/PID/status in bytes, none for a process without memory", "[usage]") {
  CHECK(status_peak_rss("Name:\tphp-cgi\nVmPeak:\t  300000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t 1000 kB\n") ==
        20480u * 1024u);
  CHECK(status_peak_rss("Name:\tzombie\nState:\tZ (zombie)\n") == std::nullopt);
  CHECK(status_peak_rss("Name:\tx\nVmHWM:\t   kB\n") == std::nullopt);
}

namespace {

// A child that, for each byte it reads, either does nothing ('0') or touches 48 MiB and burns
// 300 ms of CPU ('1'), then frees the memory and answers.
struct busy_child {
  int to_child[2]{-1, -1}, from_child[2]{-1, -1};
  pid_t pid = -1;

  busy_child() {
    REQUIRE(::pipe(to_child) == 0);
    REQUIRE(::pipe(from_child) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) serve();
    ::close(to_child[0]);
    ::close(from_child[1]);
  }
  ~busy_child() {
    ::close(to_child[1]);  // the child reads EOF and exits
    ::close(from_child[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }

  [[noreturn]] void serve() {
    ::close(to_child[1]);
    ::close(from_child[0]);
    char c;
    while (::read(to_child[0], &c, 1) == 1) {
      if (c == '1') {
        constexpr std::size_t size = 48u << 20;
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
          std::memset(p, 0x5a, size);
          ::munmap(p, size);
        }
        timespec t{};
        do ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
        while (t.tv_sec == 0 && t.tv_nsec < 300'000'000);
      }
      if (::write(from_child[1], "d", 1) != 1) break;
    }
    ::_exit(0);
  }

  // One request: begin, the work, end.
  void request(worker_usage& u, char what) {
    u.begin(pid, clock_type::now());
    REQUIRE(::write(to_child[1], &what, 1) == 1);
    pollfd p{from_child[0], POLLIN, 0};
    REQUIRE(::poll(&p, 1, 120'000) == 1);  // a loaded machine may take its time over 300 ms of CPU
    char c;
    REQUIRE(::read(from_child[0], &c, 1) == 1);
    u.end(pid, clock_type::now());
  }
};

}  // namespace

TEST_CASE("worker_usage: a request that touches 48 MiB and spins shows its peak and its CPU, an idle one does not",
          "[usage]") {
  busy_child child;
  worker_usage u;
  CHECK(u.last_memory() == 0);
  u.end(child.pid, clock_type::now());  // no begin: measuring was off when it started
  CHECK(u.last_memory() == 0);

  child.request(u, '0');
  const std::uint64_t idle_peak = u.last_memory();
  CHECK(idle_peak > 0);

  child.request(u, '1');
  INFO("idle peak " << idle_peak << ", busy peak " << u.last_memory() << ", cpu " << u.last_cpu_percent());
  // The peak was reset at begin(): 48 MiB more than the idle request's, though freed before end().
  CHECK(u.last_memory() >= idle_peak + (40u << 20));
  CHECK(u.last_cpu_percent() > 0);

  child.request(u, '0');  // reset again: the last request's peak, not the process's
  CHECK(u.last_memory() < idle_peak + (8u << 20));
}
