// SPDX-License-Identifier: ISC
// Many front connections at once, and many interleaved request ids on one connection.

#include "backends.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/test_data.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <memory>

using namespace fcgimux::test;
using fcgimux::proto::protocol_status;
namespace proto = fcgimux::proto;

TEST_CASE("500 concurrent front connections each get their own answer", "[proxy][concurrency]") {
  backend b = demo_backend();
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "4"}));
  constexpr int connections = 500;

  std::vector<std::unique_ptr<fcgi_client>> clients;
  std::vector<std::string> bodies;
  for (int i = 0; i < connections; ++i) {
    auto c = std::make_unique<fcgi_client>(mux.address());
    REQUIRE(c->connected());
    bodies.push_back("request " + std::to_string(i) + " " + random_bytes(100 + static_cast<std::size_t>(i), i));
    c->send_request(backend_request(b, "POST", "/echo", bodies.back()));
    REQUIRE(c->flush(5s));
    clients.push_back(std::move(c));
  }
  int answered = 0;
  std::vector<std::string> problems;
  for (int i = 0; i < connections; ++i) {
    read_status st = clients[static_cast<std::size_t>(i)]->read_response(1, 30s);
    const fcgi_response& r = clients[static_cast<std::size_t>(i)]->response(1);
    cgi_response resp = parse_cgi_response(r.out);
    if (st == read_status::ok && resp.status == 200 && resp.body == bodies[static_cast<std::size_t>(i)]) {
      ++answered;
    } else if (problems.size() < 5) {
      problems.push_back("connection " + std::to_string(i) + ": " + to_string(st) + ", status " +
                         std::to_string(resp.status) + ", " + std::to_string(resp.body.size()) + " body bytes");
    }
  }
  for (const auto& p : problems) UNSCOPED_INFO(p);
  INFO("fcgimux stderr:\n" << mux.stderr_text().substr(0, 4000));
  CHECK(answered == connections);
}

TEST_CASE("one front connection carrying 50 interleaved request ids", "[proxy][concurrency]") {
  // The demo answers CANT_MPX_CONN and php-cgi garbles both requests if fcgimux ever interleaves
  // two requests on one worker connection.
  auto name = GENERATE(as<std::string>{}, "demo", "php-cgi");
  INFO("backend " << name);
  temp_dir dir;
  backend b = backend_named(name, dir);
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "4"}));
  fcgi_client c(mux.address());
  REQUIRE(c.connected());

  // Odd ids, as HAProxy uses; every request asks for different content.
  std::vector<std::uint16_t> ids;
  std::vector<std::string> expected;
  std::vector<std::vector<std::string>> records;  // per request, in order
  for (int k = 0; k < 50; ++k) {
    auto id = static_cast<std::uint16_t>(1 + 2 * k);
    ids.push_back(id);
    std::string uri;
    std::string body;
    if (k % 2 == 0) {
      body = random_bytes(2000 + static_cast<std::size_t>(k) * 131, static_cast<std::uint64_t>(k));
      uri = "/echo";
      expected.push_back(body);
    } else {
      std::size_t n = 5000 + static_cast<std::size_t>(k) * 1000;
      uri = "/data?bytes=" + std::to_string(n);
      expected.push_back(pattern_bytes(n));
    }
    std::vector<std::string> recs;
    auto add = [&](auto&& append) {
      std::string r;
      append(r);
      recs.push_back(std::move(r));
    };
    // A stream as records of `size` bytes, then its empty end record.
    auto add_stream = [&](proto::record_type type, std::string_view data, std::size_t size) {
      for (std::size_t at = 0; at < data.size(); at += size)
        add([&](std::string& r) { proto::append_record(r, type, id, data.substr(at, size)); });
      add([&](std::string& r) { proto::append_stream_end(r, type, id); });
    };
    add([&](std::string& r) { proto::append_begin_request(r, id, 1, proto::flag_keep_conn); });
    std::string block;
    for (const auto& [n, v] : backend_params(b, "POST", uri, body.size())) proto::append_name_value(block, n, v);
    add_stream(proto::record_type::params, block, 64);
    add_stream(proto::record_type::stdin_stream, body, 500);
    records.push_back(std::move(recs));
  }
  // Round-robin: one record of each request in turn.
  for (std::size_t round = 0;; ++round) {
    bool any = false;
    for (const auto& recs : records) {
      if (round < recs.size()) {
        c.send_raw(recs[round]);
        any = true;
      }
    }
    if (!any) break;
  }
  REQUIRE_READ_OK(c.read_responses(ids, 30s), mux);
  for (std::size_t k = 0; k < ids.size(); ++k) {
    INFO("request id " << ids[k]);
    const fcgi_response& r = c.response(ids[k]);
    CHECK(r.status == protocol_status::request_complete);
    cgi_response resp = parse_cgi_response(r.out);
    CHECK(resp.status == 200);
    CHECK(resp.body.size() == expected[k].size());
    CHECK(first_difference(resp.body, expected[k]) == expected[k].size());
  }
  // KEEP_CONN: the connection is still usable, and a finished id may be used again.
  request_spec again = backend_request(b, "GET", "/data?bytes=123", "", proto::flag_keep_conn);
  again.id = 7;
  c.response(7) = {};
  REQUIRE_READ_OK(c.exchange(again, 10s), mux);
  CHECK(parse_cgi_response(c.response(7).out).body == pattern_bytes(123));
}

TEST_CASE("request ids beyond the advertised FCGI_MAX_REQS are refused, the rest served", "[proxy][concurrency]") {
  backend b = demo_backend();
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "2"}));
  fcgi_client c(mux.address());
  std::map<std::string, std::string> v;
  REQUIRE_READ_OK(c.get_values({"FCGI_MAX_REQS"}, v, 5s), mux);
  std::size_t max_reqs = std::stoul(v["FCGI_MAX_REQS"]);
  REQUIRE(max_reqs > 0);
  REQUIRE(max_reqs < 5000);  // keeps the test bounded; ids are 16-bit anyway
  std::size_t total = max_reqs + 2;

  // Every BEGIN_REQUEST first, so all ids are active when the extra ones arrive.
  for (std::size_t i = 1; i <= total; ++i) c.send_begin(static_cast<std::uint16_t>(i), 1, proto::flag_keep_conn);
  std::vector<std::uint16_t> ids;
  for (std::size_t i = 1; i <= total; ++i) {
    auto id = static_cast<std::uint16_t>(i);
    ids.push_back(id);
    c.send_params(id, backend_params(b, "GET", "/data?bytes=" + std::to_string(i)));
    c.send_stdin(id, "");
  }
  REQUIRE_READ_OK(c.read_responses(ids, 30s), mux);
  std::size_t served = 0;
  std::size_t refused = 0;
  for (std::size_t i = 1; i <= total; ++i) {
    const fcgi_response& r = c.response(static_cast<std::uint16_t>(i));
    if (r.status == protocol_status::request_complete && parse_cgi_response(r.out).body == pattern_bytes(i)) {
      ++served;
    } else if ((r.status == protocol_status::overloaded || r.status == protocol_status::cant_mpx_conn) &&
               r.out.empty()) {
      ++refused;
      CHECK(i > max_reqs);
    }
  }
  CHECK(served == max_reqs);
  CHECK(refused == 2);
}
