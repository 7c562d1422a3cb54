// SPDX-License-Identifier: ISC
// The balancer behind fake servers (balance slots, no sockets): least outstanding per weight,
// weighted round-robin, first; never a server without room; backups only when the rest are full.
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"
#include "src/pool/balancer.hpp"
#include "src/upstream/server_values.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <vector>

using namespace fcgimux;

namespace {

balance_slot server(std::size_t weight, std::size_t limit, bool backup = false) {
  balance_slot s;
  s.weight = weight;
  s.limit = limit;
  s.backup = backup;
  return s;
}

// Takes `n` requests one after the other, each staying in flight; returns how many each got.
std::vector<std::size_t> take(balancer& b, std::vector<balance_slot>& slots, std::size_t n) {
  std::vector<std::size_t> got(slots.size());
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = b.pick(slots);
    if (i == balancer::none) break;
    ++slots[i].in_flight;
    ++got[i];
  }
  return got;
}

}  // namespace

TEST_CASE("least outstanding sends each request to the server with the fewest in flight", "[balancer]") {
  balancer b;
  std::vector<balance_slot> slots{server(1, 10), server(1, 10), server(1, 10)};
  slots[0].in_flight = 2;
  slots[1].in_flight = 0;
  slots[2].in_flight = 1;
  CHECK(b.pick(slots) == 1);
  // Filled up evenly from there: 2, 2, 2 after three more.
  auto got = take(b, slots, 3);
  CHECK(got == std::vector<std::size_t>{0, 2, 1});
  CHECK(slots[0].in_flight == 2);
  CHECK(slots[1].in_flight == 2);
  CHECK(slots[2].in_flight == 2);
}

TEST_CASE("least outstanding counts in flight per weight", "[balancer]") {
  balancer b;
  std::vector<balance_slot> slots{server(3, 100), server(1, 100)};
  auto got = take(b, slots, 40);
  CHECK(got[0] == 30);
  CHECK(got[1] == 10);
}

TEST_CASE("least outstanding lets equal servers take turns", "[balancer]") {
  balancer b;
  std::vector<balance_slot> slots{server(1, 5), server(1, 5), server(1, 5)};
  // Each request ends before the next: every server is always at 0, and still they alternate.
  std::map<std::size_t, int> picked;
  for (int k = 0; k < 9; ++k) ++picked[b.pick(slots)];
  CHECK(picked[0] == 3);
  CHECK(picked[1] == 3);
  CHECK(picked[2] == 3);
}

TEST_CASE("no server is given more than its limit", "[balancer]") {
  for (auto mode : {balance_mode::least_outstanding, balance_mode::round_robin, balance_mode::first}) {
    balancer b(mode);
    std::vector<balance_slot> slots{server(5, 2), server(1, 3)};
    auto got = take(b, slots, 100);
    CHECK(got == std::vector<std::size_t>{2, 3});
    CHECK(b.pick(slots) == balancer::none);
    // One ends: exactly that one has room again.
    --slots[1].in_flight;
    CHECK(b.pick(slots) == 1);
  }
}

TEST_CASE("a server whose limit is not known yet takes nothing", "[balancer]") {
  balancer b;
  std::vector<balance_slot> slots{server(1, 0), server(1, 4)};
  slots[0].usable = false;
  slots[0].limit = 0;
  auto got = take(b, slots, 10);
  CHECK(got == std::vector<std::size_t>{0, 4});
}

TEST_CASE("backups take requests only while every other server is full", "[balancer]") {
  for (auto mode : {balance_mode::least_outstanding, balance_mode::round_robin, balance_mode::first}) {
    balancer b(mode);
    std::vector<balance_slot> slots{server(1, 2, true), server(1, 2), server(1, 1)};
    auto got = take(b, slots, 3);
    CHECK(got == std::vector<std::size_t>{0, 2, 1});
    CHECK(b.pick(slots) == 0);
    --slots[2].in_flight;
    CHECK(b.pick(slots) == 2);
  }
}

