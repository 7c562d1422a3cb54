// SPDX-License-Identifier: ISC
// What a front client that breaks the rules gets, and that fcgimux keeps serving everyone else.

#include "backends.hpp"
#include "proto/encoder.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/test_data.hpp"

#include <catch2/catch.hpp>

#include <charconv>
#include <map>
#include <thread>

using namespace fcgimux::test;
using fcgimux::proto::flag_keep_conn;
using fcgimux::proto::protocol_status;
namespace proto = fcgimux::proto;

namespace {

// A fresh connection and a normal request: the proxy still serves.
void require_serves(fcgimux_instance& mux, const backend& b, const std::string& tag) {
  fcgi_client c(mux.address());
  REQUIRE(c.connected());
  request_spec r = backend_request(b, "POST", "/echo", "still serving " + tag);
  REQUIRE_READ_OK(c.exchange(r, 10s), mux);
  CHECK(parse_cgi_response(c.response(1).out).body == "still serving " + tag);
}

bool positive_number(const std::string& s) {
  unsigned long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && v > 0;
}

}  // namespace

TEST_CASE("front-side protocol errors", "[proxy][front]") {
  backend b = demo_backend();
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "2"}));

  SECTION("GET_VALUES is answered by fcgimux itself, with multiplexing on") {
    fcgi_client c(mux.address());
    std::map<std::string, std::string> v;
    REQUIRE_READ_OK(c.get_values({"FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"}, v, 5s), mux);
    CHECK(positive_number(v["FCGI_MAX_CONNS"]));
    CHECK(positive_number(v["FCGI_MAX_REQS"]));
    CHECK(v["FCGI_MPXS_CONNS"] == "1");
    // The same connection then carries a request.
    REQUIRE_READ_OK(c.exchange(backend_request(b, "GET", "/data?bytes=10"), 10s), mux);
    CHECK(parse_cgi_response(c.response(1).out).body == pattern_bytes(10));
  }
  SECTION("an unknown management type gets UNKNOWN_TYPE naming it") {
    auto type = GENERATE(as<int>{}, 12, 42, 255);
    fcgi_client c(mux.address());
    std::string raw;
    proto::append_header(raw, static_cast<proto::record_type>(type), 0, 8, 0);
    raw += std::string(8, 'x');
    c.send_raw(raw);
    fcgi_record rec;
    REQUIRE_READ_OK(c.next_record(rec, 5s), mux);
    CHECK(rec.type == proto::event_type::unknown_type);
    CHECK(rec.request_id == 0);
    CHECK(static_cast<int>(rec.unknown_type) == type);
    REQUIRE_READ_OK(c.exchange(backend_request(b, "GET", "/data?bytes=10"), 10s), mux);
    CHECK(parse_cgi_response(c.response(1).out).body == pattern_bytes(10));
  }
  SECTION("roles other than responder get END_REQUEST with UNKNOWN_ROLE") {
    auto role = GENERATE(as<std::uint16_t>{}, 2, 3, 99);
    INFO("role " << role);
    fcgi_client c(mux.address());
    request_spec r = backend_request(b, "GET", "/", "", flag_keep_conn);
    r.role = role;
    REQUIRE_READ_OK(c.exchange(r, 5s), mux);
    CHECK(c.response(1).status == protocol_status::unknown_role);
    CHECK(c.response(1).out.empty());
    require_serves(mux, b, "after an unknown role");
  }
  SECTION("BEGIN_REQUEST for an id that is already active closes the connection") {
    fcgi_client c(mux.address());
    c.send_begin(1, 1, flag_keep_conn);
    c.send_begin(1, 1, flag_keep_conn);
    REQUIRE_READ_OK(c.read_until_closed(5s), mux);
    require_serves(mux, b, "after a duplicate id");
  }
  SECTION("bytes that are not FastCGI close that connection only") {
    auto garbage = GENERATE(as<std::string>{}, "version 2", "random", "http");
    INFO("garbage: " << garbage);
    // A request already in flight on another connection must not be disturbed.
    fcgi_client bystander(mux.address());
    std::string body = random_bytes(5000, 5);
    bystander.send_request(backend_request(b, "POST", "/echo?sleep_ms=300", body));
    REQUIRE(bystander.flush(5s));

    fcgi_client bad(mux.address());
    std::string raw;
    if (garbage == "version 2") {
      proto::append_begin_request(raw, 1, 1, 0);
      raw[0] = 2;
    } else if (garbage == "random") {
      raw = random_bytes(4096, 99);
      raw[0] = 0x55;  // never a valid version byte
    } else {
      raw = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";
    }
    bad.send_raw(raw);
    REQUIRE_READ_OK(bad.read_until_closed(5s), mux);
    CHECK_FALSE(bad.response(1).ended);

    REQUIRE_READ_OK(bystander.read_response(1, 10s), mux);
    CHECK(parse_cgi_response(bystander.response(1).out).body == body);
    require_serves(mux, b, "after garbage");
  }
  SECTION("without KEEP_CONN the front connection is closed after END_REQUEST") {
    fcgi_client c(mux.address());
    REQUIRE_READ_OK(c.exchange(backend_request(b, "GET", "/data?bytes=10"), 10s), mux);
    CHECK(parse_cgi_response(c.response(1).out).body == pattern_bytes(10));
    REQUIRE_READ_OK(c.read_until_closed(5s), mux);
  }
  SECTION("with KEEP_CONN the connection stays open for more requests") {
    fcgi_client c(mux.address());
    for (std::uint16_t id = 1; id <= 5; ++id) {
      request_spec r = backend_request(b, "GET", "/data?bytes=" + std::to_string(id * 10), "", flag_keep_conn);
      r.id = id;
      REQUIRE_READ_OK(c.exchange(r, 10s), mux);
      CHECK(parse_cgi_response(c.response(id).out).body == pattern_bytes(id * 10u));
    }
    CHECK(c.read_until_closed(300ms) == read_status::timeout);
  }
}

