// SPDX-License-Identifier: ISC
#include "src/stats/stats.hpp"

#include "fake_workers.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>

using namespace std::chrono_literals;
using fcgimux::limit_source;
using fcgimux::pool_counters;
using fcgimux::pool_snapshot;
using fcgimux::pool_stats;
using fcgimux::server_info;
using fcgimux::server_state;
using fcgimux::stats;

namespace {

// Every counter gets a different value (from `start` on), so a field wired to the wrong counter shows.
void fill_counters(fcgimux::pool_counters& c, std::uint64_t start = 1000) {
  std::uint64_t v = start;
  for (std::uint64_t* f :
       {&c.requests_accepted, &c.requests_completed, &c.requests_rejected, &c.requests_timed_out, &c.requests_aborted,
        &c.requests_failed, &c.responses_2xx, &c.responses_3xx, &c.responses_4xx, &c.responses_5xx, &c.responses_other,
        &c.workers_spawned, &c.workers_exited, &c.workers_crashed, &c.max_workers_reached, &c.queue_peak})
    *f = v += 17;
}

void fill_counters(fcgimux::process_counters& c) {
  c.connections_accepted = 7001;
  c.connections_active = 7002;
  c.connections_refused = 7003;
  c.connections_header_timeouts = 7004;
  c.connections_idle_timeouts = 7005;
}

pool_snapshot fake_snapshot(bool full) {
  using fcgimux::test::busy_worker, fcgimux::test::idle_worker;
  return {.min = 2,
          .max = 8,
          .size = 5,
          .busy = 3,
          .idle = 1,
          .starting = 1,
          .queue_length = 9,
          .queue_limit = 1024,
          .can_serve = true,
          .generation = 1,
          .roll = {},
          .workers = full ? std::vector{busy_worker(123, 40, 11.9, "/x.php", 3.1), idle_worker(124, 2, 0.5)}
                          : std::vector<fcgimux::worker_info>{},
          .servers = {}};
}

double round3(double v) { return std::round(v * 1000) / 1000; }

// The fields a pool's object and the totals share, checked against one set of counters.
void check_counters(const nlohmann::json& j, const pool_counters& c) {
  CHECK(j.at("queue").at("peak") == c.queue_peak);
  const auto& r = j.at("requests");
  CHECK(r.at("accepted") == c.requests_accepted);
  CHECK(r.at("completed") == c.requests_completed);
  CHECK(r.at("active") == c.requests_accepted - c.requests_completed);
  CHECK(r.at("rejected") == c.requests_rejected);
  CHECK(r.at("timed_out") == c.requests_timed_out);
  CHECK(r.at("aborted") == c.requests_aborted);
  CHECK(r.at("failed") == c.requests_failed);
  const auto& resp = j.at("responses");
  CHECK(resp.at("2xx") == c.responses_2xx);
  CHECK(resp.at("3xx") == c.responses_3xx);
  CHECK(resp.at("4xx") == c.responses_4xx);
  CHECK(resp.at("5xx") == c.responses_5xx);
  CHECK(resp.at("other") == c.responses_other);
  CHECK(j.at("workers_spawned") == c.workers_spawned);
  CHECK(j.at("workers_exited") == c.workers_exited);
  CHECK(j.at("workers_crashed") == c.workers_crashed);
  CHECK(j.at("max_workers_reached") == c.max_workers_reached);
}

}  // namespace

