// SPDX-License-Identifier: ISC
// The stats server's request parser alone: every fixture fed whole, split at every offset and one
// byte at a time must give the same result, and that result is checked.

#include "src/admin/http_request_parser.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace fcgimux;

namespace {

/// What a parse made of some bytes, in a form two splits can be compared by.
struct outcome {
  http_parse_status status = http_parse_status::need_more;
  http_parse_error error = http_parse_error::none;
  std::size_t consumed = 0;
  std::string method, target, path, query, authorization;
  int minor_version = 0;
  bool keep_alive = false, has_body = false;
  bool operator==(const outcome&) const = default;
};

outcome finish(const http_request_parser& p, http_parse_status status, std::size_t consumed) {
  outcome o;
  o.status = status;
  o.error = p.error();
  o.consumed = consumed;
  if (status == http_parse_status::done) {
    const http_request& r = p.request();
    o.method = r.method;
    o.target = r.target;
    o.path = r.path;
    o.query = r.query;
    o.authorization = r.authorization;
    o.minor_version = r.minor_version;
    o.keep_alive = r.keep_alive;
    o.has_body = r.has_body;
  }
  return o;
}

// Feeds `pieces` in order, stopping at the first head or error, as the server does.
outcome feed_pieces(const std::vector<std::string_view>& pieces, http_parser_limits limits = {}) {
  http_request_parser p(limits);
  std::size_t consumed = 0;
  for (std::string_view piece : pieces) {
    const http_parse_result r = p.feed(piece);
    consumed += r.consumed;
    if (r.status != http_parse_status::need_more) return finish(p, r.status, consumed);
    REQUIRE(r.consumed == piece.size());  // need_more takes every byte
  }
  return finish(p, http_parse_status::need_more, consumed);
}

// The result for the whole input, after checking that every split gives it too.
outcome parse_every_way(const std::string& in, http_parser_limits limits = {}) {
  const outcome whole = feed_pieces({in}, limits);
  for (std::size_t cut = 0; cut <= in.size(); ++cut) {
    const std::string_view v(in);
    INFO("split at " << cut);
    REQUIRE(feed_pieces({v.substr(0, cut), v.substr(cut)}, limits) == whole);
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < in.size(); ++i) bytes.push_back(std::string_view(in).substr(i, 1));
  REQUIRE(feed_pieces(bytes, limits) == whole);
  return whole;
}

outcome expect_error(const std::string& in, http_parse_error e, http_parser_limits limits = {}) {
  const outcome o = parse_every_way(in, limits);
  CHECK(o.status == http_parse_status::error);
  CHECK(o.error == e);
  return o;
}

}  // namespace

TEST_CASE("http parser: a GET with its fields", "[http_parser]") {
  const std::string in =
      "GET /stats?full&pool=a HTTP/1.1\r\nHost: x\r\nAuthorization:  Bearer abc \r\nConnection: keep-alive\r\n\r\n";
  const outcome o = parse_every_way(in);
  REQUIRE(o.status == http_parse_status::done);
  CHECK(o.consumed == in.size());
  CHECK(o.method == "GET");
  CHECK(o.target == "/stats?full&pool=a");
  CHECK(o.path == "/stats");
  CHECK(o.query == "full&pool=a");
  CHECK(o.authorization == "Bearer abc");
  CHECK(o.minor_version == 1);
  CHECK(o.keep_alive);
  CHECK_FALSE(o.has_body);
}

TEST_CASE("http parser: a pipelined request is left to the caller", "[http_parser]") {
  const std::string first = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string in = first + "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n";
  const outcome o = parse_every_way(in);
  REQUIRE(o.status == http_parse_status::done);
  CHECK(o.consumed == first.size());
  CHECK(o.path == "/healthz");

  http_request_parser p;
  http_parse_result r = p.feed(in);
  REQUIRE(r.status == http_parse_status::done);
  r = p.feed(std::string_view(in).substr(r.consumed));  // the next head, on the same parser
  REQUIRE(r.status == http_parse_status::done);
  CHECK(p.request().path == "/stats");
}

