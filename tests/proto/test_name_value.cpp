// SPDX-License-Identifier: ISC
// Name-value pairs: the 127/128 length boundary, 4-byte lengths, truncation.

#include "decode_support.hpp"
#include "proto/name_value.hpp"

using namespace fcgimux::proto;
using namespace fcgimux::proto::test;

TEST_CASE("lengths up to 127 take one byte, from 128 four", "[proto][name_value]") {
  for (std::size_t n : {0, 1, 126, 127, 128, 129, 255, 256, 65535, 65536, 300000}) {
    for (std::size_t v : {0, 127, 128, 70000}) {
      INFO("name " << n << " value " << v);
      const std::string name(n, 'n');
      const std::string value(v, 'v');
      std::string out;
      append_name_value(out, name, value);
      const std::size_t name_len_size = n < 128 ? 1 : 4;
      const std::size_t value_len_size = v < 128 ? 1 : 4;
      REQUIRE(out.size() == name_len_size + value_len_size + n + v);
      REQUIRE(encoded_size(name, value) == out.size());
      const auto* u = reinterpret_cast<const unsigned char*>(out.data());
      if (n < 128) {
        CHECK(u[0] == n);
      } else {
        CHECK((u[0] & 0x80) != 0);
        CHECK((static_cast<std::size_t>(u[0] & 0x7f) << 24 | std::size_t{u[1]} << 16 | std::size_t{u[2]} << 8 | u[3]) ==
              n);
      }
      name_value_reader r(out);
      name_value nv;
      REQUIRE(r.next(nv));
      CHECK(nv.name == name);
      CHECK(nv.value == value);
      CHECK_FALSE(r.next(nv));
      CHECK_FALSE(r.error());
    }
  }
}

TEST_CASE("small lengths written in four bytes decode", "[proto][name_value]") {
  const std::string block(
      "\x80\x00\x00\x03"
      "\x80\x00\x00\x00"
      "abc"
      "\x01\x80\x00\x00\x02"
      "dxy",
      19);
  name_value_reader r(block);
  name_value nv;
  REQUIRE(r.next(nv));
  CHECK(nv.name == "abc");
  CHECK(nv.value.empty());
  REQUIRE(r.next(nv));
  CHECK(nv.name == "d");
  CHECK(nv.value == "xy");
  CHECK_FALSE(r.next(nv));
  CHECK_FALSE(r.error());
  CHECK_FALSE(validate_name_values(block));
}

TEST_CASE("every cut inside a pair is reported as truncated", "[proto][name_value]") {
  std::string block;
  append_name_value(block, "REQUEST_METHOD", "GET");
  const std::size_t first = block.size();
  append_name_value(block, std::string(130, 'N'), std::string(200, 'V'));
  for (std::size_t cut = 0; cut <= block.size(); ++cut) {
    INFO("cut " << cut);
    const std::string_view part = std::string_view(block).substr(0, cut);
    const bool whole_pairs = cut == 0 || cut == first || cut == block.size();
    CHECK(static_cast<bool>(validate_name_values(part)) == !whole_pairs);
    if (!whole_pairs) CHECK(validate_name_values(part) == errc::name_value_truncated);
  }
}

TEST_CASE("a reader error is sticky", "[proto][name_value]") {
  const std::string block(
      "\x02\x02"
      "ab",
      4);
  name_value_reader r(block);
  name_value nv;
  CHECK_FALSE(r.next(nv));
  CHECK(r.error() == errc::name_value_truncated);
  CHECK_FALSE(r.next(nv));
  CHECK(r.error() == errc::name_value_truncated);
}

TEST_CASE("find_name_value returns the first match", "[proto][name_value]") {
  std::string block;
  append_name_value(block, "A", "1");
  append_name_value(block, "", "empty name");
  append_name_value(block, "A", "2");
  CHECK(find_name_value(block, "A").found);
  CHECK(find_name_value(block, "A").value == "1");
  CHECK(find_name_value(block, "").value == "empty name");
  CHECK_FALSE(find_name_value(block, "B").found);
  CHECK_FALSE(find_name_value(block + "\x05", "B").found);
  CHECK_FALSE(find_name_value("", "A").found);
}
