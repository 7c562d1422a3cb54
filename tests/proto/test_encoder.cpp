// SPDX-License-Identifier: ISC
// Encoder: padding to 8, splitting of long streams, GET_VALUES blocks.

#include "decode_support.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"

using namespace fcgimux::proto;
using namespace fcgimux::proto::test;

TEST_CASE("records are padded to a multiple of 8", "[proto][encoder]") {
  for (std::size_t n = 0; n <= 17; ++n) {
    INFO("content " << n);
    std::string out = "prefix";
    append_record(out, record_type::stdout_stream, 258, std::string(n, 'c'));
    const std::string_view rec = std::string_view(out).substr(6);
    const record_header h = parse_header(rec.data());
    CHECK(h.version == 1);
    CHECK(h.type == 6);
    CHECK(h.request_id == 258);
    CHECK(h.content_length == n);
    CHECK(h.padding_length == padding_for(n));
    CHECK((n + h.padding_length) % 8 == 0);
    CHECK(h.padding_length < 8);
    CHECK(rec.size() == header_size + n + h.padding_length);
    CHECK(rec.substr(header_size + n) == std::string(h.padding_length, '\0'));
  }
}

TEST_CASE("append_header writes the header only", "[proto][encoder]") {
  std::string out;
  append_header(out, record_type::stdin_stream, 1, 32768, 0);
  REQUIRE(out.size() == header_size);
  const record_header h = parse_header(out.data());
  CHECK(h.type == 5);
  CHECK(h.content_length == 32768);
  CHECK(h.padding_length == 0);
  char back[header_size];
  write_header(back, h);
  CHECK(std::string_view(back, header_size) == out);
}

TEST_CASE("long streams are split into records of at most 65535 bytes", "[proto][encoder]") {
  for (std::size_t n : {0, 1, 65534, 65535, 65536, 131070, 131071, 200000}) {
    INFO("data " << n);
    std::string data(n, '\0');
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<char>(i * 7);
    std::string out;
    append_stream(out, record_type::stdout_stream, 1, data);
    std::size_t records = 0;
    std::size_t total = 0;
    for (std::string_view rest = out; !rest.empty(); ++records) {
      const record_header h = parse_header(rest.data());
      CHECK(h.content_length > 0);
      CHECK(h.content_length <= max_content_length);
      total += h.content_length;
      rest.remove_prefix(header_size + h.content_length + h.padding_length);
    }
    CHECK(total == n);
    CHECK(records == (n + max_content_length - 1) / max_content_length);
    CHECK(out.size() % 8 == 0);
    const decoded d = decode_whole({}, out);
    CHECK(d.events.empty());
    if (n > 0) CHECK(d.streams.at("1/STDOUT") == data);
  }
}

TEST_CASE("END_REQUEST, UNKNOWN_TYPE and BEGIN_REQUEST bodies", "[proto][encoder]") {
  std::string out;
  append_end_request(out, 9, 0x01020304, protocol_status::unknown_role);
  CHECK(hex(out) ==
        "0103000900080000"
        "0102030403000000");
  out.clear();
  append_unknown_type(out, 77);
  CHECK(hex(out) ==
        "010b000000080000"
        "4d00000000000000");
  out.clear();
  append_begin_request(out, 0x1234, 0x0102, flag_keep_conn);
  CHECK(hex(out) ==
        "0101123400080000"
        "0102010000000000");
  out.clear();
  append_abort_request(out, 1);
  CHECK(hex(out) == "0102000100000000");
  out.clear();
  append_stream_end(out, record_type::params, 1);
  CHECK(hex(out) == "0104000100000000");
}

TEST_CASE("GET_VALUES query and answer", "[proto][encoder][name_value]") {
  std::string query;
  append_name_value(query, var_max_conns, "");
  append_name_value(query, var_max_reqs, "");
  append_name_value(query, var_mpxs_conns, "");
  std::string bytes;
  append_management(bytes, record_type::get_values, query);
  CHECK(parse_header(bytes.data()).request_id == 0);

  // Answer it the way a server does: echo each known name with its value.
  decoder server({1024, 8});
  const decode_result r = server.next(bytes);
  REQUIRE(r.ev.type == event_type::get_values);
  CHECK(r.ev.data == query);
  std::string answer;
  name_value_reader reader(r.ev.data);
  name_value nv;
  while (reader.next(nv)) append_name_value(answer, nv.name, nv.name == var_mpxs_conns ? "1" : "100");
  REQUIRE_FALSE(reader.error());
  std::string reply;
  append_management(reply, record_type::get_values_result, answer);

  decoder client;
  const decode_result a = client.next(reply);
  REQUIRE(a.ev.type == event_type::get_values_result);
  CHECK(find_name_value(a.ev.data, var_max_conns).value == "100");
  CHECK(find_name_value(a.ev.data, var_max_reqs).value == "100");
  CHECK(find_name_value(a.ev.data, var_mpxs_conns).value == "1");
  require_split_invariant({}, reply);

  // A block near the 64 KiB limit, gathered when split.
  std::string big;
  while (big.size() < 65000) append_name_value(big, "NAME" + std::to_string(big.size()), std::string(300, 'v'));
  std::string big_bytes;
  append_management(big_bytes, record_type::get_values_result, big);
  const decoded whole = decode_whole({}, big_bytes);
  REQUIRE_FALSE(whole.error);
  CHECK(whole.events.at(0) == "get_values_result " + hex(big));
  CHECK(decode_bytewise({}, big_bytes) == whole);
}

TEST_CASE("type names", "[proto][encoder]") {
  CHECK(type_name(1) == "BEGIN_REQUEST");
  CHECK(type_name(6) == "STDOUT");
  CHECK(type_name(11) == "UNKNOWN_TYPE");
  CHECK(type_name(0) == "UNKNOWN");
  CHECK(type_name(12) == "UNKNOWN");
}

TEST_CASE("a name-value record too large for one record leaves out whole pairs, never cuts one", "[proto][encoder]") {
  std::string block;
  std::size_t fits = 0;  // the block's size at the last pair boundary within 65535 bytes
  for (int i = 0; block.size() < 70000; ++i) {
    append_name_value(block, "NAME" + std::to_string(i), std::string(300, 'v'));
    if (block.size() <= max_content_length) fits = block.size();
  }
  std::string bytes;
  append_management(bytes, record_type::get_values_result, block);
  const decoded whole = decode_whole({}, bytes);
  REQUIRE_FALSE(whole.error);  // a cut pair would be name_value_truncated
  REQUIRE(whole.events.size() == 1);
  CHECK(whole.events.at(0) == "get_values_result " + hex(block.substr(0, fits)));
  // Bytes that are no pair at all are no more sent than a cut one.
  std::string odd;
  append_management(odd, record_type::get_values, block.substr(0, 100) + "\x05");
  CHECK_FALSE(decode_whole({}, odd).error);
}
