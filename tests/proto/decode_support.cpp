// SPDX-License-Identifier: ISC
#include "decode_support.hpp"

#include "feed_pieces.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fcgimux::proto::test {

std::string hex(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string describe(const event& ev) {
  std::ostringstream o;
  switch (ev.type) {
    case event_type::none: o << "none"; break;
    case event_type::begin_request:
      o << "begin id=" << ev.request_id << " role=" << ev.role << " flags=" << int(ev.flags)
        << " over_limit=" << ev.over_limit;
      break;
    case event_type::abort_request: o << "abort id=" << ev.request_id; break;
    case event_type::end_request:
      o << "end id=" << ev.request_id << " app_status=" << ev.app_status << " status=" << int(ev.status);
      break;
    case event_type::stream_data: o << "data " << type_name(ev.record_raw) << " id=" << ev.request_id; break;
    case event_type::stream_end: o << "stream_end " << type_name(ev.record_raw) << " id=" << ev.request_id; break;
    case event_type::get_values: o << "get_values " << hex(ev.data); break;
    case event_type::get_values_result: o << "get_values_result " << hex(ev.data); break;
    case event_type::unknown_type: o << "unknown_type " << int(ev.unknown_type); break;
    case event_type::unknown_record:
      o << "unknown_record type=" << int(ev.record_raw) << " id=" << ev.request_id;
      break;
    case event_type::error: o << "error"; break;
  }
  return o.str();
}

decoded decode_pieces(decoder& d, std::string_view bytes, const std::vector<std::size_t>& cuts,
                      const event_hook& hook) {
  decoded out;
  feed_pieces(d, bytes, cuts, [&](const decode_result& r, std::string_view given) {
    REQUIRE(r.consumed <= given.size());
    out.consumed += r.consumed;
    const std::string_view rest = given.substr(r.consumed);
    const event& ev = r.ev;
    if (ev.type == event_type::none) {
      REQUIRE(rest.empty());  // `none` promises that everything was consumed
      return true;
    }
    if (ev.type == event_type::error) {
      out.error = d.error();
      out.events.push_back(describe(ev));
      // Sticky: whatever comes next, nothing more is consumed.
      const decode_result again = d.next(rest.empty() ? std::string_view("x") : rest);
      REQUIRE(again.consumed == 0);
      REQUIRE(again.ev.type == event_type::error);
      REQUIRE(d.error() == out.error);
      return false;
    }
    if (ev.type == event_type::stream_data) {
      REQUIRE(!ev.data.empty());
      out.streams[std::to_string(ev.request_id) + "/" + std::string(type_name(ev.record_raw))] += ev.data;
    } else {
      out.events.push_back(describe(ev));
    }
    if (hook) hook(d, ev);
    return true;
  });
  return out;
}

decoded decode_whole(decoder_limits limits, std::string_view bytes, const event_hook& hook) {
  decoder d(limits);
  return decode_pieces(d, bytes, {}, hook);
}

decoded decode_bytewise(decoder_limits limits, std::string_view bytes, const event_hook& hook) {
  decoder d(limits);
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < bytes.size(); ++i) cuts.push_back(i);
  return decode_pieces(d, bytes, cuts, hook);
}

void require_split_invariant(decoder_limits limits, std::string_view bytes, const event_hook& hook) {
  const decoded whole = decode_whole(limits, bytes, hook);
  REQUIRE(decode_bytewise(limits, bytes, hook) == whole);
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    decoder d(limits);
    const decoded split = decode_pieces(d, bytes, {cut}, hook);
    if (!(split == whole)) {
      INFO("split at " << cut);
      REQUIRE(split == whole);
    }
  }
}

std::string read_fixture(const std::string& name) {
  std::ifstream f(std::filesystem::path(FCGIMUX_FIXTURES_DIR) / name, std::ios::binary);
  std::ostringstream o;
  o << f.rdbuf();
  return o.str();
}

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(FCGIMUX_FIXTURES_DIR)) {
    if (e.path().extension() == ".bin") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace fcgimux::proto::test

std::string Catch::StringMaker<fcgimux::proto::test::decoded>::convert(const fcgimux::proto::test::decoded& d) {
  std::ostringstream o;
  o << "{events:";
  for (const auto& e : d.events) o << " [" << e << "]";
  o << " streams:";
  for (const auto& [k, v] : d.streams) o << " " << k << "=" << v.size() << "B";
  o << " error=" << d.error.message() << " consumed=" << d.consumed << "}";
  return o.str();
}
