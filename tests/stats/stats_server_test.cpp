// SPDX-License-Identifier: ISC
#include "server_fixture.hpp"

#include "tests/support/http_client.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace fcgimux::test;
using fcgimux::stats_server;

namespace {

/// Requires a response with the given status; the response, for further checks.
http_response require_status(const http_response& r, int status) {
  REQUIRE(r.ok);
  CHECK(r.status == status);
  return r;
}

}  // namespace

TEST_CASE("GET /stats answers the JSON document", "[server]") {
  server_fixture f;
  const auto r = require_status(http_exchange(f.port, http_get("/stats")), 200);
  CHECK(r.header("content-type") == "application/json");
  const auto j = nlohmann::json::parse(r.body);
  CHECK(j.at("pool").at("size").get<int>() > 100);  // from the fake
  CHECK(j.at("pool").at("max") == 8);
  CHECK_FALSE(j.contains("workers"));
}

TEST_CASE("GET /stats?full adds the workers", "[server]") {
  server_fixture f;
  const auto r = require_status(http_exchange(f.port, http_get("/stats?full")), 200);
  const auto j = nlohmann::json::parse(r.body);
  REQUIRE(j.at("workers").size() == 2);
  CHECK(j["workers"][0]["pid"] == 4242);
  CHECK(j["workers"][0]["pool"] == "default");
  CHECK(j.at("pools").at("default").at("workers").size() == 2);
  CHECK(j["workers"][0]["current"]["uri"].get<std::string>().rfind("/fake-live-", 0) == 0);
  CHECK(j["workers"][1]["current"].is_null());
  const auto r2 = http_exchange(f.port, http_get("/stats?x=1&full=1"));
  REQUIRE(r2.ok);
  CHECK(nlohmann::json::parse(r2.body).contains("workers"));
}

TEST_CASE("a worker URI that is not UTF-8 still gives valid JSON", "[server]") {
  server_fixture f;
  f.on_server([&] { f.pool().uri_prefix = "/bad-\xff\xfe-"; });
  const auto r = require_status(http_exchange(f.port, http_get("/stats?full")), 200);
  CHECK_NOTHROW(nlohmann::json::parse(r.body));
}

