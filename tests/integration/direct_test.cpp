// SPDX-License-Identifier: ISC
// The worker programs without fcgimux: proves the harness and pins down how each peer behaves,
// so a failure behind fcgimux can be told apart from a failure of the peer or the harness.

#include "backends.hpp"
#include "proto/encoder.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/fcgi_program.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/test_data.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <thread>

using namespace fcgimux::test;
using fcgimux::proto::flag_keep_conn;
using fcgimux::proto::protocol_status;

namespace {

fcgi_program start(const backend& b, const temp_dir& dir, bool use_unix = true) {
  fcgi_program p = spawn_fcgi_program(b.command, dir, use_unix, b.env);
  REQUIRE(wait_connectable(p.address, 5s));
  return p;
}

std::vector<std::string> demo_with(std::initializer_list<std::string> args) {
  std::vector<std::string> v{demo_bin};
  v.insert(v.end(), args);
  return v;
}

}  // namespace

TEST_CASE("each backend answers GET, echoes POST bodies and sends large responses", "[direct]") {
  auto name = GENERATE(as<std::string>{}, "demo", "php-cgi", "fcgiwrap");
  temp_dir dir;
  backend b = backend_named(name, dir);
  fcgi_program app = start(b, dir, name != "fcgiwrap");
  INFO("backend " << name);

  SECTION("GET with bytes=N") {
    fcgi_client c(app.address);
    REQUIRE(c.exchange(backend_request(b, "GET", "/data?bytes=100")) == read_status::ok);
    cgi_response r = parse_cgi_response(c.response(1).out);
    REQUIRE(r.valid);
    CHECK(r.status == 200);
    CHECK(r.body == pattern_bytes(100));
    CHECK(c.response(1).status == protocol_status::request_complete);
  }
  SECTION("POST bodies come back intact") {
    for (std::size_t size : {std::size_t{0}, std::size_t{1024}, std::size_t{10} << 20}) {
      std::string body = random_bytes(size, size + 1);
      fcgi_client c(app.address);
      REQUIRE(c.exchange(backend_request(b, "POST", "/echo", body), 30s) == read_status::ok);
      cgi_response r = parse_cgi_response(c.response(1).out);
      REQUIRE(r.valid);
      CHECK(r.body.size() == size);
      CHECK(first_difference(r.body, body) == size);
    }
  }
  SECTION("a 10 MiB response") {
    std::size_t size = std::size_t{10} << 20;
    fcgi_client c(app.address);
    REQUIRE(c.exchange(backend_request(b, "GET", "/data?bytes=" + std::to_string(size)), 30s) == read_status::ok);
    cgi_response r = parse_cgi_response(c.response(1).out);
    REQUIRE(r.valid);
    CHECK(r.body.size() == size);
    CHECK(r.body == pattern_bytes(size));
  }
}

TEST_CASE("demo: management records and protocol errors", "[direct][demo]") {
  temp_dir dir;
  backend b = demo_backend();
  fcgi_program app = start(b, dir, false);

  SECTION("GET_VALUES: one connection, one request, no multiplexing") {
    fcgi_client c(app.address);
    std::map<std::string, std::string> v;
    REQUIRE(c.get_values({"FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"}, v, 5s) == read_status::ok);
    CHECK(v["FCGI_MAX_CONNS"] == "1");
    CHECK(v["FCGI_MAX_REQS"] == "1");
    CHECK(v["FCGI_MPXS_CONNS"] == "0");
  }
  SECTION("an unknown management type is answered with UNKNOWN_TYPE") {
    fcgi_client c(app.address);
    std::string raw;
    fcgimux::proto::append_header(raw, static_cast<fcgimux::proto::record_type>(42), 0, 0, 0);
    c.send_raw(raw);
    fcgi_record rec;
    REQUIRE(c.next_record(rec, 5s) == read_status::ok);
    CHECK(rec.type == fcgimux::proto::event_type::unknown_type);
    CHECK(rec.unknown_type == 42);
  }
  SECTION("roles other than responder get UNKNOWN_ROLE") {
    auto role = GENERATE(as<std::uint16_t>{}, 2, 3, 99);
    fcgi_client c(app.address);
    request_spec r = backend_request(b, "GET", "/");
    r.role = role;
    REQUIRE(c.exchange(r, 5s) == read_status::ok);
    CHECK(c.response(1).status == protocol_status::unknown_role);
  }
  SECTION("a second id while one is active gets CANT_MPX_CONN; the first is still answered") {
    fcgi_client c(app.address);
    c.send_begin(1, 1, flag_keep_conn);
    c.send_begin(2, 1, 0);
    c.send_params(1, backend_params(b, "GET", "/"));
    c.send_stdin(1, "");
    REQUIRE(c.read_responses({1, 2}, 5s) == read_status::ok);
    CHECK(c.response(2).status == protocol_status::cant_mpx_conn);
    CHECK(c.response(1).status == protocol_status::request_complete);
    CHECK(parse_cgi_response(c.response(1).out).body.rfind("hello from pid ", 0) == 0);
  }
  SECTION("KEEP_CONN keeps the connection; without it the demo closes after END_REQUEST") {
    fcgi_client c(app.address);
    request_spec r = backend_request(b, "GET", "/", "", flag_keep_conn);
    REQUIRE(c.exchange(r, 5s) == read_status::ok);
    r.id = 2;
    r.flags = 0;
    REQUIRE(c.exchange(r, 5s) == read_status::ok);
    CHECK(c.read_until_closed(5s) == read_status::ok);
  }
  SECTION("status, stderr and sleep_ms") {
    fcgi_client c(app.address);
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(c.exchange(backend_request(b, "GET", "/?status=404&stderr=some+text&sleep_ms=200"), 5s) == read_status::ok);
    CHECK(std::chrono::steady_clock::now() - t0 >= 200ms);
    CHECK(parse_cgi_response(c.response(1).out).status == 404);
    CHECK(c.response(1).err == "some text");
    CHECK(app.process.stderr_text().find("some text") != std::string::npos);
  }
  SECTION("crash=1 exits with status 3 without answering") {
    fcgi_client c(app.address);
    CHECK(c.exchange(backend_request(b, "GET", "/?crash=1"), 5s) == read_status::closed);
    CHECK_FALSE(c.response(1).ended);
    auto st = app.process.wait_exit(5s);
    REQUIRE(st);
    CHECK(st->exited);
    CHECK(st->code == 3);
  }
  SECTION("crash_after=N sends the head and N body bytes, then exits with status 3") {
    fcgi_client c(app.address);
    CHECK(c.exchange(backend_request(b, "GET", "/?bytes=1000&crash_after=300"), 5s) == read_status::closed);
    CHECK_FALSE(c.response(1).ended);
    cgi_response r = parse_cgi_response(c.response(1).out);
    CHECK(r.header("Content-Length") == "1000");
    CHECK(r.body == pattern_bytes(300));
    auto st = app.process.wait_exit(5s);
    REQUIRE(st);
    CHECK(st->code == 3);
  }
  SECTION("hang=1 never answers, but the demo serves the next connection once it is closed") {
    {
      fcgi_client c(app.address);
      CHECK(c.exchange(backend_request(b, "GET", "/?hang=1"), 300ms) == read_status::timeout);
    }
    fcgi_client c(app.address);
    CHECK(c.exchange(backend_request(b, "GET", "/"), 5s) == read_status::ok);
  }
}