TEST_CASE("to_json has every contract field with the counters' values", "[stats][json]") {
  stats s;
  pool_stats p;
  s.add_pool("default", p);
  fill_counters(p.counts);
  fill_counters(s.counts);
  p.counts.requests_accepted = p.counts.requests_completed + 7;  // one of them may still be active
  int full_calls = 0, short_calls = 0;
  p.view = [&](bool full) {
    ++(full ? full_calls : short_calls);
    return fake_snapshot(full);
  };
  for (int i = 1; i <= 100; ++i) {
    p.queue_latency.record(std::chrono::microseconds(100 * i));
    p.service_latency.record(std::chrono::milliseconds(i));
  }

  const nlohmann::json j = s.to_json(false);
  CHECK(short_calls == 1);
  CHECK(full_calls == 0);
  CHECK(j.at("version") == FCGIMUX_VERSION);
  CHECK(j.at("uptime_s").get<double>() >= 0);
  const auto& c = p.counts;

  CHECK(j.at("pool") ==
        nlohmann::json{
            {"min", 2}, {"max", 8}, {"size", 5}, {"busy", 3}, {"idle", 1}, {"starting", 1}, {"can_serve", true}});
  CHECK(j.at("queue") == nlohmann::json{{"length", 9}, {"peak", c.queue_peak}, {"limit", 1024}});
  CHECK(j.at("requests").at("active") == 7);
  check_counters(j, c);
  CHECK(j.at("connections") == nlohmann::json{{"active", s.counts.connections_active},
                                              {"accepted", s.counts.connections_accepted},
                                              {"refused", s.counts.connections_refused},
                                              {"header_timeouts", s.counts.connections_header_timeouts},
                                              {"idle_timeouts", s.counts.connections_idle_timeouts}});
  CHECK_FALSE(j.contains("workers"));

  const auto now = fcgimux::clock_type::now();
  for (auto [name, h] : {std::pair{"queue", &p.queue_latency}, {"service", &p.service_latency}}) {
    const auto expected = h->window_percentiles(now);
    const auto& l = j.at("latency_ms").at(name);
    INFO(name);
    CHECK(l.at("count") == 100);
    CHECK(l.at("p50").get<double>() == Approx(round3(expected.p50_ms)));
    CHECK(l.at("p90").get<double>() == Approx(round3(expected.p90_ms)));
    CHECK(l.at("p99").get<double>() == Approx(round3(expected.p99_ms)));
  }
  // known inputs: service 1..100 ms, queue 0.1..10 ms
  CHECK(j["latency_ms"]["service"]["p50"].get<double>() == Approx(50).epsilon(1.0 / 16));
  CHECK(j["latency_ms"]["service"]["p99"].get<double>() == Approx(99).epsilon(1.0 / 16));
  CHECK(j["latency_ms"]["queue"]["p90"].get<double>() == Approx(9).epsilon(1.0 / 16));
  CHECK(j["latency_ms"]["window_s"] == 60);

  // the one pool under "pools", with the same figures and no process-wide ones
  REQUIRE(j.at("pools").size() == 1);
  const auto& own = j.at("pools").at("default");
  for (const char* key : {"pool", "queue", "requests", "responses", "latency_ms", "workers_spawned", "workers_exited",
                          "workers_crashed", "max_workers_reached"}) {
    INFO(key);
    CHECK(own.at(key) == j.at(key));
  }
  CHECK_FALSE(own.contains("connections"));
  CHECK_FALSE(own.contains("version"));
  CHECK_FALSE(own.contains("workers"));
  // pool_json renders the same object (as --status-path answers it)
  CHECK(fcgimux::pool_json(p, false, fcgimux::clock_type::now(), false) == own);
  CHECK(short_calls == 2);
}

TEST_CASE("to_json(full) adds the workers, current null when idle", "[stats][json]") {
  stats s;
  pool_stats p;
  p.view = fake_snapshot;
  s.add_pool("default", p);
  const nlohmann::json j = s.to_json(true);
  REQUIRE(j.contains("workers"));
  for (const auto& w : {j.at("workers"), j.at("pools").at("default").at("workers")}) {
    REQUIRE(w.size() == 2);
    CHECK(w[0].at("pid") == 123);
    CHECK(w[0].at("state") == "busy");
    CHECK(w[0].at("requests") == 40);
    CHECK(w[0].at("uptime_s").get<double>() == Approx(11.9));
    CHECK(w[0].at("current").at("uri") == "/x.php");
    CHECK(w[0].at("current").at("elapsed_ms").get<double>() == Approx(3.1));
    CHECK(w[1].at("pid") == 124);
    CHECK(w[1].at("state") == "idle");
    CHECK(w[1].at("current").is_null());
  }
  // the top-level list says whose worker it is; the pool's own list need not
  CHECK(j["workers"][0].at("pool") == "default");
  CHECK(j["workers"][1].at("pool") == "default");
  CHECK_FALSE(j["pools"]["default"]["workers"][0].contains("pool"));
  CHECK(fcgimux::pool_json(p, true, fcgimux::clock_type::now(), false).at("workers") ==
        j["pools"]["default"]["workers"]);
}

