// SPDX-License-Identifier: ISC
// --status-path and the stats server's /fpm-status answer in php-fpm's shapes: the real php-fpm is
// asked the same questions, and both answers are parsed and compared field by field (names, order,
// types), then fcgimux's figures are checked against what it is doing.

#include "tests/fpm_status/status_shapes.hpp"
#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/remote/fpm_server.hpp"
#include "tests/support/http_client.hpp"

#include <catch2/catch.hpp>

#include <ctime>
#include <thread>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

cgi_response ask_fpm(const fpm_server& fpm, const std::string& query) {
  fcgi_client c(fpm.where());
  REQUIRE(c.connected());
  request_spec r;
  r.params = cgi_params("GET", "/fpm-status?" + query);
  r.params.emplace_back("SCRIPT_FILENAME", "/fpm-status");
  REQUIRE(c.exchange(r, 10s) == read_status::ok);
  return parse_cgi_response(c.response(1).out);
}

std::string query_of(const std::string& format, bool full) {
  if (!full) return format;
  return format.empty() ? "full" : format + "&full";
}

std::string names(const std::vector<shape_field>& fs) {
  std::string out;
  for (const auto& f : fs) out += f.name + (f.number ? "=N " : "=S ");
  return out;
}

}  // namespace

TEST_CASE("status-path answers every php-fpm shape with php-fpm's fields, order and types") {
  fpm_server fpm("ref", 2);
  fcgimux_instance f(demo_pool({"-n", "2", "--status-path", "/fpm-status"}));
  REQUIRE(f.wait_for_workers(2, 10s));
  for (const std::string format : {"", "json", "xml", "html", "openmetrics"}) {
    for (bool full : {false, true}) {
      const std::string q = query_of(format, full);
      INFO("?" << q);
      const cgi_response theirs = ask_fpm(fpm, q);
      const get_result ours = get(f.port(), "/fpm-status?" + q);
      REQUIRE(ours.how == read_status::ok);
      REQUIRE(ours.response.status == 200);
      CHECK(ours.response.header("Content-Type") == theirs.header("Content-Type"));
      const status_shape a = parse_status(format, theirs.body), b = parse_status(format, ours.response.body);
      REQUIRE(!a.pool.empty());
      INFO("php-fpm: " << names(a.pool) << "\nfcgimux: " << names(b.pool));
      CHECK(a.pool == b.pool);
      CHECK(a.processes.empty() == b.processes.empty());
      if (full && format != "openmetrics") {
        REQUIRE(!a.processes.empty());
        REQUIRE(b.processes.size() == 2);
        INFO("php-fpm: " << names(a.processes[0]) << "\nfcgimux: " << names(b.processes[0]));
        CHECK(a.processes[0] == b.processes[0]);
      }
    }
  }
}

TEST_CASE("status-path's figures are fcgimux's own: its queue, its busy workers, its peaks") {
  fcgimux_instance f(demo_pool({"-n", "1", "--status-path", "/fpm-status", "--slow-threshold", "2"}));
  REQUIRE(f.wait_for_workers(1, 10s));
  const std::time_t before = std::time(nullptr);
  // Long enough that the page below is read while it runs and the other request waits, also on a
  // loaded machine (it once ended first at 1.5 s).
  std::thread busy([&] { CHECK(get(f.port(), "/slow?sleep_ms=6000").response.status == 200); });
  REQUIRE(eventually([&] { return stats_of(f)["pool"]["busy"] == 1; }, 5s));
  std::thread queued([&] { CHECK(get(f.port(), "/queued?x=1").response.status == 200); });
  REQUIRE(eventually([&] { return stats_of(f)["queue"]["length"] == 1; }, 5s));

  auto doc = nlohmann::json::parse(get(f.port(), "/fpm-status?json&full").response.body);
  CHECK(doc["pool"] == "default");
  CHECK(doc["process manager"] == "static");
  CHECK(doc["listen queue"] == 1);  // the request waiting in fcgimux's queue
  CHECK(doc["max listen queue"] == 1);
  CHECK(doc["listen queue len"] == 1024);  // --queue-limit's default
  CHECK(doc["active processes"] == 1);
  CHECK(doc["idle processes"] == 0);
  CHECK(doc["total processes"] == 1);
  CHECK(doc["max active processes"] == 1);
  CHECK(doc["accepted conn"] == 3);  // the two above and this one
  CHECK(doc["start time"].get<std::time_t>() <= before);
  CHECK(doc["start time"].get<std::time_t>() >= before - 60);
  REQUIRE(doc["processes"].size() == 1);
  const auto& p = doc["processes"][0];
  CHECK(p["pid"] == f.worker_pids().at(0));
  CHECK(p["state"] == "Running");
  CHECK(p["request method"] == "GET");
  CHECK(p["request uri"] == "/slow");  // cut at '?' without --stats-show-query
  CHECK(p["request duration"].get<std::uint64_t>() > 0);
  busy.join();
  queued.join();
  // The 6 s request passed --slow-threshold; the other did not (it waited in the queue, not at the worker).
  auto after = nlohmann::json::parse(get(f.port(), "/fpm-status?json").response.body);
  CHECK(after["slow requests"] == 1);
  CHECK(after["listen queue"] == 0);
  CHECK(after["idle processes"] == 1);
}

TEST_CASE("the stats server's /fpm-status answers php-fpm's page of the pool named") {
  fcgimux_instance f(demo_pool({"-n", "1", "-N", "3"}));
  const auto one = http_request(f.stats_port(), "GET", "/fpm-status?json");
  REQUIRE(one.status == 200);
  auto doc = nlohmann::json::parse(one.body);
  CHECK(doc["pool"] == "default");
  CHECK(doc["process manager"] == "dynamic");
  CHECK(http_request(f.stats_port(), "GET", "/fpm-status?json&pool=default").status == 200);
  CHECK(http_request(f.stats_port(), "GET", "/fpm-status?pool=nosuch").status == 404);
  const auto text = http_request(f.stats_port(), "GET", "/fpm-status");
  REQUIRE(text.status == 200);
  CHECK(parse_status("", text.body).value("process manager") == "dynamic");
}