TEST_CASE("http parser: leading empty lines, bare LF, HTTP/1.0, absolute-form", "[http_parser]") {
  SECTION("empty lines before the request line are skipped") {
    const outcome o = parse_every_way("\r\n\n\r\nGET /healthz HTTP/1.1\nHost: x\n\n");
    REQUIRE(o.status == http_parse_status::done);
    CHECK(o.path == "/healthz");
  }
  SECTION("HTTP/1.0 closes unless keep-alive is asked for") {
    const outcome closes = parse_every_way("GET / HTTP/1.0\r\n\r\n");
    REQUIRE(closes.status == http_parse_status::done);
    CHECK(closes.minor_version == 0);
    CHECK_FALSE(closes.keep_alive);
    CHECK(parse_every_way("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
  }
  SECTION("Connection: close") {
    CHECK_FALSE(parse_every_way("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n").keep_alive);
  }
  SECTION("absolute-form") {
    const outcome o = parse_every_way("GET HTTP://example.org:9001/metrics?x HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(o.status == http_parse_status::done);
    CHECK(o.path == "/metrics");
    CHECK(o.query == "x");
    CHECK(parse_every_way("GET http://example.org HTTP/1.1\r\nHost: x\r\n\r\n").path == "/");
  }
  SECTION("bodies announced") {
    CHECK(parse_every_way("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n").has_body);
    CHECK_FALSE(parse_every_way("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 000\r\n\r\n").has_body);
    CHECK(parse_every_way("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").has_body);
  }
  SECTION("an incomplete head needs more") {
    const outcome o = parse_every_way("GET /stats HTTP/1.1\r\nHost: x\r\n");
    CHECK(o.status == http_parse_status::need_more);
    CHECK(o.error == http_parse_error::none);
  }
}

TEST_CASE("http parser: 400 for malformed heads", "[http_parser]") {
  const auto bad = http_parse_error::bad_request;
  expect_error("HELLO THERE\r\n\r\n", bad);
  expect_error("GET  /x HTTP/1.1\r\nHost: x\r\n\r\n", bad);
  expect_error("GET /x HTTP/1.1 extra\r\nHost: x\r\n\r\n", bad);
  expect_error("GET x HTTP/1.1\r\nHost: x\r\n\r\n", bad);
  expect_error("GET ?x HTTP/1.1\r\nHost: x\r\n\r\n", bad);
  expect_error("CONNECT example.org:443 HTTP/1.1\r\nHost: x\r\n\r\n", bad);
  expect_error("G(T /x HTTP/1.1\r\nHost: x\r\n\r\n", bad);
  expect_error("GET /x\x7f HTTP/1.1\r\nHost: x\r\n\r\n", bad);
  expect_error("GET /x HTTP/1.1\rX\r\nHost: x\r\n\r\n", bad);
  expect_error(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15), bad);
  expect_error("GET /x HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n", bad);
  expect_error("GET /x HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", bad);
  expect_error("GET /x HTTP/1.1\r\nBad Name: v\r\nHost: x\r\n\r\n", bad);
  expect_error("GET /x HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n", bad);
  expect_error("GET /x HTTP/1.1\r\n\r\n", bad);                         // no Host
  expect_error("GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", bad);  // two
  expect_error("GET /x HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", bad);
  expect_error("GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", bad);
  expect_error("GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", bad);
  expect_error("GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", bad);
  expect_error("GET /x HTTP/1.1\r\nHost: x\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n", bad);
  // the same Content-Length twice is one length, not an ambiguity
  CHECK(parse_every_way("GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: 01\r\nContent-Length: 1\r\n\r\n").status ==
        http_parse_status::done);
}

TEST_CASE("http parser: 501 for a transfer coding it cannot end, 505 for HTTP/2", "[http_parser]") {
  expect_error("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", http_parse_error::not_implemented);
  expect_error("GET /x HTTP/2.0\r\nHost: x\r\n\r\n", http_parse_error::version_not_supported);
  CHECK(http_status(http_parse_error::not_implemented) == 501);
  CHECK(http_status(http_parse_error::version_not_supported) == 505);
  CHECK(http_status(http_parse_error::bad_request) == 400);
}

TEST_CASE("http parser: the limits are exact whatever the split", "[http_parser]") {
  const http_parser_limits limits{.max_request_line = 64, .max_head_bytes = 128};
  SECTION("request line: 64 bytes pass, 65 get 414") {
    const std::string at = "GET /" + std::string(64 - 14, 'a') + " HTTP/1.1";
    REQUIRE(at.size() == 64);
    CHECK(parse_every_way(at + "\r\nHost: x\r\n\r\n", limits).status == http_parse_status::done);
    const outcome o = expect_error("GET /" + std::string(64 - 13, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n",
                                   http_parse_error::uri_too_long, limits);
    CHECK(o.consumed == 65);  // refused at the byte that crossed the limit, not later
    CHECK(http_status(o.error) == 414);
  }
  SECTION("head: 128 bytes pass, 129 get 431") {
    const std::string base = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: \r\n\r\n";
    const std::string pad(128 - base.size(), 'p');
    const std::string at = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + pad + "\r\n\r\n";
    REQUIRE(at.size() == 128);
    CHECK(parse_every_way(at, limits).status == http_parse_status::done);
    const outcome o =
        expect_error("GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + pad + "p\r\n\r\n", http_parse_error::header_too_large, limits);
    CHECK(o.consumed == 129);
    CHECK(http_status(o.error) == 431);
  }
  SECTION("a head that never ends is refused at the limit, holding no more") {
    const outcome o = expect_error("GET / HTTP/1.1\r\nX: " + std::string(1000, 'a'), http_parse_error::header_too_large, limits);
    CHECK(o.consumed == 129);
  }
}

TEST_CASE("http parser: errors are sticky until reset", "[http_parser]") {
  http_request_parser p;
  REQUIRE(p.feed("BAD\r\n\r\n").status == http_parse_status::error);
  const http_parse_result again = p.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(again.status == http_parse_status::error);
  CHECK(again.consumed == 0);
  p.reset();
  CHECK_FALSE(p.started());
  CHECK(p.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n").status == http_parse_status::done);
}
