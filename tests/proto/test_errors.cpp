// SPDX-License-Identifier: ISC
// Each malformed input gives its own error, at the same point whatever the split, and the decoder
// stays failed afterwards.

#include "decode_support.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"

using namespace fcgimux::proto;
using namespace fcgimux::proto::test;

namespace {

std::string raw_record(std::uint8_t version, std::uint8_t type, std::uint16_t id, std::string_view content,
                       std::uint8_t padding = 0) {
  record_header h;
  h.version = version;
  h.type = type;
  h.request_id = id;
  h.content_length = static_cast<std::uint16_t>(content.size());
  h.padding_length = padding;
  std::string out(header_size, '\0');
  write_header(out.data(), h);
  out.append(content);
  out.append(padding, '\0');
  return out;
}

std::string good_prefix() {
  std::string out;
  append_begin_request(out, 1, 1, 0);
  append_stream(out, record_type::params, 1,
                "\x01\x01"
                "ab");
  return out;
}

struct bad_case {
  const char* name;
  std::string bytes;
  errc expected;
  decoder_limits limits;
};

std::vector<bad_case> bad_cases() {
  const decoder_limits client{};
  const decoder_limits server{1024, 4};
  std::vector<bad_case> cases;
  auto add = [&](const char* name, std::string bytes, errc e, decoder_limits l) {
    cases.push_back({name, good_prefix() + bytes, e, l});
  };
  add("version 0", raw_record(0, 6, 1, "x"), errc::bad_version, client);
  add("version 2", raw_record(2, 1, 1, std::string(8, '\0')), errc::bad_version, server);
  add("version 2 of an unknown type", raw_record(2, 99, 0, ""), errc::bad_version, client);
  for (std::uint8_t t : {1, 2, 3, 4, 5, 6, 7, 8}) {
    add("application record with id 0", raw_record(1, t, 0, t == 1 || t == 3 ? std::string(8, '\0') : ""),
        errc::null_request_id, client);
  }
  add("PARAMS with id 0 on the server side", raw_record(1, 4, 0, "ab"), errc::null_request_id, server);
  for (std::uint8_t t : {9, 10}) {
    add("management record with an id", raw_record(1, t, 1, ""), errc::management_with_request_id, client);
  }
  add("UNKNOWN_TYPE with an id", raw_record(1, 11, 2, std::string(8, '\0')), errc::management_with_request_id, server);
  for (std::size_t n : {0, 7, 9, 16}) {
    add("BEGIN_REQUEST of a wrong length", raw_record(1, 1, 2, std::string(n, '\1')), errc::bad_begin_request_length,
        client);
    add("END_REQUEST of a wrong length", raw_record(1, 3, 1, std::string(n, '\0')), errc::bad_end_request_length,
        client);
    add("UNKNOWN_TYPE of a wrong length", raw_record(1, 11, 0, std::string(n, '\0')), errc::bad_unknown_type_length,
        client);
  }
  add("GET_VALUES with a name running past the block",
      raw_record(1, 9, 0,
                 "\x05\x00"
                 "abc",
                 3),
      errc::name_value_truncated, client);
  add("GET_VALUES with a cut 4-byte length",
      raw_record(1, 9, 0,
                 "\x01\x00"
                 "a\x80\x00"),
      errc::name_value_truncated, server);
  add("GET_VALUES_RESULT with a value running past the block",
      raw_record(1, 10, 0,
                 "\x0d\x05"
                 "FCGI_MAX_REQS1"),
      errc::name_value_truncated, client);
  add("GET_VALUES_RESULT with a huge 4-byte length", raw_record(1, 10, 0, "\xff\xff\xff\xff\x00"),
      errc::name_value_truncated, client);
  {
    std::string dup;
    append_begin_request(dup, 1, 1, 0);
    add("second BEGIN_REQUEST for an active id", dup, errc::duplicate_request_id, server);
  }
  {
    std::string big;
    append_stream(big, record_type::params, 1, std::string(1021, 'p'));  // 4 already sent in the prefix
    add("PARAMS over the limit", big, errc::params_too_large, server);
  }
  return cases;
}

}  // namespace

TEST_CASE("malformed input gives its specific, sticky error", "[proto][errors]") {
  for (const bad_case& c : bad_cases()) {
    INFO(c.name << ": " << hex(c.bytes));
    const decoded whole = decode_whole(c.limits, c.bytes);
    REQUIRE(whole.error == make_error_code(c.expected));
    REQUIRE(whole.events.front().rfind("begin id=1", 0) == 0);
    REQUIRE(whole.events.back() == "error");
    require_split_invariant(c.limits, c.bytes);
  }
}

TEST_CASE("an error stays until reset", "[proto][errors]") {
  const std::string bytes = raw_record(3, 6, 1, "abc");
  decoder d;
  const decode_result r = d.next(bytes);
  REQUIRE(r.ev.type == event_type::error);
  CHECK(r.consumed <= bytes.size());
  CHECK(d.failed());
  CHECK(d.error() == errc::bad_version);
  std::string good;
  append_stream(good, record_type::stdout_stream, 1, "ok");
  for (int i = 0; i < 3; ++i) {
    const decode_result again = d.next(good);
    CHECK(again.ev.type == event_type::error);
    CHECK(again.consumed == 0);
  }
  d.reset();
  CHECK_FALSE(d.failed());
  CHECK(d.next(good).ev.type == event_type::stream_data);
}

TEST_CASE("error messages and category", "[proto][errors]") {
  const std::error_code ec = errc::params_too_large;
  CHECK(std::string(ec.category().name()) == "fcgimux.proto");
  CHECK(ec.message().find("PARAMS") != std::string::npos);
  for (int e = static_cast<int>(errc::bad_version); e <= static_cast<int>(errc::name_value_truncated); ++e) {
    CHECK(make_error_code(static_cast<errc>(e)).message().find("unknown") == std::string::npos);
  }
}

TEST_CASE("tolerated oddities are not errors", "[proto][errors]") {
  std::string bytes;
  // ABORT_REQUEST with content it should not have, and unknown types of every id with content.
  bytes += raw_record(1, 2, 1, "junk", 4);
  bytes += raw_record(1, 0, 0, "zero type", 7);
  bytes += raw_record(1, 12, 1, "", 0);
  bytes += raw_record(1, 200, 65535, std::string(1000, 'z'), 255);
  append_stream(bytes, record_type::stdout_stream, 1, "after");
  const decoded whole = decode_whole({}, bytes);
  CHECK_FALSE(whole.error);
  CHECK(whole.consumed == bytes.size());
  const std::vector<std::string> expected = {"abort id=1", "unknown_record type=0 id=0", "unknown_record type=12 id=1",
                                             "unknown_record type=200 id=65535"};
  CHECK(whole.events == expected);
  CHECK(whole.streams.at("1/STDOUT") == "after");
  require_split_invariant({}, bytes);
}
