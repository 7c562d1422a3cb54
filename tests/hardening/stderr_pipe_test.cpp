// SPDX-License-Identifier: ISC
// fcgimux's stderr (the default error log) may be a pipe that nobody reads fast enough: a
// terminal scrolled back, a log shipper that stalled. Its lines then wait in the log writer
// thread (or are dropped), never in the event loop: requests are served and timeouts fire.

#include "backends.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/paths.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

using namespace fcgimux::test;

namespace {

// The read end of a FIFO that is never read: opened non-blocking first, so that fcgimux's
// open() of the write end (as its stderr) does not wait for a reader.
struct unread_fifo {
  explicit unread_fifo(std::string p) : path(std::move(p)) {
    if (::mkfifo(path.c_str(), 0600) != 0) throw std::runtime_error("mkfifo " + path);
    fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("open " + path);
  }
  // Closing the read end turns a blocked write into EPIPE, so fcgimux can stop.
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  ~unread_fifo() { close(); }
  std::string path;
  int fd = -1;
};

}  // namespace

TEST_CASE("a stderr pipe nobody reads never stalls requests or the request timeout", "[hardening][stderr]") {
  ignore_sigpipe();
  temp_dir dir("fcgimux-stderr-pipe");
  unread_fifo err(dir.file("stderr.fifo"));
  const endpoint front = endpoint::unix_socket(dir.file("front.sock"));

  spawn_options s;
  s.argv = {fcgimux_bin};
  // The request timeout must not cut off the flood itself on a loaded machine; it is what the
  // second request shows still firing.
  std::vector<std::string> args = {"--listen", front.to_string(), "-n", "2", "--request-timeout", "5", "--stats",
                                   "off"};
  for (auto& a : root_user_args(args)) s.argv.push_back(a);
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  s.argv.insert(s.argv.end(), {"--", HOSTILE_WORKER_BIN});
  s.stderr_path = err.path;
  child_process mux(s);
  // The start-up lines fit in the pipe (64 KiB); nothing reads them.
  REQUIRE(wait_connectable(front, 20s));
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (mux.children().size() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  REQUIRE(mux.children().size() == 2);

  backend b{"hostile", {HOSTILE_WORKER_BIN}, {}, {}};
  // 10 MB on the worker's fd 2: 2560 log lines of 4 KiB, far more than the pipe holds. Today's
  // fcgimux writes them on the loop and blocks in write() after 64 KiB, for as long as nobody
  // reads; the worker then blocks on its own stderr, and nothing answers at all.
  fcgi_client flood(front);
  REQUIRE(flood.connected());
  REQUIRE(flood.exchange(backend_request(b, "GET", "/x?do=fd2_line"), 60s) == read_status::ok);
  CHECK(parse_cgi_response(flood.response(1).out).status == 200);

  // The other worker: --request-timeout still fires (a worker that never reads its request).
  fcgi_client slow(front);
  REQUIRE(slow.connected());
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(slow.exchange(backend_request(b, "POST", "/x?do=no_read", std::string(100, 'p')), 60s) == read_status::ok);
  CHECK(parse_cgi_response(slow.response(1).out).status == 504);
  // 5 s of timeout plus a generous margin for a loaded machine.
  CHECK(std::chrono::steady_clock::now() - t0 < 30s);

  // And a plain request is answered while the pipe is still full.
  fcgi_client next(front);
  REQUIRE(next.connected());
  REQUIRE(next.exchange(backend_request(b, "GET", "/x?do=ok"), 30s) == read_status::ok);
  cgi_response parsed = parse_cgi_response(next.response(1).out);
  CHECK(parsed.status == 200);
  CHECK(parsed.body.rfind("ok from pid ", 0) == 0);
  CHECK(mux.running());

  err.close();
  mux.stop(10s);
}
