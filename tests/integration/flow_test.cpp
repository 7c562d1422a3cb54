// SPDX-License-Identifier: ISC
// How bytes flow through fcgimux: odd record splits, slow writers and readers, unix listeners.

#include "backends.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/test_data.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace fcgimux::test;
using fcgimux::proto::flag_keep_conn;
using fcgimux::proto::protocol_status;

TEST_CASE("PARAMS and STDIN split into tiny records and writes reach the worker intact", "[proxy][flow]") {
  // php-cgi drops the connection when a name-value pair spans two PARAMS records (see the direct
  // tests), so this also checks that fcgimux re-packs what a client split.
  auto name = GENERATE(as<std::string>{}, "demo", "php-cgi", "fcgiwrap");
  INFO("backend " << name);
  temp_dir dir;
  backend b = backend_named(name, dir);
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "1"}));
  fcgi_client c(mux.address());
  request_spec r = backend_request(b, "POST", "/echo", random_bytes(5000, 21));
  r.params_record_size = 5;
  r.stdin_record_size = 7;
  c.set_write_chunking(3);
  REQUIRE_READ_OK(c.exchange(r, 20s), mux);
  cgi_response resp = parse_cgi_response(c.response(1).out);
  CHECK(resp.status == 200);
  CHECK(resp.body == r.body);
}

TEST_CASE("a front that does not read does not make fcgimux buffer the whole answer", "[proxy][flow]") {
  backend b = demo_backend();
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "2"}));
  constexpr std::size_t size = std::size_t{64} << 20;
  long before = rss_kib(mux.process().pid());
  REQUIRE(before > 0);

  fcgi_client slow(mux.address());
  slow.send_request(backend_request(b, "GET", "/data?bytes=" + std::to_string(size)));
  REQUIRE(slow.flush(5s));
  std::this_thread::sleep_for(1500ms);  // the worker has written its answer long since
  long during = rss_kib(mux.process().pid());

  // Others are served meanwhile.
  fcgi_client other(mux.address());
  REQUIRE_READ_OK(other.exchange(backend_request(b, "GET", "/data?bytes=1000"), 10s), mux);
  CHECK(parse_cgi_response(other.response(1).out).body == pattern_bytes(1000));

  INFO("fcgimux RSS before " << before << " KiB, while the front does not read " << during << " KiB");
  // Half the answer is a generous bound for "not buffered whole".
  CHECK(during - before < static_cast<long>(size / 1024 / 2));

  REQUIRE_READ_OK(slow.read_response(1, 30s), mux);
  cgi_response resp = parse_cgi_response(slow.response(1).out);
  CHECK(resp.body.size() == size);
  CHECK(first_difference(resp.body, pattern_bytes(size)) == size);
}

TEST_CASE("ABORT_REQUEST of a request at a worker", "[proxy][flow]") {
  backend b = demo_backend();
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "1", "-N", "1"}));
  fcgi_client c(mux.address());
  request_spec r = backend_request(b, "GET", "/data?bytes=10&sleep_ms=800", "", flag_keep_conn);
  c.send_request(r);
  REQUIRE(c.flush(5s));
  std::this_thread::sleep_for(200ms);
  c.send_abort(1);
  REQUIRE_READ_OK(c.read_response(1, 5s), mux);
  CHECK(c.response(1).ended);
  // The connection and the worker stay usable.
  request_spec next = backend_request(b, "GET", "/data?bytes=20", "", flag_keep_conn);
  next.id = 2;
  REQUIRE_READ_OK(c.exchange(next, 10s), mux);
  CHECK(parse_cgi_response(c.response(2).out).body == pattern_bytes(20));
}

TEST_CASE("a unix socket front listener next to a TCP one", "[proxy][flow]") {
  temp_dir dir;
  backend b = demo_backend();
  std::string path = dir.file("front.sock");
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "1", "--listen", "unix:" + path}));
  INFO("fcgimux stderr:\n" << mux.stderr_text());
  CHECK(mux.stderr_text().find("listening on unix:" + path) != std::string::npos);
  REQUIRE(wait_connectable(endpoint::unix_socket(path), 5s));
  for (const endpoint& e : {endpoint::unix_socket(path), mux.address()}) {
    fcgi_client c(e);
    REQUIRE_READ_OK(c.exchange(backend_request(b, "POST", "/echo", "via " + e.to_string()), 10s), mux);
    CHECK(parse_cgi_response(c.response(1).out).body == "via " + e.to_string());
  }
}