TEST_CASE("demo: --kcgi and --max-requests", "[direct][demo]") {
  temp_dir dir;
  backend b = demo_backend();

  SECTION("--kcgi exits with status 0 on KEEP_CONN, as kcgi apps do") {
    fcgi_program app = spawn_fcgi_program(demo_with({"--kcgi"}), dir, true);
    REQUIRE(wait_connectable(app.address, 5s));
    fcgi_client c(app.address);
    CHECK(c.exchange(backend_request(b, "GET", "/", "", flag_keep_conn), 5s) == read_status::closed);
    auto st = app.process.wait_exit(5s);
    REQUIRE(st);
    CHECK(st->exited);
    CHECK(st->code == 0);
  }
  SECTION("--kcgi serves one request per connection") {
    fcgi_program app = spawn_fcgi_program(demo_with({"--kcgi"}), dir, true);
    REQUIRE(wait_connectable(app.address, 5s));
    for (int i = 0; i < 3; ++i) {
      fcgi_client c(app.address);
      REQUIRE(c.exchange(backend_request(b, "GET", "/"), 5s) == read_status::ok);
      CHECK(c.read_until_closed(5s) == read_status::ok);
    }
    CHECK(app.process.running());
  }
  SECTION("--max-requests 3 exits 0 after the third request") {
    fcgi_program app = spawn_fcgi_program(demo_with({"--max-requests", "3"}), dir, false);
    REQUIRE(wait_connectable(app.address, 5s));
    fcgi_client c(app.address);
    for (std::uint16_t id = 1; id <= 3; ++id) {
      request_spec r = backend_request(b, "GET", "/", "", flag_keep_conn);
      r.id = id;
      REQUIRE(c.exchange(r, 5s) == read_status::ok);
    }
    CHECK(c.read_until_closed(5s) == read_status::ok);
    auto st = app.process.wait_exit(5s);
    REQUIRE(st);
    CHECK(st->exited);
    CHECK(st->code == 0);
  }
}

TEST_CASE("php-cgi: what fcgimux must cope with", "[direct][php-cgi]") {
  temp_dir dir;
  backend b = php_backend(dir);
  fcgi_program app = start(b, dir, true);

  SECTION("KEEP_CONN serves several requests on one connection") {
    fcgi_client c(app.address);
    for (std::uint16_t id = 1; id <= 3; ++id) {
      request_spec r = backend_request(b, "POST", "/echo", "body " + std::to_string(id), flag_keep_conn);
      r.id = id;
      REQUIRE(c.exchange(r, 10s) == read_status::ok);
      CHECK(parse_cgi_response(c.response(id).out).body == "body " + std::to_string(id));
    }
  }
  SECTION("STDIN in 1-byte records") {
    fcgi_client c(app.address);
    request_spec r = backend_request(b, "POST", "/echo", random_bytes(3000, 7));
    r.stdin_record_size = 1;
    REQUIRE(c.exchange(r, 10s) == read_status::ok);
    CHECK(parse_cgi_response(c.response(1).out).body == r.body);
  }
  SECTION("a name-value pair split across PARAMS records makes php-cgi drop the connection") {
    // So whoever forwards PARAMS to php-cgi must keep every pair inside one record.
    fcgi_client c(app.address);
    request_spec r = backend_request(b, "GET", "/data?bytes=10");
    r.params_record_size = 5;
    CHECK(c.exchange(r, 10s) == read_status::closed);
    CHECK_FALSE(c.response(1).ended);
  }
}