TEST_CASE("in-flight URIs lose their query string unless show_query", "[stats][json]") {
  stats s;
  pool_stats p;
  p.view = [](bool full) {
    pool_snapshot snap = fake_snapshot(full);
    if (full) snap.workers[0].current_uri = "/x.php?session=s3cret&a=1";
    return snap;
  };
  s.add_pool("default", p);
  const auto uris = [&](const nlohmann::json& j) {
    return std::vector<std::string>{j.at("workers")[0].at("current").at("uri"),
                                    j.at("pools").at("default").at("workers")[0].at("current").at("uri")};
  };
  CHECK(uris(s.to_json(true)) == std::vector<std::string>{"/x.php", "/x.php"});
  CHECK(fcgimux::pool_json(p, true, fcgimux::clock_type::now(), false).at("workers")[0].at("current").at("uri") ==
        "/x.php");
  s.show_query = true;
  const std::string whole = "/x.php?session=s3cret&a=1";
  CHECK(uris(s.to_json(true)) == std::vector<std::string>{whole, whole});
  CHECK(fcgimux::pool_json(p, true, fcgimux::clock_type::now(), true).at("workers")[0].at("current").at("uri") ==
        whole);
}

TEST_CASE("without a view the pool and queue are zeros", "[stats][json]") {
  stats s;
  pool_stats p;
  s.add_pool("default", p);
  p.counts.requests_accepted = 3;
  p.counts.requests_completed = 3;
  const nlohmann::json j = s.to_json(true);
  for (const auto& o : {j, j.at("pools").at("default")}) {
    CHECK(o.at("pool") ==
          nlohmann::json{
              {"min", 0}, {"max", 0}, {"size", 0}, {"busy", 0}, {"idle", 0}, {"starting", 0}, {"can_serve", false}});
    CHECK(o.at("queue").at("length") == 0);
    CHECK(o.at("queue").at("limit") == 0);
    CHECK(o.at("requests").at("active") == 0);
    CHECK(o.at("workers").empty());
    CHECK(o.at("latency_ms").at("service").at("p99") == 0);
  }
  CHECK_FALSE(s.can_serve());
}

TEST_CASE("record_status counts by class", "[stats]") {
  pool_stats s;
  for (int status : {200, 204, 299, 301, 304, 404, 400, 499, 500, 502, 503, 599, 100, 600, 0, -1})
    s.record_status(status);
  CHECK(s.counts.responses_2xx == 3);
  CHECK(s.counts.responses_3xx == 2);
  CHECK(s.counts.responses_4xx == 3);
  CHECK(s.counts.responses_5xx == 4);
  CHECK(s.counts.responses_other == 4);
}

TEST_CASE("find and pools() give the registered pools in order", "[stats]") {
  stats s;
  pool_stats a, b;
  s.add_pool("a", a);
  s.add_pool("b", b);
  REQUIRE(s.pools().size() == 2);
  CHECK(s.pools()[0].name == "a");
  CHECK(s.pools()[0].stats == &a);
  CHECK(s.pools()[1].name == "b");
  CHECK(s.pools()[1].stats == &b);
  CHECK(s.find("a") == &a);
  CHECK(s.find("b") == &b);
  CHECK(s.find("c") == nullptr);
  CHECK(s.find("") == nullptr);
}

