// SPDX-License-Identifier: ISC
// Every record type encoded, decoded back, and decoded again from every split of the same bytes.

#include "decode_support.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"

#include <algorithm>
#include <vector>

using namespace fcgimux::proto;
using namespace fcgimux::proto::test;

namespace {

// A conversation touching all eleven types plus an unknown one, with odd content sizes so that
// padding is exercised.
std::string all_records() {
  std::string params;
  append_name_value(params, "REQUEST_METHOD", "POST");
  append_name_value(params, "SCRIPT_FILENAME", std::string(200, 's'));
  std::string gv;
  append_name_value(gv, var_max_conns, "");
  append_name_value(gv, var_mpxs_conns, "");
  std::string gvr;
  append_name_value(gvr, var_max_conns, "10");
  append_name_value(gvr, var_mpxs_conns, "1");

  std::string out;
  append_begin_request(out, 1, static_cast<std::uint16_t>(role::responder), flag_keep_conn);
  append_stream(out, record_type::params, 1, params);
  append_stream_end(out, record_type::params, 1);
  append_stream(out, record_type::stdin_stream, 1, "a=1&b=22");
  append_stream_end(out, record_type::stdin_stream, 1);
  append_stream(out, record_type::data, 1, "filter data!");
  append_stream_end(out, record_type::data, 1);
  append_stream(out, record_type::stdout_stream, 1, "Status: 200\r\n\r\nhello");
  append_stream(out, record_type::stderr_stream, 1, "warn");
  append_stream_end(out, record_type::stdout_stream, 1);
  append_stream_end(out, record_type::stderr_stream, 1);
  append_end_request(out, 1, 0xdeadbeef, protocol_status::overloaded);
  append_abort_request(out, 3);
  append_management(out, record_type::get_values, gv);
  append_management(out, record_type::get_values_result, gvr);
  append_management(out, record_type::get_values, "");
  append_unknown_type(out, 200);
  append_record(out, static_cast<record_type>(12), 0, "mystery");
  append_record(out, static_cast<record_type>(0), 9, "");
  append_record(out, static_cast<record_type>(255), 7, std::string(300, 'u'));
  return out;
}

}  // namespace

TEST_CASE("every record type round-trips", "[proto][records]") {
  const std::string bytes = all_records();
  REQUIRE(bytes.size() % 8 == 0);

  decoder d;
  std::vector<event> events;
  std::vector<std::string> data;
  std::string_view in = bytes;
  for (;;) {
    const decode_result r = d.next(in);
    in.remove_prefix(r.consumed);
    if (r.ev.type == event_type::none) break;
    REQUIRE(r.ev.type != event_type::error);
    events.push_back(r.ev);
    data.emplace_back(r.ev.data);
  }
  REQUIRE(in.empty());
  REQUIRE_FALSE(d.failed());

  std::size_t i = 0;
  auto expect = [&](event_type t, std::uint8_t raw, std::uint16_t id) -> const event& {
    REQUIRE(i < events.size());
    const event& ev = events[i];
    CHECK(ev.type == t);
    CHECK(ev.record_raw == raw);
    CHECK(ev.request_id == id);
    ++i;
    return ev;
  };

  const event& begin = expect(event_type::begin_request, 1, 1);
  CHECK(begin.role == 1);
  CHECK(begin.flags == flag_keep_conn);
  CHECK_FALSE(begin.over_limit);

  expect(event_type::stream_data, 4, 1);
  CHECK(find_name_value(data[i - 1], "REQUEST_METHOD").value == "POST");
  CHECK(find_name_value(data[i - 1], "SCRIPT_FILENAME").value == std::string(200, 's'));
  expect(event_type::stream_end, 4, 1);
  expect(event_type::stream_data, 5, 1);
  CHECK(data[i - 1] == "a=1&b=22");
  expect(event_type::stream_end, 5, 1);
  expect(event_type::stream_data, 8, 1);
  CHECK(data[i - 1] == "filter data!");
  expect(event_type::stream_end, 8, 1);
  expect(event_type::stream_data, 6, 1);
  CHECK(data[i - 1] == "Status: 200\r\n\r\nhello");
  expect(event_type::stream_data, 7, 1);
  CHECK(data[i - 1] == "warn");
  expect(event_type::stream_end, 6, 1);
  expect(event_type::stream_end, 7, 1);
  const event& end = expect(event_type::end_request, 3, 1);
  CHECK(end.app_status == 0xdeadbeef);
  CHECK(end.status == protocol_status::overloaded);
  expect(event_type::abort_request, 2, 3);

  expect(event_type::get_values, 9, 0);
  {
    name_value_reader r(data[i - 1]);
    name_value nv;
    REQUIRE(r.next(nv));
    CHECK(nv.name == var_max_conns);
    CHECK(nv.value.empty());
    REQUIRE(r.next(nv));
    CHECK(nv.name == var_mpxs_conns);
    CHECK_FALSE(r.next(nv));
    CHECK_FALSE(r.error());
  }
  expect(event_type::get_values_result, 10, 0);
  CHECK(find_name_value(data[i - 1], var_max_conns).value == "10");
  CHECK(find_name_value(data[i - 1], var_mpxs_conns).value == "1");
  expect(event_type::get_values, 9, 0);
  CHECK(data[i - 1].empty());

  const event& unknown = expect(event_type::unknown_type, 11, 0);
  CHECK(unknown.unknown_type == 200);
  expect(event_type::unknown_record, 12, 0);
  expect(event_type::unknown_record, 0, 9);
  expect(event_type::unknown_record, 255, 7);
  CHECK(i == events.size());
}

