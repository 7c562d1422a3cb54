#include "src/stats/stats.hpp"

#include "fake_workers.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>

using namespace std::chrono_literals;
using fcgimux::pool_snapshot;
using fcgimux::stats;

namespace {

// Every counter gets a different value, so a field wired to the wrong counter shows.
void fill_counters(stats& s) {
  std::uint64_t v = 1000;
  auto& c = s.c;
  for (std::uint64_t* f :
       {&c.requests_accepted, &c.requests_completed, &c.requests_rejected, &c.requests_timed_out, &c.requests_aborted,
        &c.requests_failed, &c.responses_2xx, &c.responses_3xx, &c.responses_4xx, &c.responses_5xx, &c.responses_other,
        &c.connections_accepted, &c.connections_active, &c.workers_spawned, &c.workers_exited, &c.workers_crashed,
        &c.max_workers_reached, &c.queue_peak})
    *f = v += 17;
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
          .workers = full ? std::vector{busy_worker(123, 40, 11.9, "/x.php", 3.1), idle_worker(124, 2, 0.5)}
                          : std::vector<fcgimux::worker_info>{}};
}

double round3(double v) { return std::round(v * 1000) / 1000; }

}  // namespace

TEST_CASE("to_json has every contract field with the counters' values", "[stats][json]") {
  stats s;
  fill_counters(s);
  s.c.requests_accepted = s.c.requests_completed + 7;  // one of them may still be active
  int full_calls = 0, short_calls = 0;
  s.pool_view = [&](bool full) {
    ++(full ? full_calls : short_calls);
    return fake_snapshot(full);
  };
  for (int i = 1; i <= 100; ++i) {
    s.queue_latency.record(std::chrono::microseconds(100 * i));
    s.service_latency.record(std::chrono::milliseconds(i));
  }

  const nlohmann::json j = s.to_json(false);
  CHECK(short_calls == 1);
  CHECK(full_calls == 0);
  CHECK(j.at("version") == FCGIMUX_VERSION);
  CHECK(j.at("uptime_s").get<double>() >= 0);
  const auto& c = s.c;

  CHECK(j.at("pool") ==
        nlohmann::json{
            {"min", 2}, {"max", 8}, {"size", 5}, {"busy", 3}, {"idle", 1}, {"starting", 1}, {"can_serve", true}});
  CHECK(j.at("queue") == nlohmann::json{{"length", 9}, {"peak", c.queue_peak}, {"limit", 1024}});
  const auto& r = j.at("requests");
  CHECK(r.at("accepted") == c.requests_accepted);
  CHECK(r.at("completed") == c.requests_completed);
  CHECK(r.at("active") == 7);
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
  CHECK(j.at("connections") == nlohmann::json{{"active", c.connections_active}, {"accepted", c.connections_accepted}});
  CHECK(j.at("workers_spawned") == c.workers_spawned);
  CHECK(j.at("workers_exited") == c.workers_exited);
  CHECK(j.at("workers_crashed") == c.workers_crashed);
  CHECK(j.at("max_workers_reached") == c.max_workers_reached);
  CHECK_FALSE(j.contains("workers"));

  const auto now = fcgimux::clock_type::now();
  for (auto [name, h] : {std::pair{"queue", &s.queue_latency}, {"service", &s.service_latency}}) {
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
}

TEST_CASE("to_json(full) adds the workers, current null when idle", "[stats][json]") {
  stats s;
  s.pool_view = fake_snapshot;
  const nlohmann::json j = s.to_json(true);
  REQUIRE(j.contains("workers"));
  const auto& w = j.at("workers");
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

TEST_CASE("without a pool_view the pool and queue are zeros", "[stats][json]") {
  stats s;
  s.c.requests_accepted = 3;
  s.c.requests_completed = 3;
  const nlohmann::json j = s.to_json(true);
  CHECK(j.at("pool") ==
        nlohmann::json{
            {"min", 0}, {"max", 0}, {"size", 0}, {"busy", 0}, {"idle", 0}, {"starting", 0}, {"can_serve", false}});
  CHECK(j.at("queue").at("length") == 0);
  CHECK(j.at("queue").at("limit") == 0);
  CHECK(j.at("requests").at("active") == 0);
  CHECK(j.at("workers").empty());
  CHECK(j.at("latency_ms").at("service").at("p99") == 0);
}

TEST_CASE("record_status counts by class", "[stats]") {
  stats s;
  for (int status : {200, 204, 299, 301, 304, 404, 400, 499, 500, 502, 503, 599, 100, 600, 0, -1})
    s.record_status(status);
  CHECK(s.c.responses_2xx == 3);
  CHECK(s.c.responses_3xx == 2);
  CHECK(s.c.responses_4xx == 3);
  CHECK(s.c.responses_5xx == 4);
  CHECK(s.c.responses_other == 4);
}