TEST_CASE("two pools: each under pools.NAME, the top level their totals", "[stats][json]") {
  using fcgimux::test::busy_worker, fcgimux::test::idle_worker;
  stats s;
  pool_stats a, b;
  s.add_pool("a", a);
  s.add_pool("b", b);
  fill_counters(s.counts);
  fill_counters(a.counts, 1000);
  fill_counters(b.counts, 50000);
  a.counts.requests_accepted = a.counts.requests_completed + 3;
  b.counts.requests_accepted = b.counts.requests_completed + 4;
  a.view = [](bool full) {
    return fcgimux::test::snapshot_of(
        {1, 4, 3, 1, 1, 1, 2, 100}, true,
        full ? std::vector{busy_worker(101, 5, 1.0, "/a.php", 2.0)} : std::vector<fcgimux::worker_info>{});
  };
  bool b_can_serve = true;
  b.view = [&b_can_serve](bool full) {
    return fcgimux::test::snapshot_of(
        {2, 16, 10, 6, 2, 2, 30, 500}, b_can_serve,
        full ? std::vector{idle_worker(201, 7, 3.0), busy_worker(202, 8, 4.0, "/b.php", 5.0)}
             : std::vector<fcgimux::worker_info>{});
  };
  // equal counts: pool a all at 1 ms, pool b all at 100 ms
  for (int i = 0; i < 100; ++i) {
    a.service_latency.record(std::chrono::milliseconds(1));
    b.service_latency.record(std::chrono::milliseconds(100));
    a.queue_latency.record(std::chrono::microseconds(50));
  }

  const nlohmann::json j = s.to_json(true);
  REQUIRE(j.at("pools").size() == 2);
  const auto& ja = j["pools"]["a"];
  const auto& jb = j["pools"]["b"];

  SECTION("each pool carries its own values") {
    CHECK(ja.at("pool") ==
          nlohmann::json{
              {"min", 1}, {"max", 4}, {"size", 3}, {"busy", 1}, {"idle", 1}, {"starting", 1}, {"can_serve", true}});
    CHECK(jb.at("pool") ==
          nlohmann::json{
              {"min", 2}, {"max", 16}, {"size", 10}, {"busy", 6}, {"idle", 2}, {"starting", 2}, {"can_serve", true}});
    CHECK(ja.at("queue") == nlohmann::json{{"length", 2}, {"peak", a.counts.queue_peak}, {"limit", 100}});
    CHECK(jb.at("queue") == nlohmann::json{{"length", 30}, {"peak", b.counts.queue_peak}, {"limit", 500}});
    {
      INFO("pool a");
      check_counters(ja, a.counts);
    }
    {
      INFO("pool b");
      check_counters(jb, b.counts);
    }
    CHECK(ja["latency_ms"]["service"]["count"] == 100);
    CHECK(ja["latency_ms"]["service"]["p99"].get<double>() == Approx(1).epsilon(1.0 / 16));
    CHECK(ja["latency_ms"]["queue"]["count"] == 100);
    CHECK(jb["latency_ms"]["service"]["count"] == 100);
    CHECK(jb["latency_ms"]["service"]["p50"].get<double>() == Approx(100).epsilon(1.0 / 16));
    CHECK(jb["latency_ms"]["queue"]["count"] == 0);
    CHECK_FALSE(ja.contains("connections"));
  }

  SECTION("the top level is the sum of the pools") {
    CHECK(j.at("pool") ==
          nlohmann::json{
              {"min", 3}, {"max", 20}, {"size", 13}, {"busy", 7}, {"idle", 3}, {"starting", 3}, {"can_serve", true}});
    // Not the sum of the peaks (see the test of the totals' queue peak below).
    CHECK(j.at("queue") ==
          nlohmann::json{{"length", 32}, {"peak", std::max(a.counts.queue_peak, b.counts.queue_peak)}, {"limit", 600}});
    pool_counters sum = a.counts;
    sum += b.counts;
    check_counters(j, sum);
    CHECK(j["requests"]["active"] == 7);
    CHECK(j.at("connections") == nlohmann::json{{"active", s.counts.connections_active},
                                                {"accepted", s.counts.connections_accepted},
                                                {"refused", s.counts.connections_refused},
                                                {"header_timeouts", s.counts.connections_header_timeouts},
                                                {"idle_timeouts", s.counts.connections_idle_timeouts}});
  }

  SECTION("the total latency percentiles are over the merged samples") {
    const auto& total = j["latency_ms"]["service"];
    CHECK(total.at("count") == 200);
    const double p50 = total.at("p50").get<double>(), p90 = total.at("p90").get<double>(),
                 p99 = total.at("p99").get<double>();
    // half the samples at 1 ms: the median is the largest of them; the tail is pool b's
    CHECK(p50 >= ja["latency_ms"]["service"]["p50"].get<double>());
    CHECK(p50 <= jb["latency_ms"]["service"]["p50"].get<double>());
    CHECK(p50 == Approx(1).epsilon(1.0 / 16));
    CHECK(p90 == Approx(100).epsilon(1.0 / 16));
    CHECK(p99 == Approx(100).epsilon(1.0 / 16));
    CHECK(j["latency_ms"]["queue"]["count"] == 100);
    CHECK(j["latency_ms"]["queue"]["p50"].get<double>() == Approx(0.05).epsilon(1.0 / 16));
  }

  SECTION("full: each pool's workers, and all of them tagged at the top level") {
    REQUIRE(ja.at("workers").size() == 1);
    CHECK(ja["workers"][0]["pid"] == 101);
    CHECK(ja["workers"][0]["current"]["uri"] == "/a.php");
    REQUIRE(jb.at("workers").size() == 2);
    CHECK(jb["workers"][0]["pid"] == 201);
    CHECK(jb["workers"][0]["current"].is_null());
    CHECK(jb["workers"][1]["pid"] == 202);
    const auto& all = j.at("workers");
    REQUIRE(all.size() == 3);
    std::map<int, std::string> pool_of;
    for (const auto& w : all) pool_of[w.at("pid").get<int>()] = w.at("pool").get<std::string>();
    CHECK(pool_of == std::map<int, std::string>{{101, "a"}, {201, "b"}, {202, "b"}});
    for (const auto& w : all) {
      nlohmann::json untagged = w;
      untagged.erase("pool");
      const auto& own = w["pool"] == "a" ? ja["workers"] : jb["workers"];
      CHECK(std::find(own.begin(), own.end(), untagged) != own.end());
    }
    CHECK_FALSE(s.to_json(false).contains("workers"));
    CHECK_FALSE(s.to_json(false)["pools"]["a"].contains("workers"));
  }

  SECTION("can_serve only when every pool can") {
    CHECK(s.can_serve());
    b_can_serve = false;
    CHECK_FALSE(s.can_serve());
    const nlohmann::json k = s.to_json(false);
    CHECK(k["pool"]["can_serve"] == false);
    CHECK(k["pools"]["a"]["pool"]["can_serve"] == true);
    CHECK(k["pools"]["b"]["pool"]["can_serve"] == false);
  }
}

