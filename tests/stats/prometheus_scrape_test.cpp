// SPDX-License-Identifier: ISC
// A real Prometheus server scrapes /metrics over HTTP and the figures come back out of its query API:
// the exposition, the content type and the histogram buckets work for the program that matters.

#include "server_fixture.hpp"

#include "tests/support/child_process.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/net.hpp"
#include "tests/support/run_program.hpp"

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

using namespace std::chrono_literals;
using namespace fcgimux::test;

namespace {

// The single value of an instant query, or nothing (yet).
std::optional<double> query(std::uint16_t port, const std::string& promql) {
  std::string encoded;
  for (unsigned char ch : promql) {
    if (std::isalnum(ch) || ch == '_' || ch == '.')
      encoded += static_cast<char>(ch);
    else
      encoded += fmt::format("%{:02X}", ch);
  }
  const auto r = http_exchange(port, http_get("/api/v1/query?query=" + encoded));
  if (!r.ok || r.status != 200) return std::nullopt;
  const auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
  const auto& result = j["data"]["result"];
  if (!result.is_array() || result.size() != 1) return std::nullopt;
  return std::stod(result[0]["value"][1].get<std::string>());
}

}  // namespace

TEST_CASE("a real Prometheus scrapes /metrics", "[prometheus][scrape]") {
  const auto prometheus = find_program("prometheus");
  if (!prometheus) FAIL("prometheus not found: install it with scripts/deps.sh stats (Debian package prometheus)");

  server_fixture f;
  f.on_server([&f] {
    f.ps().counts.requests_accepted = 4321;
    f.ps().counts.requests_completed = 4300;
    for (int i = 1; i <= 100; ++i) f.ps().service_latency.record(std::chrono::milliseconds(i));
  });

  char tmpl[] = "/tmp/fcgimux-prometheus-XXXXXX";
  REQUIRE(::mkdtemp(tmpl));
  const std::filesystem::path dir = tmpl;
  struct cleanup {
    std::filesystem::path p;
    ~cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
  } cleanup_dir{dir};
  std::ofstream(dir / "prometheus.yml") << fmt::format(
      "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n"
      "scrape_configs:\n"
      "  - job_name: fcgimux\n"
      "    static_configs: [{{targets: ['127.0.0.1:{}']}}]\n",
      f.port);
  // A port nothing listens on right now: Prometheus cannot report the one it picks for port 0.
  const std::uint16_t web_port = free_tcp_port();
  REQUIRE(web_port != 0);
  spawn_options po;
  po.argv = {*prometheus, "--config.file=" + (dir / "prometheus.yml").string(),
             "--storage.tsdb.path=" + (dir / "data").string(),
             fmt::format("--web.listen-address=127.0.0.1:{}", web_port)};
  po.stdout_path = po.stderr_path = (dir / "prometheus.log").string();
  child_process prom(po);

  std::optional<double> up, accepted;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline && prom.running()) {
    up = query(web_port, "up{job=\"fcgimux\"}");
    accepted = query(web_port, "fcgimux_requests_accepted_total");
    if (up == 1.0 && accepted) break;
    std::this_thread::sleep_for(250ms);
  }
  INFO("prometheus log: " << prom.stderr_text().substr(0, 6000));
  REQUIRE(up == 1.0);
  REQUIRE(accepted == 4321.0);
  CHECK(query(web_port, "fcgimux_requests_active") == 21.0);
  CHECK(query(web_port, "fcgimux_requests_accepted_total{pool=\"default\"}") == 4321.0);
  CHECK(query(web_port, "fcgimux_service_seconds_count") == 100.0);
  CHECK(query(web_port, "scrape_samples_post_metric_relabeling{job=\"fcgimux\"}") > 50);
  CHECK(query(web_port, "fcgimux_worker_busy{pid=\"4242\"}") == 1.0);
  // the median of 1..100 ms lies in the bucket (2^25 ns, 2^26 ns]; histogram_quantile must land there
  const auto median = query(web_port, "histogram_quantile(0.5, fcgimux_service_seconds_bucket)");
  REQUIRE(median);
  CHECK(*median > 0.033554432);
  CHECK(*median <= 0.067108864);
}
