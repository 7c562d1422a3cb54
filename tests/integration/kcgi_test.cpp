// SPDX-License-Identifier: ISC
// A kcgi-style worker (exits on KEEP_CONN, one request per connection) with --keep-conn no.

#include "backends.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/test_data.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <thread>

using namespace fcgimux::test;
using fcgimux::proto::flag_keep_conn;

TEST_CASE("a kcgi-style worker with --keep-conn no serves many requests", "[proxy][kcgi]") {
  backend b = demo_backend();
  b.command.push_back("--kcgi");
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "2", "-N", "2", "--keep-conn", "no"}));
  REQUIRE(mux.wait_for_workers(2, 10s));
  auto workers = mux.worker_pids();

  // Front connections with and without KEEP_CONN: fcgimux must never pass the flag on.
  fcgi_client kept(mux.address());
  for (int i = 0; i < 200; ++i) {
    std::size_t n = 10 + static_cast<std::size_t>(i);
    request_spec r = backend_request(b, "GET", "/data?bytes=" + std::to_string(n), "", flag_keep_conn);
    r.id = static_cast<std::uint16_t>(1 + i % 3);
    if (i % 2 == 0) {
      REQUIRE_READ_OK(kept.exchange(r, 10s), mux);
      CHECK(parse_cgi_response(kept.response(r.id).out).body == pattern_bytes(n));
      kept.response(r.id) = {};
    } else {
      r.flags = 0;
      fcgi_client c(mux.address());
      REQUIRE_READ_OK(c.exchange(r, 10s), mux);
      CHECK(parse_cgi_response(c.response(r.id).out).body == pattern_bytes(n));
    }
  }
  // The front's management records and aborts are fcgimux's business: a kcgi app exits on
  // GET_VALUES, unknown types and ABORT_REQUEST, so none of them may reach a worker.
  std::map<std::string, std::string> values;
  REQUIRE_READ_OK(kept.get_values({"FCGI_MPXS_CONNS"}, values), mux);
  CHECK(values["FCGI_MPXS_CONNS"] == "1");
  kept.send_raw(std::string("\x01\x63\x00\x00\x00\x00\x00\x00", 8));  // type 99, id 0
  fcgi_record rec;
  REQUIRE_READ_OK(kept.next_record(rec, 5s), mux);
  CHECK(rec.type == fcgimux::proto::event_type::unknown_type);
  CHECK(rec.unknown_type == 99);
  request_spec slow = backend_request(b, "GET", "/?sleep_ms=300", "", flag_keep_conn);
  kept.send_request(slow);
  REQUIRE(kept.flush(5s));
  std::this_thread::sleep_for(100ms);  // at the worker by now
  kept.send_abort(slow.id);
  REQUIRE_READ_OK(kept.read_response(slow.id, 5s), mux);
  std::this_thread::sleep_for(400ms);  // the worker finishes the aborted request meanwhile
  REQUIRE_READ_OK(kept.exchange(backend_request(b, "GET", "/data?bytes=5", "", flag_keep_conn), 10s), mux);

  // No worker died on the way.
  for (pid_t p : workers) {
    INFO("worker " << p);
    CHECK(process_alive(p));
  }
}
