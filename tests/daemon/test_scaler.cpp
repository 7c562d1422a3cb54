// SPDX-License-Identifier: ISC
#include "src/pool/scaler.hpp"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using fcgimux::pool_counts;
using fcgimux::scaler;
using fcgimux::scaler_config;

TEST_CASE("the minimum is started at once, whatever the rate") {
  auto t0 = scaler::clock::now();
  scaler s(scaler_config{8, 16, 0, 1, 300}, t0);
  CHECK(s.take_starts(pool_counts{0, 0, 0, 0}, t0) == 8);
}

TEST_CASE("waiting requests get as many workers as they need, up to the maximum") {
  auto t0 = scaler::clock::now();
  scaler s(scaler_config{2, 16, 0, 160, 300}, t0);
  // 2 busy, 30 waiting: 14 more is all the maximum allows.
  CHECK(s.wanted(pool_counts{2, 0, 0, 30}) == 14);
  CHECK(s.take_starts(pool_counts{2, 0, 0, 30}, t0) == 14);
  // Workers already starting count against the need.
  CHECK(s.wanted(pool_counts{6, 4, 0, 5}) == 1);
  CHECK(s.wanted(pool_counts{16, 0, 0, 50}) == 0);
  // An idle worker takes a waiting request before anything starts.
  CHECK(s.wanted(pool_counts{3, 0, 1, 1}) == 0);
}

TEST_CASE("the spawn rate is a token bucket") {
  auto t0 = scaler::clock::now();
  scaler s(scaler_config{1, 100, 0, 10, 300}, t0);  // 10 per second, bucket of 10
  CHECK(s.take_starts(pool_counts{1, 0, 0, 50}, t0) == 10);
  CHECK(s.take_starts(pool_counts{11, 10, 0, 50}, t0) == 0);
  auto next = s.next_token_at(t0);
  CHECK(next > t0);
  CHECK(next <= t0 + 101ms);
  CHECK(s.take_starts(pool_counts{11, 0, 0, 50}, t0 + 500ms) == 5);
}

TEST_CASE("spare workers are kept ready below the maximum") {
  auto t0 = scaler::clock::now();
  scaler s(scaler_config{2, 10, 3, 100, 300}, t0);
  CHECK(s.wanted(pool_counts{2, 0, 0, 0}) == 3);
  CHECK(s.wanted(pool_counts{5, 0, 3, 0}) == 0);
  CHECK(s.wanted(pool_counts{9, 0, 0, 0}) == 1);
}

TEST_CASE("release: only after the idle timeout, never below the minimum or while requests wait") {
  auto t0 = scaler::clock::now();
  scaler s(scaler_config{2, 8, 0, 80, 10}, t0);
  CHECK_FALSE(s.may_release(pool_counts{4, 0, 2, 0}, t0, t0 + 9s));
  CHECK(s.may_release(pool_counts{4, 0, 2, 0}, t0, t0 + 10s));
  CHECK_FALSE(s.may_release(pool_counts{2, 0, 2, 0}, t0, t0 + 100s));
  CHECK_FALSE(s.may_release(pool_counts{4, 0, 2, 1}, t0, t0 + 100s));
}

TEST_CASE("release keeps the spare workers") {
  auto t0 = scaler::clock::now();
  scaler s(scaler_config{1, 8, 2, 80, 1}, t0);
  CHECK_FALSE(s.may_release(pool_counts{4, 0, 2, 0}, t0, t0 + 5s));
  CHECK(s.may_release(pool_counts{4, 0, 3, 0}, t0, t0 + 5s));
}

TEST_CASE("steady load settles: a pool that serves its load neither grows nor shrinks") {
  auto t0 = scaler::clock::now();
  scaler s(scaler_config{2, 16, 0, 160, 5}, t0);
  // 6 workers, 4 always busy, 2 idle but reused in turn (LIFO keeps the same ones busy): the
  // two at the bottom of the idle stack age and are released one by one; nothing starts again.
  pool_counts steady{6, 0, 2, 0};
  CHECK(s.wanted(steady) == 0);
  CHECK(s.may_release(steady, t0, t0 + 6s));
  pool_counts after{5, 0, 1, 0};
  CHECK(s.wanted(after) == 0);
}
