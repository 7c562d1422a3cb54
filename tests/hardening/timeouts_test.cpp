// SPDX-License-Identifier: ISC
// --request-timeout fires whatever the exchange waits for (the worker, a front that does not read,
// a body that does not come); --send-timeout closes a front that takes no byte of its answer.

#include "backends.hpp"
#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/test_data.hpp"

#include <catch2/catch.hpp>

#include <sys/ioctl.h>

#include <thread>

using namespace fcgimux::test;
using fcgimux::proto::flag_keep_conn;

namespace {

// A front that asks for a 300 MB answer and never reads it.
fcgi_client stalled_reader(const fcgimux_instance& mux, const backend& b) {
  fcgi_client c(mux.address());
  c.send_request(backend_request(b, "GET", "/data?bytes=300000000"));
  REQUIRE(c.flush(5s));
  return c;
}

// Bytes that arrived in the client's socket and were not read.
int unread_bytes(const fcgi_client& c) {
  int n = 0;
  return ::ioctl(c.fd(), FIONREAD, &n) == 0 ? n : -1;
}

pid_t only_worker(const fcgimux_instance& mux) {
  auto pids = mux.worker_pids();
  return pids.size() == 1 ? pids.front() : -1;
}

}  // namespace

TEST_CASE("request-timeout fires while the worker waits for a front that does not read", "[hardening][timeout]") {
  backend b = demo_backend();
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "1", "--request-timeout", "1", "--stats", "127.0.0.1:0"}));
  REQUIRE(mux.wait_for_workers(1, 10s));
  pid_t first = only_worker(mux);
  fcgi_client slow = stalled_reader(mux, b);
  // The timeout counts from the worker taking the request; the worker is killed and replaced.
  CHECK(eventually([&] { return stats_of(mux)["requests"]["timed_out"] == 1; }, 5s));
  CHECK(eventually(
      [&] {
        auto p = only_worker(mux);
        return p > 0 && p != first;
      },
      15s));
  // The pool's one worker serves again while the slow front still does not read.
  auto other = get(mux.port(), "/data?bytes=100", 30s);
  CHECK(other.how == read_status::ok);
  CHECK(other.response.body == pattern_bytes(100));
  INFO(mux.stderr_text());
  CHECK(eventually([&] { return mux.stderr_text().find("timed out after 1 s") != std::string::npos; }, 10s));
}

TEST_CASE("send-timeout closes a front that takes no byte and frees its worker", "[hardening][timeout]") {
  backend b = demo_backend();
  fcgimux_instance mux(
      behind_fcgimux(b, {"-n", "1", "--send-timeout", "1", "--abandon-timeout", "1", "--stats", "127.0.0.1:0"}));
  REQUIRE(mux.wait_for_workers(1, 10s));
  fcgi_client slow = stalled_reader(mux, b);
  // --send-timeout counts from the last byte the front took, not from the request: first the
  // worker must answer. The demo builds its whole 300 MB answer before its first byte, which
  // took 7 s on a loaded 2-core machine (strace: request written at 19.31, first byte from the
  // worker at 26.31, the last byte the front took at 26.70, closed at 27.70), so the old 5 s
  // from the request failed there, although the timeout fired exactly 1 s after the last byte.
  REQUIRE(eventually([&] { return unread_bytes(slow) > 0; }, 60s));
  // From the answer's first byte: a few megabytes fill the socket buffers, 1 s of no progress,
  // then the close; 15 s leaves a loaded machine ten times that.
  CHECK(eventually([&] { return stats_of(mux)["connections"]["active"] == 0; }, 15s));
  // Given up: counted as aborted, not as a response.
  auto s = stats_of(mux);
  CHECK(s["requests"]["aborted"] == 1);
  // The worker drains the rest or is killed after --abandon-timeout and replaced.
  auto other = get(mux.port(), "/data?bytes=100", 30s);
  CHECK(other.how == read_status::ok);
  CHECK(other.response.body == pattern_bytes(100));
  INFO(mux.stderr_text());
  // The log line is written by fcgimux's log thread, a moment after the close.
  CHECK(eventually([&] { return mux.stderr_text().find("took no output for 1 s") != std::string::npos; }, 10s));
  // What the front finally reads ends early: the answer was cut off, not completed.
  REQUIRE(slow.read_until_closed(30s) == read_status::ok);
  CHECK_FALSE(slow.response(1).ended);
}

TEST_CASE("send-timeout leaves a front alone that reads slowly but steadily", "[hardening][timeout]") {
  backend b = demo_backend();
  // 3 s, not 1: the front below must show progress within the timeout while it competes for a
  // loaded machine's CPU, and with 1 s it missed it under two CPU hogs (fcgimux rightly closed).
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "1", "--send-timeout", "3"}));
  fcgi_client c(mux.address());
  constexpr std::size_t size = 32u << 20;
  c.send_request(backend_request(b, "GET", "/data?bytes=" + std::to_string(size)));
  REQUIRE(c.flush(5s));
  // 7 s of reading in sips (more than twice the timeout), never idle for long. (TCP wakes a
  // writer only once a third of its send buffer is free, so a front must take about a megabyte
  // per timeout to show progress: a sip of one record every 5 ms is still far slower than
  // fcgimux writes, and far faster than that.)
  fcgi_record rec;
  auto until = std::chrono::steady_clock::now() + 7s;
  while (std::chrono::steady_clock::now() < until && !c.response(1).ended) {
    REQUIRE(c.next_record(rec, 30s) == read_status::ok);
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE_READ_OK(c.read_response(1, 30s), mux);
  CHECK(parse_cgi_response(c.response(1).out).body == pattern_bytes(size));
}

TEST_CASE("request-timeout fires while a streamed body waits for its front", "[hardening][timeout]") {
  // The front sends more than --body-buffer, so the request is at a worker, then stops sending.
  backend b = demo_backend();
  fcgimux_instance mux(
      behind_fcgimux(b, {"-n", "1", "--body-buffer", "1024", "--request-timeout", "1", "--stats", "127.0.0.1:0"}));
  fcgi_client c(mux.address());
  std::string part = random_bytes(4096, 7);
  c.send_begin(1, 1, 0);
  c.send_params(1, backend_params(b, "POST", "/echo", 1u << 20));
  c.send_stdin(1, part, 65535, false);
  REQUIRE(c.flush(5s));
  REQUIRE_READ_OK(c.read_response(1, 10s), mux);
  CHECK(parse_cgi_response(c.response(1).out).status == 504);
  CHECK(stats_of(mux)["requests"]["timed_out"] == 1);
}

TEST_CASE("request-timeout fires while a streamed body waits for a worker that does not read it",
          "[hardening][timeout]") {
  // php-cgi reads STDIN only when the script asks: a script that sleeps first leaves the body
  // unread, so the exchange's writer blocks on a full socket when the timeout comes.
  temp_dir dir;
  backend b = php_backend(dir);
  write_file(dir.file("sleepy.php"), "<?php sleep(30); echo file_get_contents('php://input');\n");
  b.script_filename = dir.file("sleepy.php");
  fcgimux_instance mux(
      behind_fcgimux(b, {"-n", "1", "--body-buffer", "65536", "--request-timeout", "1", "--stats", "127.0.0.1:0"}));
  fcgi_client c(mux.address());
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE_READ_OK(c.exchange(backend_request(b, "POST", "/sleepy", random_bytes(4u << 20, 3)), 20s), mux);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(parse_cgi_response(c.response(1).out).status == 504);
  CHECK(took < 5);
  CHECK(stats_of(mux)["requests"]["timed_out"] == 1);
}
