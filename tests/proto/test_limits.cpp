// SPDX-License-Identifier: ISC
// Server-side limits: active ids, over_limit, records of inactive ids, the PARAMS budget.

#include "decode_support.hpp"
#include "proto/encoder.hpp"

using namespace fcgimux::proto;
using namespace fcgimux::proto::test;

namespace {

std::string request(std::uint16_t id, std::string_view params, std::string_view body) {
  std::string out;
  append_begin_request(out, id, 1, flag_keep_conn);
  append_stream(out, record_type::params, id, params);
  append_stream_end(out, record_type::params, id);
  append_stream(out, record_type::stdin_stream, id, body);
  append_stream_end(out, record_type::stdin_stream, id);
  return out;
}

}  // namespace

TEST_CASE("the request over max_active_requests is flagged and not tracked", "[proto][limits]") {
  const decoder_limits limits{1024, 2};
  const std::string bytes = request(1,
                                    "\x01\x01"
                                    "ab",
                                    "x") +
                            request(3, "", "y") +
                            request(5,
                                    "\x01\x01"
                                    "cd",
                                    "z");
  const decoded whole = decode_whole(limits, bytes);
  REQUIRE_FALSE(whole.error);
  const std::vector<std::string> expected = {
      "begin id=1 role=1 flags=1 over_limit=0", "stream_end PARAMS id=1", "stream_end STDIN id=1",
      "begin id=3 role=1 flags=1 over_limit=0", "stream_end PARAMS id=3", "stream_end STDIN id=3",
      // id 5: only its BEGIN_REQUEST shows; its other records are ignored as an inactive id's.
      "begin id=5 role=1 flags=1 over_limit=1"};
  CHECK(whole.events == expected);
  CHECK(whole.streams.count("5/PARAMS") == 0);
  CHECK(whole.streams.count("5/STDIN") == 0);
  CHECK(whole.streams.at("3/STDIN") == "y");
  require_split_invariant(limits, bytes);

  decoder d(limits);
  decode_pieces(d, bytes, {});
  CHECK(d.active_requests() == 2);
  CHECK(d.is_active(1));
  CHECK(d.is_active(3));
  CHECK_FALSE(d.is_active(5));
}

TEST_CASE("records of inactive ids are consumed without events", "[proto][limits]") {
  std::string bytes;
  append_stream(bytes, record_type::params, 7,
                "\x01\x01"
                "ab");
  append_stream_end(bytes, record_type::params, 7);
  append_stream(bytes, record_type::stdin_stream, 7, std::string(70000, 'i'));
  append_abort_request(bytes, 7);
  append_end_request(bytes, 7, 0, protocol_status::request_complete);
  append_stream(bytes, record_type::data, 9, "d");
  const decoder_limits limits{16, 1};
  const decoded whole = decode_whole(limits, bytes);
  CHECK_FALSE(whole.error);
  CHECK(whole.events.empty());
  CHECK(whole.streams.empty());
  CHECK(whole.consumed == bytes.size());
  require_split_invariant(limits, bytes);

  // Without tracking the same records are all delivered (the client side decoding a worker).
  const decoded client = decode_whole({}, bytes);
  CHECK(client.events.size() == 3);
  CHECK(client.streams.at("7/STDIN").size() == 70000);
}

TEST_CASE("release lets an id begin again and frees a slot", "[proto][limits]") {
  const decoder_limits limits{1024, 1};
  const std::string bytes = request(1, "", "a") + request(1, "", "b") + request(2, "", "c");
  // Without release, the second BEGIN_REQUEST for id 1 is a duplicate.
  CHECK(decode_whole(limits, bytes).error == errc::duplicate_request_id);

  // A server releases the id once the request is answered (here: at the end of its STDIN).
  const event_hook release_on_stdin_end = [](decoder& d, const event& ev) {
    if (ev.type == event_type::stream_end && ev.record() == record_type::stdin_stream) d.release(ev.request_id);
  };
  const decoded whole = decode_whole(limits, bytes, release_on_stdin_end);
  REQUIRE_FALSE(whole.error);
  CHECK(whole.streams.at("1/STDIN") == "ab");
  CHECK(whole.streams.at("2/STDIN") == "c");
  CHECK(whole.events.size() == 9);
  require_split_invariant(limits, bytes, release_on_stdin_end);

  decoder d(limits);
  d.release(77);  // unknown id: nothing happens
  CHECK(d.active_requests() == 0);
}

TEST_CASE("the PARAMS budget is per request, summed over records", "[proto][limits]") {
  const decoder_limits limits{100, 4};
  std::string exactly;
  append_begin_request(exactly, 1, 1, 0);
  append_begin_request(exactly, 2, 1, 0);
  for (int i = 0; i < 4; ++i) {
    append_stream(exactly, record_type::params, 1, std::string(25, 'a'));
    append_stream(exactly, record_type::params, 2, std::string(25, 'b'));
  }
  const decoded ok = decode_whole(limits, exactly);
  CHECK_FALSE(ok.error);
  CHECK(ok.streams.at("1/PARAMS").size() == 100);
  CHECK(ok.streams.at("2/PARAMS").size() == 100);

  std::string over = exactly;
  append_stream(over, record_type::params, 2, "b");
  const decoded bad = decode_whole(limits, over);
  CHECK(bad.error == errc::params_too_large);
  // Rejected at the header: none of the record's content was delivered.
  CHECK(bad.streams.at("2/PARAMS").size() == 100);
  require_split_invariant(limits, over);

  // A released id starts with a fresh budget.
  decoder d(limits);
  decode_pieces(d, exactly, {});
  d.release(2);
  std::string again;
  append_begin_request(again, 2, 1, 0);
  append_stream(again, record_type::params, 2, std::string(100, 'c'));
  const decoded fresh = decode_pieces(d, again, {});
  CHECK_FALSE(fresh.error);
}

TEST_CASE("without tracking no id is checked", "[proto][limits]") {
  std::string bytes;
  append_begin_request(bytes, 1, 1, 0);
  append_begin_request(bytes, 1, 1, 0);
  append_stream(bytes, record_type::params, 1, std::string(200000, 'p'));
  const decoded d = decode_whole({10, 0}, bytes);
  CHECK_FALSE(d.error);
  CHECK(d.events.size() == 2);
  CHECK(d.streams.at("1/PARAMS").size() == 200000);
}