TEST_CASE("the totals' queue peak is the most requests ever waiting at once, not the sum of the pools' peaks",
          "[stats][json]") {
  stats s;
  pool_stats a, b;
  s.add_pool("a", a);
  s.add_pool("b", b);
  // a peaks at 5 while b is empty; later b peaks at 3 while a holds 1: at most 6 at once, never 8.
  for (std::size_t n : {1, 3, 5, 2, 1}) a.queue_length_is(n);
  for (std::size_t n : {2, 3, 0}) b.queue_length_is(n);
  a.queue_length_is(0);
  nlohmann::json j = s.to_json(false);
  CHECK(j["pools"]["a"]["queue"]["peak"] == 5);
  CHECK(j["pools"]["b"]["queue"]["peak"] == 3);
  CHECK(j["queue"]["peak"] == 5);
  CHECK(s.queue.length == 0);

  // Both at once: the totals' peak is the sum of what waited at that moment.
  a.queue_length_is(4);
  b.queue_length_is(3);
  CHECK(s.to_json(false)["queue"]["peak"] == 7);

  // A pool removed with requests still queued takes them out of the totals' length, not the peak.
  s.remove_pool("b");
  CHECK(s.queue.length == 4);
  b.queue_length_is(0);
  CHECK(s.queue.length == 4);
  a.queue_length_is(0);
  CHECK(s.queue.length == 0);
  CHECK(s.to_json(false)["queue"]["peak"] == 7);
}

TEST_CASE("pools.NAME.servers: one object per server keyed by its address", "[stats][json]") {
  stats s;
  pool_stats p;
  p.view = [](bool) {
    pool_snapshot snap;
    server_info a;
    a.address = "10.0.0.5:9000";
    a.state = server_state::draining;
    a.weight = 3;
    a.effective_weight = 3;
    a.in_flight = 1;
    a.max = 5;
    a.max_from = limit_source::guessed;
    a.requests = 7;
    a.failures = 2;
    a.latency = {.count = 4, .p50_ms = 1.5, .p90_ms = 2, .p99_ms = 9.25};
    a.checked = true;
    a.last_check_passed = false;
    a.last_check_why = "connect: Connection refused";
    a.last_check_at = std::chrono::system_clock::time_point{} + 1700000000s;
    snap.servers = {a};
    return snap;
  };
  s.add_pool("default", p);
  const nlohmann::json j = s.to_json(false);
  const nlohmann::json& srv = j.at("pools").at("default").at("servers");
  REQUIRE(srv.size() == 1);
  const nlohmann::json& a = srv.at("10.0.0.5:9000");
  CHECK(a.at("state") == "draining");
  CHECK(a.at("weight") == 3);
  CHECK(a.at("in_flight") == 1);
  CHECK(a.at("max") == 5);
  CHECK(a.at("max_from") == "default");
  CHECK(a.at("requests") == 7);
  CHECK(a.at("failures") == 2);
  CHECK(a.at("latency_ms").at("p99").get<double>() == Approx(9.25));
  CHECK(a.at("last_check").at("result") == "failed");
  CHECK(a.at("last_check").at("why") == "connect: Connection refused");
  CHECK(a.at("last_check").at("at").get<double>() == Approx(1700000000.0));
  // The totals have no servers of their own; a pool without servers has an empty object.
  CHECK_FALSE(j.contains("servers"));
  pool_stats none;
  s.add_pool("other", none);
  CHECK(s.to_json(false).at("pools").at("other").at("servers").empty());
}
