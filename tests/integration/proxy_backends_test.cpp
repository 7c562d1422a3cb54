// SPDX-License-Identifier: ISC
// Each real worker program behind fcgimux: bodies and large answers must pass through intact.

#include "backends.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/test_data.hpp"

#include <catch2/catch.hpp>

using namespace fcgimux::test;
using fcgimux::proto::protocol_status;

TEST_CASE("backends behind fcgimux: GET, POST bodies of 0 B, 1 KiB, 10 MiB and a 10 MiB response", "[proxy]") {
  auto name = GENERATE(as<std::string>{}, "demo", "php-cgi", "fcgiwrap");
  INFO("backend " << name);
  temp_dir dir;
  backend b = backend_named(name, dir);
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "2"}));

  SECTION("GET") {
    fcgi_client c(mux.address());
    REQUIRE(c.connected());
    REQUIRE_READ_OK(c.exchange(backend_request(b, "GET", "/data?bytes=100"), 15s), mux);
    cgi_response r = parse_cgi_response(c.response(1).out);
    REQUIRE(r.valid);
    CHECK(r.status == 200);
    CHECK(r.body == pattern_bytes(100));
    CHECK(c.response(1).status == protocol_status::request_complete);
  }
  SECTION("POST bodies come back intact") {
    for (std::size_t size : {std::size_t{0}, std::size_t{1024}, std::size_t{10} << 20}) {
      INFO("body of " << size << " bytes");
      std::string body = random_bytes(size, size + 3);
      fcgi_client c(mux.address());
      request_spec r = backend_request(b, "POST", "/echo", body);
      r.stdin_record_size = 32768;  // what nginx sends
      REQUIRE_READ_OK(c.exchange(r, 30s), mux);
      cgi_response resp = parse_cgi_response(c.response(1).out);
      REQUIRE(resp.valid);
      CHECK(resp.status == 200);
      CHECK(resp.body.size() == size);
      CHECK(first_difference(resp.body, body) == size);
    }
  }
  SECTION("a 10 MiB response") {
    std::size_t size = std::size_t{10} << 20;
    fcgi_client c(mux.address());
    REQUIRE_READ_OK(c.exchange(backend_request(b, "GET", "/data?bytes=" + std::to_string(size)), 30s), mux);
    cgi_response r = parse_cgi_response(c.response(1).out);
    REQUIRE(r.valid);
    CHECK(r.body.size() == size);
    CHECK(first_difference(r.body, pattern_bytes(size)) == size);
  }
}
