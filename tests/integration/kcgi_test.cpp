// A kcgi-style worker (exits on KEEP_CONN, one request per connection) with --keep-conn no.

#include "backends.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/test_data.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

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
  // No worker died on the way (a kcgi app exits on KEEP_CONN).
  for (pid_t p : workers) {
    INFO("worker " << p);
    CHECK(process_alive(p));
  }
}
