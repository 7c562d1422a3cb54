// SPDX-License-Identifier: ISC
// Slow start's arithmetic behind a fake clock (time points made by hand, no sockets): the weight
// grows linearly from a floor to the full one over --slow-start, and the balancer's shares follow.
#include "src/pool/balancer.hpp"
#include "src/pool/slow_start.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace fcgimux;
using namespace std::chrono_literals;

namespace {

const slow_start::time_point t0 = slow_start::time_point{} + 1000s;
constexpr slow_start::duration ramp = 20s;
constexpr std::size_t full = 4 * weight_scale;

}  // namespace

TEST_CASE("slow start: off means the full weight", "[slow_start]") {
  slow_start s;
  CHECK(!s.starting(t0, ramp));
  CHECK(s.weight(4, t0, ramp) == full);
  // A ramp with a length of 0 (slow-start 0) is over at once.
  s.begin(t0);
  CHECK(!s.starting(t0, 0s));
  CHECK(s.weight(4, t0, 0s) == full);
}

TEST_CASE("slow start: the weight grows linearly from the floor to the full weight", "[slow_start]") {
  slow_start s;
  s.begin(t0);
  const std::size_t floor = full / slow_start::floor_divisor;
  CHECK(s.starting(t0, ramp));
  CHECK(s.weight(4, t0, ramp) == floor);
  CHECK(s.weight(4, t0 + 5s, ramp) == floor + (full - floor) / 4);
  CHECK(s.weight(4, t0 + 10s, ramp) == floor + (full - floor) / 2);
  CHECK(s.weight(4, t0 + 15s, ramp) == floor + 3 * (full - floor) / 4);
  CHECK(s.starting(t0 + 19s, ramp));
  CHECK(s.weight(4, t0 + 19999ms, ramp) < full);
  CHECK(!s.starting(t0 + 20s, ramp));
  CHECK(s.weight(4, t0 + 20s, ramp) == full);
  CHECK(s.weight(4, t0 + 1h, ramp) == full);
  // Never decreasing along the way.
  std::size_t before = 0;
  for (auto t = t0; t <= t0 + ramp; t += 250ms) {
    CHECK(s.weight(4, t, ramp) >= before);
    before = s.weight(4, t, ramp);
  }
}

TEST_CASE("slow start: held at the floor until it begins; cancelled is full", "[slow_start]") {
  slow_start s;
  s.hold();
  CHECK(s.held());
  CHECK(s.starting(t0 + 1h, ramp));
  CHECK(s.weight(1, t0 + 1h, ramp) == weight_scale / slow_start::floor_divisor);
  s.begin(t0);
  CHECK(!s.held());
  CHECK(s.weight(1, t0 + 10s, ramp) > weight_scale / slow_start::floor_divisor);
  s.cancel();
  CHECK(!s.starting(t0 + 10s, ramp));
  CHECK(s.weight(1, t0 + 10s, ramp) == weight_scale);
}

TEST_CASE("slow start: a weight of 1 still ramps in small steps, never to 0", "[slow_start]") {
  slow_start s;
  s.begin(t0);
  CHECK(s.weight(1, t0, ramp) >= 1);
  CHECK(s.weight(1, t0, ramp) < s.weight(1, t0 + 1s, ramp));
  CHECK(s.weight(0, t0, ramp) >= 1);
}

// Shares of two servers, one ramping, as the balancer hands out `n` requests that each stay in
// flight (round-robin) or end before the next (least outstanding at concurrency 1).
TEST_CASE("slow start: a starting server's share under the balancer follows its weight", "[slow_start][balancer]") {
  auto shares = [](balance_mode mode, std::size_t ramping_weight, bool stay) {
    balancer b(mode);
    std::vector<balance_slot> slots(2);
    for (auto& sl : slots) sl.limit = 100000;
    slots[0].weight = full;
    slots[1].weight = ramping_weight;
    std::vector<std::size_t> got(2);
    for (int k = 0; k < 1000; ++k) {
      const std::size_t i = b.pick(slots);
      REQUIRE(i != balancer::none);
      ++got[i];
      if (stay) ++slots[i].in_flight;
    }
    return got;
  };
  slow_start s;
  s.begin(t0);
  const std::size_t quarter = s.weight(4, t0 + 5s, ramp);  // about a quarter of the way
  // Round-robin: exactly proportional to the weights.
  auto rr = shares(balance_mode::round_robin, quarter, false);
  CHECK(rr[1] == Approx(1000.0 * quarter / (full + quarter)).margin(2));
  // Least outstanding with every request staying: in flight proportional to the weights.
  auto lo = shares(balance_mode::least_outstanding, quarter, true);
  CHECK(lo[1] == Approx(1000.0 * quarter / (full + quarter)).margin(2));
  // Least outstanding at concurrency 1 (each ends before the next): the full server takes all
  // of them while the other is lighter, where without the + 1 rule they would alternate.
  auto one = shares(balance_mode::least_outstanding, quarter, false);
  CHECK(one[1] == 0);
  // Full weight again: even shares.
  auto even = shares(balance_mode::least_outstanding, s.weight(4, t0 + ramp, ramp), false);
  CHECK(even[0] == 500);
  CHECK(even[1] == 500);
}
