// SPDX-License-Identifier: ISC
#include "proto/encoder.hpp"
#include "src/upstream/answer_reader.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using fcgimux::answer_reader;
namespace proto = fcgimux::proto;
using kind = answer_reader::step_kind;

namespace {

struct outcome {
  std::string out, err;
  kind last = kind::need_more;
  std::string why;
  int http_status = 0;
  std::size_t left = 0;  // bytes not consumed when it ended
};

// Feeds `bytes` in pieces cut at `cuts`, relaying what it is told to.
outcome read_answer(const std::string& bytes, const std::vector<std::size_t>& cuts) {
  answer_reader a(1);
  outcome o;
  std::size_t at = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(bytes.size());
  for (std::size_t end : ends) {
    std::string_view in(bytes.data() + at, end - at);
    at = end;
    for (;;) {
      auto s = a.next(in);
      if (s.kind == kind::relay) {
        (s.type == proto::record_type::stdout_stream ? o.out : o.err).append(s.data);
        continue;
      }
      o.last = s.kind;
      if (s.kind != kind::need_more) {
        o.why = a.why();
        o.http_status = a.http_status();
        o.left = in.size() + (bytes.size() - at);
        return o;
      }
      break;
    }
  }
  return o;
}

std::string record_answer(std::uint16_t id, const std::string& stdout_bytes, std::size_t piece = 65535) {
  std::string b;
  for (std::size_t i = 0; i < stdout_bytes.size(); i += piece)
    proto::append_stream(b, proto::record_type::stdout_stream, id, std::string_view(stdout_bytes).substr(i, piece));
  proto::append_stream_end(b, proto::record_type::stdout_stream, id);
  proto::append_end_request(b, id, 0, proto::protocol_status::request_complete);
  return b;
}

std::string fixture(const std::string& name) {
  std::ifstream f(std::string(FCGIMUX_FIXTURES_DIR) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("answer reader: php-cgi's captured answer relays the same bytes, split anywhere") {
  std::string bytes = fixture("php-cgi-response.bin");
  REQUIRE_FALSE(bytes.empty());
  outcome whole = read_answer(bytes, {});
  REQUIRE(whole.last == kind::end);
  CHECK(whole.http_status == 200);
  CHECK(whole.out.rfind("X-Fixture: php-cgi\r\n", 0) == 0);
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    outcome split = read_answer(bytes, {cut});
    INFO("cut at " << cut);
    REQUIRE(split.last == kind::end);
    REQUIRE(split.out == whole.out);
  }
}

TEST_CASE("answer reader: a head split over tiny records is held, then relayed whole, once") {
  std::string answer = "Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nmissing";
  outcome o = read_answer(record_answer(1, answer, 3), {});
  CHECK(o.last == kind::end);
  CHECK(o.out == answer);
  CHECK(o.http_status == 404);
}

TEST_CASE("answer reader: what a worker may not send") {
  std::string ok_head = "Status: 200\r\n\r\n";
  struct bad {
    std::string name, bytes, why;
  };
  std::string mgmt;
  proto::append_management(mgmt, proto::record_type::get_values, "");
  std::string begin;
  proto::append_begin_request(begin, 1, 1, 0);
  std::string end_only;
  proto::append_end_request(end_only, 1, 0, proto::protocol_status::request_complete);
  auto cases = GENERATE_COPY(values<bad>({
      {"garbage", "HTTP/1.1 200 OK\r\n\r\n", "not FastCGI"},
      {"another id", record_answer(2, ok_head), "request id 2"},
      {"management record", mgmt + record_answer(1, ok_head), "record of type 9"},
      {"begin request", begin, "record of type 1"},
      {"end without output", end_only, "without answering it"},
      {"end without a head", record_answer(1, "no head at all"), "no complete head"},
      {"bad status", record_answer(1, "Status: OK\r\n\r\n"), "invalid Status"},
      {"head too large", record_answer(1, std::string(70000, 'h')), "larger than 65536"},
  }));
  INFO(cases.name);
  outcome o = read_answer(cases.bytes, {});
  CHECK(o.last == kind::broken);
  CHECK(o.why.find(cases.why) != std::string::npos);
  CHECK(o.out.empty());  // nothing of a refused answer went out
}

TEST_CASE("answer reader: STDERR is relayed at once, bytes after the end are left unconsumed") {
  std::string b;
  proto::append_stream(b, proto::record_type::stderr_stream, 1, "warning");
  b += record_answer(1, "Status: 201\r\n\r\ncreated");
  std::string extra;
  proto::append_stream(extra, proto::record_type::stdout_stream, 1, "stray");
  outcome o = read_answer(b + extra, {});
  CHECK(o.last == kind::end);
  CHECK(o.err == "warning");
  CHECK(o.out == "Status: 201\r\n\r\ncreated");
  CHECK(o.http_status == 201);
  CHECK(o.left == extra.size());
}