TEST_CASE("GET /metrics answers Prometheus text", "[server]") {
  server_fixture f;
  f.on_server([&] { f.ps().counts.requests_accepted = 5; });
  const auto r = require_status(http_exchange(f.port, http_get("/metrics")), 200);
  CHECK(r.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(r.body.find("\nfcgimux_requests_accepted_total{pool=\"default\"} 5\n") != std::string::npos);
  CHECK(r.body.find("fcgimux_worker_busy{pool=\"default\",pid=\"4242\"} 1") != std::string::npos);
}

TEST_CASE("/healthz follows can_serve", "[server]") {
  server_fixture f;
  const auto up = require_status(http_exchange(f.port, http_get("/healthz")), 200);
  CHECK(up.body == "ok\n");
  f.pool().can_serve = false;
  require_status(http_exchange(f.port, http_get("/healthz")), 503);
}

TEST_CASE("/ serves the dashboard page", "[server]") {
  server_fixture f;
  const auto r = require_status(http_exchange(f.port, http_get("/")), 200);
  CHECK(r.header("content-type") == "text/html; charset=utf-8");
  CHECK(r.body.find("<canvas id=\"chart-pool\"") != std::string::npos);
  CHECK(r.body.find("/stats?full") != std::string::npos);
}

TEST_CASE("HEAD gives the headers of GET without a body", "[server]") {
  server_fixture f;
  http_connection c(f.port);
  REQUIRE(c.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto head = require_status(c.read_response(true), 200);
  CHECK(std::stoul(head.header("content-length")) > 0);
  // the next response on the connection must start right after the head: no body was sent
  REQUIRE(c.send(http_get("/healthz")));
  const auto next = require_status(c.read_response(), 200);
  CHECK(next.body == "ok\n");
}

TEST_CASE("errors: 404, 405, 400, 431, 505", "[server]") {
  server_fixture f;
  SECTION("unknown path") { require_status(http_exchange(f.port, http_get("/nope")), 404); }
  SECTION("POST with a body") {
    const auto r =
        require_status(http_exchange(f.port, "POST /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"), 405);
    CHECK(r.header("allow") == "GET, HEAD");
    CHECK(r.header("connection") == "close");
  }
  SECTION("DELETE") { require_status(http_exchange(f.port, "DELETE /stats HTTP/1.1\r\nHost: x\r\n\r\n"), 405); }
  SECTION("garbage request line") { require_status(http_exchange(f.port, "HELLO THERE\r\n\r\n"), 400); }
  SECTION("binary garbage") {
    const std::string tls_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15);
    require_status(http_exchange(f.port, tls_hello), 400);
  }
  SECTION("header without a colon") {
    require_status(http_exchange(f.port, "GET /stats HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n"), 400);
  }
  SECTION("HTTP/1.1 without Host") { require_status(http_exchange(f.port, "GET /stats HTTP/1.1\r\n\r\n"), 400); }
  SECTION("GET with a body") {
    require_status(http_exchange(f.port, "GET /stats HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"), 400);
  }
  SECTION("oversized header") {
    require_status(http_exchange(f.port, http_get("/stats", "X-Big: " + std::string(9000, 'a') + "\r\n")), 431);
  }
  SECTION("endless header without an end") {
    http_connection c(f.port);
    REQUIRE(c.send("GET /stats HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a')));
    require_status(c.read_response(), 431);
  }
  SECTION("HTTP/2.0 request line") {
    require_status(http_exchange(f.port, "GET /stats HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
  }
  // every error above must leave the server serving
  require_status(http_exchange(f.port, http_get("/healthz")), 200);
}

TEST_CASE("keep-alive: two requests on one connection, and pipelined ones", "[server]") {
  server_fixture f;
  http_connection c(f.port);
  REQUIRE(c.send(http_get("/stats")));
  const auto first = require_status(c.read_response(), 200);
  CHECK(!first.has_header("connection"));
  REQUIRE(c.send(http_get("/metrics")));
  const auto second = require_status(c.read_response(), 200);
  CHECK(second.body.find("fcgimux_info") != std::string::npos);

  REQUIRE(c.send(http_get("/healthz") + http_get("/stats?full") + http_get("/healthz", "Connection: close\r\n")));
  const auto a = c.read_response(), b = c.read_response(), last = c.read_response();
  REQUIRE(a.ok);
  REQUIRE(b.ok);
  REQUIRE(last.ok);
  CHECK(a.body == "ok\n");
  CHECK(nlohmann::json::parse(b.body).contains("workers"));
  CHECK(last.header("connection") == "close");
  CHECK(c.read_until_closed(3s));  // and the server closes after Connection: close
}

TEST_CASE("HTTP/1.0 closes unless keep-alive is asked for", "[server]") {
  server_fixture f;
  {
    http_connection c(f.port);
    REQUIRE(c.send("GET /healthz HTTP/1.0\r\n\r\n"));
    const auto r = require_status(c.read_response(), 200);
    CHECK(r.header("connection") == "close");
    CHECK(c.read_until_closed(3s));
  }
  http_connection c(f.port);
  REQUIRE(c.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const auto r = c.read_response();
  REQUIRE(r.ok);
  CHECK(r.header("connection") == "keep-alive");
  REQUIRE(c.send("GET /healthz HTTP/1.0\r\n\r\n"));
  CHECK(c.read_response().ok);
}

TEST_CASE("idle and slow clients are cut off after the head timeout", "[server]") {
  stats_server::limits l;
  l.head_timeout = 300ms;
  server_fixture f(l);
  SECTION("idle: closed without a word") {
    http_connection c(f.port);
    const auto start = std::chrono::steady_clock::now();
    const auto rest = c.read_until_closed(5s);
    const auto waited = std::chrono::steady_clock::now() - start;
    REQUIRE(rest);
    CHECK(rest->empty());
    CHECK(waited >= 250ms);
    CHECK(waited < 3s);
  }
  SECTION("slow: half a head, then 408") {
    http_connection c(f.port);
    REQUIRE(c.send("GET /stats HTTP/1.1\r\nHo"));
    require_status(c.read_response(false, 5s), 408);
    CHECK(c.read_until_closed(5s));
  }
  SECTION("trickling bytes does not extend the deadline") {
    http_connection c(f.port);
    const auto start = std::chrono::steady_clock::now();
    bool cut = false;
    for (int i = 0; i < 40 && !cut; ++i) {  // one byte every 50 ms for up to 2 s
      cut = !c.send("X");
      std::this_thread::sleep_for(50ms);
      if (std::chrono::steady_clock::now() - start > 600ms) break;
    }
    require_status(c.read_response(false, 5s), 408);
  }
  SECTION("keep-alive: idle after a response") {
    http_connection c(f.port);
    REQUIRE(c.send(http_get("/healthz")));
    REQUIRE(c.read_response().ok);
    const auto rest = c.read_until_closed(5s);
    REQUIRE(rest);
    CHECK(rest->empty());
  }
}

TEST_CASE("at the connection limit the connection idle longest makes room for a new one", "[server]") {
  stats_server::limits l;
  l.max_connections = 2;
  server_fixture f(l);
  http_connection a(f.port), b(f.port);
  REQUIRE(a.send(http_get("/healthz")));
  REQUIRE(a.read_response().ok);  // a is idle from here on, b a moment later
  REQUIRE(b.send(http_get("/healthz")));
  REQUIRE(b.read_response().ok);
  http_connection c(f.port);
  REQUIRE(c.connected());
  REQUIRE(c.send(http_get("/healthz")));
  CHECK(require_status(c.read_response(), 200).body == "ok\n");
  const auto closed = a.read_until_closed(3s);
  REQUIRE(closed);  // a, idle longest, was closed without a word
  CHECK(closed->empty());
  // b still works
  REQUIRE(b.send(http_get("/healthz")));
  CHECK(b.read_response().ok);
}

TEST_CASE("a flood of connections stays bounded and the server recovers", "[server]") {
  stats_server::limits l;
  l.max_connections = 8;
  l.head_timeout = 2s;
  server_fixture f(l);
  std::vector<std::unique_ptr<http_connection>> flood;
  for (int i = 0; i < 200; ++i) flood.push_back(std::make_unique<http_connection>(f.port));
  // each newcomer closes the one idle longest: all but the last 8 are closed at once
  std::size_t closed = 0;
  for (auto& c : flood)
    if (c->read_until_closed(100ms)) ++closed;
  CHECK(closed >= 200 - 8);
  flood.clear();
  // once the flood is gone (the server sees each EOF a moment later), a request gets through
  http_response r;
  for (int i = 0; i < 50; ++i) {
    r = http_exchange(f.port, http_get("/healthz"));
    if (r.ok && r.status == 200) break;
    std::this_thread::sleep_for(50ms);
  }
  require_status(r, 200);
}

TEST_CASE("stop() closes the listener and every live session", "[server]") {
  server_fixture f;
  http_connection live(f.port);
  REQUIRE(live.send(http_get("/healthz")));
  REQUIRE(live.read_response().ok);
  f.shutdown();  // returns only once the io_context ran out of work: every session ended
  CHECK(live.read_until_closed(3s));
  http_connection late(f.port);
  CHECK_FALSE(late.connected());
}

TEST_CASE("a head that arrives one byte at a time, CRLF or bare LF", "[server]") {
  server_fixture f;
  for (const std::string& request : {std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
                                     std::string("\r\nGET /healthz HTTP/1.1\nHost: x\n\n")}) {
    http_connection c(f.port);
    for (char ch : request) {
      REQUIRE(c.send(std::string(1, ch)));
      std::this_thread::sleep_for(1ms);
    }
    const auto r = require_status(c.read_response(), 200);
    CHECK(r.body == "ok\n");
  }
}

TEST_CASE("the head limit is exact: 8192 bytes pass, 8193 get 431", "[server]") {
  server_fixture f;
  const std::string base = http_get("/healthz", "X-Pad: \r\n");
  const std::size_t pad = 8192 - base.size();
  const std::string at_limit = http_get("/healthz", "X-Pad: " + std::string(pad, 'p') + "\r\n");
  REQUIRE(at_limit.size() == 8192);
  require_status(http_exchange(f.port, at_limit), 200);
  require_status(http_exchange(f.port, http_get("/healthz", "X-Pad: " + std::string(pad + 1, 'p') + "\r\n")), 431);
}

TEST_CASE("/healthz with two pools: every pool, or the one named", "[server][pools]") {
  server_fixture f(fixture_options{.pools = {"a", "b"}});
  SECTION("both can serve") {
    CHECK(require_status(http_exchange(f.port, http_get("/healthz")), 200).body == "ok\n");
    require_status(http_exchange(f.port, http_get("/healthz?pool=a")), 200);
    require_status(http_exchange(f.port, http_get("/healthz?pool=b")), 200);
  }
  SECTION("b cannot serve") {
    f.pool(1).can_serve = false;
    CHECK(require_status(http_exchange(f.port, http_get("/healthz")), 503).body == "unavailable\n");
    CHECK(require_status(http_exchange(f.port, http_get("/healthz?pool=a")), 200).body == "ok\n");
    require_status(http_exchange(f.port, http_get("/healthz?pool=b")), 503);
    require_status(http_exchange(f.port, http_get("/healthz?x=1&pool=b")), 503);
  }
  SECTION("a cannot serve") {
    f.pool(0).can_serve = false;
    require_status(http_exchange(f.port, http_get("/healthz")), 503);
    require_status(http_exchange(f.port, http_get("/healthz?pool=a")), 503);
    require_status(http_exchange(f.port, http_get("/healthz?pool=b")), 200);
  }
  SECTION("an unknown pool") {
    require_status(http_exchange(f.port, http_get("/healthz?pool=nope")), 404);
    require_status(http_exchange(f.port, http_get("/healthz?pool=")), 404);
  }
  // and the connection-level behaviour is unchanged: the server still answers
  require_status(http_exchange(f.port, http_get("/stats")), 200);
}

TEST_CASE("/stats and /metrics with two pools show each pool", "[server][pools]") {
  server_fixture f(fixture_options{.pools = {"a", "b"}});
  f.on_server([&] {
    f.ps(0).counts.requests_accepted = 11;
    f.ps(1).counts.requests_accepted = 22;
  });
  const auto j = nlohmann::json::parse(require_status(http_exchange(f.port, http_get("/stats?full")), 200).body);
  CHECK(j["pools"]["a"]["requests"]["accepted"] == 11);
  CHECK(j["pools"]["b"]["requests"]["accepted"] == 22);
  CHECK(j["requests"]["accepted"] == 33);
  CHECK(j["pools"]["a"]["pool"]["size"].get<int>() < 1000);  // the fakes: a from 101 up, b from 1101 up
  CHECK(j["pools"]["b"]["pool"]["size"].get<int>() > 1100);
  CHECK(j["workers"].size() == 4);
  const auto m = require_status(http_exchange(f.port, http_get("/metrics")), 200).body;
  CHECK(m.find("\nfcgimux_requests_accepted_total{pool=\"a\"} 11\n") != std::string::npos);
  CHECK(m.find("\nfcgimux_requests_accepted_total{pool=\"b\"} 22\n") != std::string::npos);
  CHECK(m.find("fcgimux_worker_busy{pool=\"b\",pid=\"5242\"} 1") != std::string::npos);
}

TEST_CASE("/history is served only once set_history was called", "[server][history]") {
  server_fixture f;
  require_status(http_exchange(f.port, http_get("/history")), 404);
}

TEST_CASE("/history: the samples taken, totals and per pool", "[server][history][pools]") {
  server_fixture f(fixture_options{.pools = {"a", "b"}, .history = true});
  const auto t0 = fcgimux::clock_type::now();
  f.on_server([&] {
    // pool a serves in 1 ms and waits 10 ms in the queue, pool b serves in 100 ms
    for (int i = 0; i < 50; ++i) {
      f.ps(0).service_latency.record(1ms);
      f.ps(0).queue_latency.record(10ms);
      f.ps(1).service_latency.record(100ms);
    }
    f.history->take(t0);
    f.ps(0).counts.requests_completed += 10;
    f.ps(1).counts.requests_completed += 30;
    f.history->take(t0 + 1s);
    f.ps(0).counts.requests_completed += 20;
    f.ps(1).counts.requests_completed += 60;
    f.history->take(t0 + 2s);
  });
  constexpr std::size_t taken = 3;
  // nothing else asked the fakes: each take() saw a: 101, 102, 103 and b: 1101, 1102, 1103
  REQUIRE(f.pool(0).calls == 3);
  REQUIRE(f.pool(1).calls == 3);

  auto get = [&](const std::string& target) {
    const auto r = require_status(http_exchange(f.port, http_get(target)), 200);
    CHECK(r.header("content-type") == "application/json");
    const auto j = nlohmann::json::parse(r.body);
    CHECK(j.at("interval_s") == 1);
    const auto& series = j.at("series");
    std::set<std::string> names;
    for (const auto& [name, values] : series.items()) {
      names.insert(name);
      INFO(target << " " << name);
      REQUIRE(values.is_array());
      CHECK(values.size() == taken);
    }
    CHECK(names == std::set<std::string>{"size", "busy", "idle", "queue", "rate", "service_p50", "service_p99",
                                         "queue_p50", "queue_p99"});
    return series;
  };
  using list = std::vector<double>;
  auto values = [](const nlohmann::json& series, const char* name) { return series.at(name).get<list>(); };

  SECTION("pool a") {
    const auto a = get("/history?pool=a");
    CHECK(values(a, "size") == list{101, 102, 103});
    CHECK(values(a, "busy") == list{1, 1, 1});
    CHECK(values(a, "idle") == list{99, 100, 101});
    CHECK(values(a, "queue") == list{1, 2, 3});
    CHECK(values(a, "rate") == list{0, 10, 20});
    for (double v : values(a, "service_p50")) CHECK(v == Approx(1).epsilon(1.0 / 16));
    for (double v : values(a, "service_p99")) CHECK(v == Approx(1).epsilon(1.0 / 16));
    for (double v : values(a, "queue_p99")) CHECK(v == Approx(10).epsilon(1.0 / 16));
  }
  SECTION("pool b") {
    const auto b = get("/history?pool=b");
    CHECK(values(b, "size") == list{1101, 1102, 1103});
    CHECK(values(b, "idle") == list{1099, 1100, 1101});
    CHECK(values(b, "rate") == list{0, 30, 60});
    for (double v : values(b, "service_p50")) CHECK(v == Approx(100).epsilon(1.0 / 16));
    for (double v : values(b, "queue_p50")) CHECK(v == 0);
  }
  SECTION("the totals") {
    {
      const auto t = get("/history");
      CHECK(values(t, "size") == list{1202, 1204, 1206});
      CHECK(values(t, "busy") == list{2, 2, 2});
      CHECK(values(t, "idle") == list{1198, 1200, 1202});
      CHECK(values(t, "queue") == list{2, 4, 6});
      CHECK(values(t, "rate") == list{0, 40, 80});
      // merged: half the samples at 1 ms, half at 100 ms
      for (double v : values(t, "service_p50")) CHECK(v == Approx(1).epsilon(1.0 / 16));
      for (double v : values(t, "service_p99")) CHECK(v == Approx(100).epsilon(1.0 / 16));
      for (double v : values(t, "queue_p99")) CHECK(v == Approx(10).epsilon(1.0 / 16));
    }
  }
  SECTION("an unknown pool") {
    require_status(http_exchange(f.port, http_get("/history?pool=nope")), 404);
    require_status(http_exchange(f.port, http_get("/history?pool=")), 404);
    require_status(http_exchange(f.port, http_get("/history")), 200);
  }
}

TEST_CASE("start_sampling takes a history sample every second", "[server][history]") {
  server_fixture f(fixture_options{.history = true});
  const auto start = std::chrono::steady_clock::now();
  f.on_server([&] { f.server.start_sampling(); });
  std::size_t samples = 0;
  while (std::chrono::steady_clock::now() - start < 10s) {
    const auto r = require_status(http_exchange(f.port, http_get("/history")), 200);
    samples = nlohmann::json::parse(r.body).at("series").at("size").size();
    if (samples >= 3) break;
    std::this_thread::sleep_for(100ms);
  }
  const auto waited = std::chrono::steady_clock::now() - start;
  REQUIRE(samples >= 3);
  // the first sample at once, then one a second: three take about two seconds, not less
  CHECK(waited >= 1900ms);
  CHECK(waited < 5s);
}