TEST_CASE("the conversation decodes the same whatever the split", "[proto][records][split]") {
  const std::string bytes = all_records();
  require_split_invariant({}, bytes);

  // Server side, with tracking on: the same bytes, the abort for inactive id 3 vanishes.
  const decoder_limits server{64 * 1024, 4};
  const decoded whole = decode_whole(server, bytes);
  CHECK(std::find(whole.events.begin(), whole.events.end(), "abort id=3") == whole.events.end());
  CHECK(std::find(whole.events.begin(), whole.events.end(), "end id=1 app_status=3735928559 status=2") !=
        whole.events.end());
  require_split_invariant(server, bytes);
}

TEST_CASE("three-piece splits of a short conversation agree", "[proto][records][split]") {
  std::string bytes;
  append_begin_request(bytes, 5, 1, 0);
  append_stream(bytes, record_type::params, 5,
                std::string("\x01\x02"
                            "abc",
                            5));
  append_stream_end(bytes, record_type::params, 5);
  append_stream_end(bytes, record_type::stdin_stream, 5);
  append_management(bytes, record_type::get_values,
                    std::string("\x0d\x00"
                                "FCGI_MAX_REQS",
                                15));
  const decoded whole = decode_whole({}, bytes);
  REQUIRE_FALSE(whole.error);
  for (std::size_t a = 0; a <= bytes.size(); ++a) {
    for (std::size_t b = a; b <= bytes.size(); ++b) {
      decoder d;
      const decoded split = decode_pieces(d, bytes, {a, b});
      if (!(split == whole)) {
        INFO("cuts " << a << ", " << b);
        REQUIRE(split == whole);
      }
    }
  }
}

TEST_CASE("stream data is a view of the caller's bytes", "[proto][records]") {
  std::string bytes;
  append_stream(bytes, record_type::stdout_stream, 1, std::string(1000, 'x'));
  decoder d;
  const decode_result r = d.next(bytes);
  REQUIRE(r.ev.type == event_type::stream_data);
  CHECK(r.ev.data.data() == bytes.data() + header_size);
  CHECK(r.ev.data.size() == 1000);
}

TEST_CASE("a split BEGIN_REQUEST body is gathered into one event", "[proto][records]") {
  std::string bytes;
  append_begin_request(bytes, 42, static_cast<std::uint16_t>(role::filter), 0);
  decoder d;
  CHECK(d.next(std::string_view(bytes).substr(0, 11)).ev.type == event_type::none);
  const decode_result r = d.next(std::string_view(bytes).substr(11));
  REQUIRE(r.ev.type == event_type::begin_request);
  CHECK(r.ev.role == 3);
  CHECK(r.ev.request_id == 42);
  CHECK(r.consumed == 5);
}

TEST_CASE("reset returns to the initial state", "[proto][records]") {
  std::string bytes;
  append_begin_request(bytes, 1, 1, 0);
  decoder d({1024, 2});
  CHECK(d.next(std::string_view(bytes).substr(0, 3)).ev.type == event_type::none);
  d.reset();
  const decode_result r = d.next(bytes);
  CHECK(r.ev.type == event_type::begin_request);
  CHECK(r.consumed == bytes.size());
  CHECK(d.active_requests() == 1);
  d.reset();
  CHECK(d.active_requests() == 0);
  CHECK(d.limits().max_active_requests == 2);
}

// A front connection may change hands (SIGUSR2) only between records: say so exactly.
TEST_CASE("between_records: true after each whole record, false inside one", "[proto][records]") {
  std::string bytes;
  append_begin_request(bytes, 1, 1, 0);
  append_stream(bytes, record_type::stdin_stream, 1, "abc");  // 3 bytes and 5 of padding
  append_stream_end(bytes, record_type::stdin_stream, 1);
  decoder d;
  CHECK(d.between_records());
  std::string_view in(bytes);
  CHECK(d.next(in.substr(0, 3)).ev.type == event_type::none);
  CHECK_FALSE(d.between_records());  // half a header
  in.remove_prefix(3);
  decode_result r = d.next(in);
  REQUIRE(r.ev.type == event_type::begin_request);
  CHECK(d.between_records());
  in.remove_prefix(r.consumed);
  r = d.next(in.substr(0, 10));  // the header and 2 of the 3 data bytes
  REQUIRE(r.ev.type == event_type::stream_data);
  CHECK_FALSE(d.between_records());
  in.remove_prefix(r.consumed);
  r = d.next(in.substr(0, 3));  // the last data byte and 2 of the 5 padding bytes
  CHECK_FALSE(d.between_records());
  in.remove_prefix(r.consumed);
  while (!in.empty()) {
    r = d.next(in);
    in.remove_prefix(r.consumed);
    if (r.ev.type == event_type::stream_end) break;
  }
  CHECK(in.empty());
  CHECK(d.between_records());  // the empty STDIN ended the stream; nothing is pending
}

TEST_CASE("role bits: each FastCGI 1.0 role has its own, any other number none", "[proto][records]") {
  CHECK(role_bit(role::responder) != role_bit(role::authorizer));
  CHECK(role_bit(role::authorizer) != role_bit(role::filter));
  CHECK((role_bit(role::responder) & role_bit(role::filter)) == 0);
  for (std::uint16_t unknown : {0, 4, 8, 255, 256, 65535}) CHECK(role_bit(unknown) == 0);
  CHECK(role_name(role::authorizer) == "authorizer");
  CHECK(role_name(role::filter) == "filter");
  // A BEGIN_REQUEST of each role decodes to its number, for the front to check against a pool's set.
  for (role r : {role::responder, role::authorizer, role::filter}) {
    std::string bytes;
    append_begin_request(bytes, 1, static_cast<std::uint16_t>(r), 0);
    decoder d;
    auto ev = d.next(bytes).ev;
    REQUIRE(ev.type == event_type::begin_request);
    CHECK(role_bit(ev.role) == role_bit(r));
  }
}