TEST_CASE("round-robin is weighted and smooth", "[balancer]") {
  balancer b(balance_mode::round_robin);
  std::vector<balance_slot> slots{server(3, 100), server(1, 100)};
  std::vector<std::size_t> order;
  for (int k = 0; k < 8; ++k) order.push_back(b.pick(slots));  // each ends before the next
  CHECK(order == std::vector<std::size_t>{0, 0, 1, 0, 0, 0, 1, 0});
}

TEST_CASE("round-robin skips a full server without losing its turn order", "[balancer]") {
  balancer b(balance_mode::round_robin);
  std::vector<balance_slot> slots{server(1, 100), server(1, 1), server(1, 100)};
  slots[1].in_flight = 1;
  std::map<std::size_t, int> picked;
  for (int k = 0; k < 10; ++k) ++picked[b.pick(slots)];
  CHECK(picked[0] == 5);
  CHECK(picked[1] == 0);
  CHECK(picked[2] == 5);
}

TEST_CASE("first fills the servers in their order", "[balancer]") {
  balancer b(balance_mode::first);
  std::vector<balance_slot> slots{server(1, 2), server(9, 2), server(1, 2)};
  auto got = take(b, slots, 5);
  CHECK(got == std::vector<std::size_t>{2, 2, 1});
}

TEST_CASE("no servers: nothing to pick", "[balancer]") {
  balancer b;
  std::vector<balance_slot> slots;
  CHECK(b.pick(slots) == balancer::none);
}

TEST_CASE("a GET_VALUES_RESULT is read whole, split anywhere", "[server_values]") {
  // libfcgi's answer carries all three; php-fpm's names only FCGI_MPXS_CONNS.
  std::string block;
  proto::append_name_value(block, "FCGI_MAX_CONNS", "12");
  proto::append_name_value(block, "FCGI_MAX_REQS", "12");
  proto::append_name_value(block, "FCGI_MPXS_CONNS", "0");
  std::string answer;
  proto::append_management(answer, proto::record_type::get_values_result, block);
  // Whole once its content is (its padding may still be on the way).
  const std::size_t content_end =
      8 + ((static_cast<unsigned char>(answer[4]) << 8) | static_cast<unsigned char>(answer[5]));
  for (std::size_t cut = 0; cut < content_end; ++cut) {
    std::error_code ec;
    CHECK_FALSE(read_values_answer(std::string_view(answer).substr(0, cut), ec));
    CHECK_FALSE(ec);
  }
  std::error_code ec;
  auto v = read_values_answer(answer, ec);
  REQUIRE(v);
  CHECK(*v->max_conns == 12);
  CHECK(*v->max_reqs == 12);
  CHECK(*v->mpxs_conns == false);

  std::string fpm_block, fpm;
  proto::append_name_value(fpm_block, "FCGI_MPXS_CONNS", "0");
  proto::append_management(fpm, proto::record_type::get_values_result, fpm_block);
  v = read_values_answer(fpm, ec);
  REQUIRE(v);
  CHECK_FALSE(v->max_conns);
  CHECK(*v->mpxs_conns == false);
}

TEST_CASE("anything else than a GET_VALUES_RESULT is not an answer", "[server_values]") {
  std::string other;
  proto::append_end_request(other, 1, 0, proto::protocol_status::request_complete);
  std::error_code ec;
  CHECK_FALSE(read_values_answer(other, ec));
  CHECK(ec);
  ec.clear();
  CHECK_FALSE(read_values_answer(std::string(16, 'x'), ec));
  CHECK(ec);
}

TEST_CASE("the query asks for the three variables", "[server_values]") {
  std::string q = get_values_query();
  REQUIRE(q.size() > 8);
  CHECK(static_cast<std::uint8_t>(q[1]) == static_cast<std::uint8_t>(proto::record_type::get_values));
  std::string_view block =
      std::string_view(q).substr(8, (static_cast<unsigned char>(q[4]) << 8) | static_cast<unsigned char>(q[5]));
  CHECK(proto::find_name_value(block, "FCGI_MAX_CONNS").found);
  CHECK(proto::find_name_value(block, "FCGI_MAX_REQS").found);
  CHECK(proto::find_name_value(block, "FCGI_MPXS_CONNS").found);
}
