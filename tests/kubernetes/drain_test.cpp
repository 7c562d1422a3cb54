// SPDX-License-Identifier: ISC
// --shutdown-delay as Kubernetes needs it: nginx sends to three fcgimux instances; one gets
// SIGTERM while a poller of each /healthz (the endpoints controller) takes it out of nginx's
// upstream. With the delay, the member is gone from the upstream before it stops accepting: no
// request fails. Without it, the connects sent before the poller noticed are refused.

#include "tests/kubernetes/nginx_front.hpp"
#include "tests/support/fcgi_client.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/paths.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <csignal>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace fcgimux::test;
using steady = std::chrono::steady_clock;

namespace {

struct drain_result {
  std::size_t ok = 0, failed = 0;
  std::string first_failure;
  double stopped_after_s = 0;   ///< SIGTERM to the instance's exit
  double removed_after_s = -1;  ///< SIGTERM to nginx's reload without it
  std::size_t refused_in_log = 0;
  std::string fcgimux_log;
};

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

drain_result run_drain(double delay_s) {
  std::vector<std::unique_ptr<fcgimux_instance>> mux;
  std::vector<std::uint16_t> ports, stats_ports;
  for (int i = 0; i < 3; ++i) {
    fcgimux_options o;
    o.args = {"-n", "3", "--stats", "127.0.0.1:0", "--shutdown-delay", fmt::format("{}", delay_s)};
    o.command = {demo_bin};
    mux.push_back(std::make_unique<fcgimux_instance>(o));
    ports.push_back(mux.back()->port());
    std::uint16_t sp = mux.back()->stats_port();
    if (!sp) sp = mux.back()->wait_for_port("stats on 127.0.0.1:", 10s);
    REQUIRE(sp != 0);
    stats_ports.push_back(sp);
  }
  nginx_front front(ports);

  drain_result out;
  std::mutex m;
  std::atomic<bool> stop{false};
  const auto start = steady::now();
  std::atomic<std::int64_t> term_at_ms{-1}, removed_at_ms{-1};
  auto ms_since_start = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start).count();
  };

  // The endpoints controller: a member is in the upstream while its /healthz answers 200.
  std::thread poller([&] {
    std::vector<bool> ready(3, true);
    while (!stop) {
      std::vector<bool> now(3);
      for (int i = 0; i < 3; ++i) {
        const http_response r = http_request(stats_ports[i], "GET", "/healthz", {}, 2s);
        now[i] = r.ok && r.status == 200;
      }
      if (now != ready) {
        std::vector<std::uint16_t> members;
        for (int i = 0; i < 3; ++i)
          if (now[i]) members.push_back(ports[i]);
        if (front.set_members(members)) {
          ready = now;
          if (!now[0] && removed_at_ms < 0) removed_at_ms = ms_since_start();
        }
      }
      std::this_thread::sleep_for(250ms);
    }
  });
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      while (!stop) {
        const http_response r = http_request(front.port(), "GET", "/?sleep_ms=10", {}, 20s);
        std::lock_guard lock(m);
        if (r.ok && r.status == 200) {
          ++out.ok;
        } else {
          if (out.failed++ == 0) out.first_failure = r.ok ? fmt::format("status {}", r.status) : r.error;
        }
      }
    });

  std::this_thread::sleep_for(1500ms);
  term_at_ms = ms_since_start();
  mux[0]->process().send_signal(SIGTERM);
  const auto exited = mux[0]->process().wait_exit(30s);
  out.stopped_after_s = static_cast<double>(ms_since_start() - term_at_ms) / 1e3;
  std::this_thread::sleep_for(1000ms);
  stop = true;
  for (auto& c : clients) c.join();
  poller.join();
  if (removed_at_ms >= 0) out.removed_after_s = static_cast<double>(removed_at_ms - term_at_ms) / 1e3;
  out.refused_in_log = count_of(front.error_log(), "Connection refused");
  out.fcgimux_log = mux[0]->stderr_text();
  REQUIRE(exited);
  return out;
}

}  // namespace

TEST_CASE("with --shutdown-delay no request fails while a member leaves nginx's upstream",
          "[kubernetes][drain][integration]") {
  const drain_result r = run_drain(2);
  WARN("delay 2: ok " << r.ok << ", failed " << r.failed << " (" << r.first_failure << "), removed after "
                      << r.removed_after_s << " s, stopped after " << r.stopped_after_s
                      << " s, refused in nginx's log " << r.refused_in_log);
  INFO(r.fcgimux_log);
  CHECK(r.ok > 100);
  CHECK(r.failed == 0);
  CHECK(r.refused_in_log == 0);
  // The poller saw 503 and took it out while it still served, and it served on for the delay.
  CHECK(r.removed_after_s >= 0);
  CHECK(r.removed_after_s < 2.0);
  CHECK(r.stopped_after_s >= 2.0);
  CHECK(r.fcgimux_log.find("/healthz answers 503") != std::string::npos);
}

TEST_CASE("without --shutdown-delay the connects sent before the upstream changed are refused",
          "[kubernetes][drain][integration]") {
  const drain_result r = run_drain(0);
  WARN("delay 0: ok " << r.ok << ", failed " << r.failed << " (" << r.first_failure << "), removed after "
                      << r.removed_after_s << " s, stopped after " << r.stopped_after_s
                      << " s, refused in nginx's log " << r.refused_in_log);
  CHECK(r.ok > 100);
  // What the delay prevents: between SIGTERM and the reload, a third of the connects meet a
  // closed listener.
  CHECK(r.failed > 0);
  CHECK(r.refused_in_log > 0);
}

TEST_CASE("during --shutdown-delay /healthz is 503, new connections are served, a second signal stops at once",
          "[kubernetes][drain][integration]") {
  fcgimux_options o;
  o.args = {"-n", "1", "--stats", "127.0.0.1:0", "--shutdown-delay", "20"};
  o.command = {demo_bin};
  fcgimux_instance mux(o);
  std::uint16_t stats = mux.stats_port();
  if (!stats) stats = mux.wait_for_port("stats on 127.0.0.1:", 10s);
  REQUIRE(stats != 0);
  REQUIRE(http_request(stats, "GET", "/healthz", {}, 5s).status == 200);

  mux.process().send_signal(SIGTERM);
  // /healthz turns 503 at once (well before the 20 s delay); the pool's own view does too.
  const auto deadline = steady::now() + 10s;
  while (http_request(stats, "GET", "/healthz", {}, 5s).status != 503) {
    REQUIRE(steady::now() < deadline);
    std::this_thread::sleep_for(20ms);
  }
  CHECK(http_request(stats, "GET", "/healthz?pool=default", {}, 5s).status == 503);
  // A connection made after the signal is accepted and its request answered.
  fcgi_client c(mux.address());
  REQUIRE(c.connected());
  request_spec r;
  r.params = cgi_params("GET", "/");
  REQUIRE(c.exchange(r, 10s) == read_status::ok);
  CHECK(c.response(1).ended);
  CHECK(c.response(1).out.find("hello from pid") != std::string::npos);
  CHECK(mux.process().running());

  // A second signal does not wait out the delay.
  const auto second = steady::now();
  mux.process().send_signal(SIGTERM);
  const auto status = mux.process().wait_exit(10s);
  REQUIRE(status);
  CHECK(steady::now() - second < 8s);
  CHECK(mux.stderr_text().find("second signal during --shutdown-delay") != std::string::npos);
}