TEST_CASE("aborts and front closes leave the worker pool intact", "[proxy][front]") {
  backend b = demo_backend();
  // One worker and no scaling: a lost worker would show as every later request hanging.
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "1", "-N", "1"}));

  SECTION("ABORT_REQUEST of a queued request ends it at once; the worker keeps serving") {
    fcgi_client busy(mux.address());
    busy.send_request(backend_request(b, "GET", "/data?bytes=20&sleep_ms=1500"));
    REQUIRE(busy.flush(5s));
    std::this_thread::sleep_for(200ms);  // let it reach the worker

    fcgi_client queued(mux.address());
    request_spec r = backend_request(b, "GET", "/data?bytes=30", "", flag_keep_conn);
    r.id = 5;
    queued.send_request(r);
    REQUIRE(queued.flush(5s));
    std::this_thread::sleep_for(100ms);
    auto t0 = std::chrono::steady_clock::now();
    queued.send_abort(5);
    REQUIRE_READ_OK(queued.read_response(5, 5s), mux);
    auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(queued.response(5).out.empty());  // it never reached the worker
    // Answered from the queue, not after the busy worker finished its 1.5 s.
    CHECK(waited < 1000ms);

    REQUIRE_READ_OK(busy.read_response(1, 10s), mux);
    CHECK(parse_cgi_response(busy.response(1).out).body == pattern_bytes(20));
    require_serves(mux, b, "after an abort");
  }
  SECTION("a front that closes mid-request gives the worker back") {
    // With hang=1 the worker never ends the request on its own: only closing (or killing) the
    // worker's side frees it.
    auto how =
        GENERATE(as<std::string>{}, "while the worker sleeps", "before the body is complete", "while the worker hangs");
    INFO(how);
    {
      fcgi_client c(mux.address());
      if (how == "before the body is complete") {
        c.send_begin(1, 1, 0);
        c.send_params(1, backend_params(b, "POST", "/echo", 100000));
        c.send_stdin(1, random_bytes(50000, 1), 65535, false);
      } else {
        std::string q = how == "while the worker sleeps" ? "sleep_ms=500" : "hang=1";
        c.send_request(backend_request(b, "GET", "/data?bytes=10&" + q));
      }
      REQUIRE(c.flush(5s));
      std::this_thread::sleep_for(200ms);
    }
    require_serves(mux, b, "after a front close");
    require_serves(mux, b, "twice after a front close");
  }
}
