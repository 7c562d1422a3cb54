// SPDX-License-Identifier: ISC
// The saturation an autoscaler targets (docs/scaling.md): its arithmetic, its 30 s window, and
// where it shows (/stats pools.NAME, /metrics).
#include "src/stats/saturation.hpp"
#include "src/stats/stats.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

using fcgimux::pool_snapshot;
using fcgimux::pool_stats;
using fcgimux::saturation_of;
using fcgimux::saturation_window;

TEST_CASE("saturation is (busy + queued) / max workers", "[kubernetes][saturation]") {
  CHECK(saturation_of(0, 0, 8) == 0.0);
  CHECK(saturation_of(4, 0, 8) == Approx(0.5));
  CHECK(saturation_of(8, 0, 8) == Approx(1.0));
  // Queued requests say how far past its capacity the pool is, which busy members cannot.
  CHECK(saturation_of(8, 4, 8) == Approx(1.5));
  // No maximum (a pool of remote servers only): nothing to be a share of.
  CHECK(saturation_of(3, 2, 0) == 0.0);
  pool_snapshot s;
  s.max = 4;
  s.busy = 3;
  s.queue_length = 1;
  CHECK(s.saturation() == Approx(1.0));
}

TEST_CASE("the smoothed saturation is the mean of the last 30 samples", "[kubernetes][saturation]") {
  saturation_window w;
  CHECK(w.mean() == 0.0);
  w.push(1.0);
  w.push(0.0);
  CHECK(w.mean() == Approx(0.5));
  for (std::size_t i = 0; i < saturation_window::samples; ++i) w.push(0.25);
  // The 1.0 and 0.0 have left the window.
  CHECK(w.count() == saturation_window::samples);
  CHECK(w.mean() == Approx(0.25));
  // A step: after k of 30 samples at 1.0 the mean has moved k/30 of the way.
  for (std::size_t i = 0; i < 15; ++i) w.push(1.0);
  CHECK(w.mean() == Approx(0.25 + 0.75 * 15.0 / 30.0));
  // Long runs do not drift.
  for (int i = 0; i < 100000; ++i) w.push(i % 2 ? 0.1 : 0.3);
  CHECK(w.mean() == Approx(0.2).epsilon(1e-9));
}

TEST_CASE("saturation shows in /stats per pool and in /metrics", "[kubernetes][saturation]") {
  fcgimux::stats s;
  pool_stats a, b;
  pool_snapshot now, other;
  now.max = 4;
  now.busy = 2;
  now.queue_length = 4;
  other.max = 10;
  other.busy = 1;
  a.view = [&](bool) { return now; };
  b.view = [&](bool) { return other; };
  s.add_pool("www", a);
  s.add_pool("api", b);
  s.sample_saturation();
  now.busy = 0;
  now.queue_length = 0;
  s.sample_saturation();
  const nlohmann::json j = s.to_json(false);
  CHECK(j["pools"]["www"]["saturation"].get<double>() == Approx(0.0));
  CHECK(j["pools"]["www"]["saturation_30s"].get<double>() == Approx(0.75));  // (1.5 + 0) / 2
  CHECK(j["pools"]["api"]["saturation"].get<double>() == Approx(0.1));
  CHECK(j["pools"]["api"]["saturation_30s"].get<double>() == Approx(0.1));
  const std::string m = s.to_prometheus();
  CHECK(m.find("# TYPE fcgimux_pool_saturation gauge\n") != std::string::npos);
  CHECK(m.find("fcgimux_pool_saturation{pool=\"www\"} 0\n") != std::string::npos);
  CHECK(m.find("fcgimux_pool_saturation{pool=\"api\"} 0.1\n") != std::string::npos);
  CHECK(m.find("# TYPE fcgimux_pool_saturation_30s gauge\n") != std::string::npos);
  CHECK(m.find("fcgimux_pool_saturation_30s{pool=\"www\"} 0.75\n") != std::string::npos);
}
