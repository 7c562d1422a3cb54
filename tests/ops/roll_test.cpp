// SPDX-License-Identifier: ISC
// SIGHUP replaces every worker of every pool (issue 15, the rolling restart): under load behind
// nginx, with no failed request and never fewer ready workers; a request in flight on an old worker
// finishes; new workers that cannot start leave the old ones serving.

#include "backends.hpp"
#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/ops/nginx_load.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nginx_instance.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/test_data.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

nlohmann::json pool_of(const fcgimux_instance& f) { return stats_of(f)["pools"]["default"]; }

bool rolled_to(const fcgimux_instance& f, int generation) {
  auto p = pool_of(f);
  return p["generation"] == generation && p["roll"]["state"] == "idle";
}

std::set<pid_t> pids_of(const std::vector<pid_t>& v) { return {v.begin(), v.end()}; }

// Whether fcgimux's n workers all run `program` by now. A worker is idle once its program was
// exec'd; a wrapper script is then still deciding what to exec itself (slowly, on a busy machine).
bool all_run(const fcgimux_instance& f, const std::string& program, std::size_t n) {
  const auto pids = f.worker_pids();
  std::error_code ec;
  const auto want = std::filesystem::canonical(program, ec);
  if (ec || pids.size() != n) return false;
  return std::all_of(pids.begin(), pids.end(), [&](pid_t pid) {
    std::error_code e;
    return std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", e) == want && !e;
  });
}

}  // namespace

TEST_CASE("SIGHUP three times under load behind nginx: every worker replaced, no request failed", "[ops][roll]") {
  temp_dir dir;
  backend b = php_backend(dir);
  // php-cgi would leave on its own after 500 requests (its default), and a worker replaced that
  // way lowers the ready count for a moment whatever the roll does.
  b.env.push_back("PHP_FCGI_MAX_REQUESTS=0");
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "4", "--stats", "127.0.0.1:0"}));
  REQUIRE(mux.wait_for_workers(4, 10s));
  REQUIRE(eventually([&] { return pool_of(mux)["pool"]["idle"] == 4; }, 10s));
  nginx_instance nginx({.upstream = mux.address(),
                        .keepalive = true,
                        .keepalive_connections = 16,
                        .backups = {},
                        .script_filename = b.script_filename});

  nginx_load load(nginx.port(), 20);

  // The ready workers (idle + busy) are sampled all along: a roll must never lower them.
  std::atomic<bool> sampling{true};
  std::atomic<int> fewest_ready{1000};
  std::thread sampler([&] {
    while (sampling) {
      auto p = pool_of(mux)["pool"];
      int ready = p["idle"].get<int>() + p["busy"].get<int>();
      fewest_ready = std::min(fewest_ready.load(), ready);
      std::this_thread::sleep_for(10ms);
    }
  });

  // Waits for answers, not for time: a busy machine serves fewer in any fixed span.
  auto served_more = [&](int n) {
    const int from = load.ok();
    return eventually([&] { return load.ok() >= from + n; }, 30s);
  };
  REQUIRE(served_more(100));
  const auto first = pids_of(mux.worker_pids());
  std::set<pid_t> seen = first;
  for (int generation = 2; generation <= 4; ++generation) {
    mux.process().send_signal(SIGHUP);
    REQUIRE(eventually(
        [&] {
          for (pid_t p : mux.worker_pids()) seen.insert(p);
          return rolled_to(mux, generation);
        },
        30s));
    REQUIRE(served_more(100));  // load on the new generation too
  }
  load.stop();
  sampling = false;
  sampler.join();

  INFO("fcgimux stderr:\n" << mux.stderr_text());
  INFO("nginx error log:\n" << nginx.error_log());
  const auto failures = load.failures();
  INFO(failures.size() << " failed, first: " << (failures.empty() ? "" : failures.front()));
  CHECK(failures.empty());
  CHECK(mux.process().running());  // the same fcgimux all along
  CHECK(fewest_ready >= 4);
  const auto last = pids_of(mux.worker_pids());
  CHECK(last.size() == 4);
  for (pid_t p : first) {
    INFO("first-generation worker " << p);
    CHECK_FALSE(last.count(p));
    CHECK(eventually([&] { return !process_alive(p); }, 5s));
  }
  CHECK(seen.size() >= 4 * 4);  // four generations of four
  auto s = stats_of(mux);
  CHECK(s["requests"]["failed"] == 0);
  CHECK(s["pools"]["default"]["generation"] == 4);
  const auto full = nlohmann::json::parse(http_request(mux.stats_port(), "GET", "/stats?full").body);
  for (const auto& w : full["workers"])
    if (w["state"] != "stopping") CHECK(w["generation"] == 4);  // replaced ones may still be on their way out
}

TEST_CASE("a SIGHUP lets a long request on an old worker finish, then stops that worker", "[ops][roll]") {
  temp_dir dir;
  // The worker ignores SIGTERM: it can only go by SIGKILL, after --stop-grace.
  const std::string wrapper = dir.file("deaf.sh");
  write_file(wrapper, "#!/bin/sh\ntrap '' TERM\nexec " + std::string(demo_bin) + "\n", true);
  fcgimux_instance mux(fcgimux_options{
      .args = {"-n", "1", "--stats", "127.0.0.1:0", "--stop-grace", "1"}, .command = {wrapper}, .env = {}});
  REQUIRE(eventually([&] { return pool_of(mux)["pool"]["idle"] == 1; }, 10s));
  const pid_t old = mux.worker_pids().at(0);

  get_result slow;
  std::thread request([&] { slow = get(mux.port(), "/slow?sleep_ms=3000&bytes=200000", 20s); });
  REQUIRE(eventually([&] { return pool_of(mux)["pool"]["busy"] == 1; }, 5s));
  const auto hup_at = std::chrono::steady_clock::now();
  mux.process().send_signal(SIGHUP);
  // A new worker serves meanwhile; the old one is still on its request well past --stop-grace.
  REQUIRE(eventually([&] { return pool_of(mux)["roll"]["new"] == 1; }, 5s));
  CHECK(get(mux.port(), "/x?bytes=3").response.body == "abc");
  std::this_thread::sleep_until(hup_at + 2s);
  CHECK(process_alive(old));
  request.join();
  INFO("fcgimux stderr:\n" << mux.stderr_text());
  REQUIRE(slow.how == read_status::ok);
  CHECK(slow.response.status == 200);
  CHECK(slow.response.body == pattern_bytes(200000));
  CHECK(eventually([&] { return !process_alive(old); }, 5s));
  CHECK(eventually([&] { return rolled_to(mux, 2); }, 5s));
  CHECK(stats_of(mux)["requests"]["failed"] == 0);
}

TEST_CASE("a SIGHUP whose new workers cannot start leaves the old ones serving, a later one retries", "[ops][roll]") {
  temp_dir dir;
  const std::string broken = dir.file("broken");
  const std::string wrapper = dir.file("deploy.sh");
  write_file(wrapper, "#!/bin/sh\n[ -e " + broken + " ] && exit 1\nexec " + std::string(demo_bin) + "\n", true);
  fcgimux_instance mux(fcgimux_options{.args = {"-n", "2", "--stats", "127.0.0.1:0"}, .command = {wrapper}, .env = {}});
  REQUIRE(eventually([&] { return pool_of(mux)["pool"]["idle"] == 2; }, 10s));
  // Only then is the deploy broken: a wrapper that had not looked yet would exit too.
  REQUIRE(eventually([&] { return all_run(mux, demo_bin, 2); }, 20s));
  const auto before = pids_of(mux.worker_pids());

  write_file(broken, "a bad deploy\n");
  mux.process().send_signal(SIGHUP);
  REQUIRE(eventually([&] { return pool_of(mux)["roll"]["state"] == "failed"; }, 10s));
  auto p = pool_of(mux);
  INFO(p.dump(2));
  CHECK(p["generation"] == 2);
  CHECK(p["roll"]["old"] == 2);
  CHECK(p["roll"]["error"].get<std::string>().find("exited with status 1") != std::string::npos);
  CHECK(eventually([&] { return mux.stderr_text().find("roll stopped") != std::string::npos; }, 10s));
  for (int i = 0; i < 20; ++i) CHECK(get(mux.port(), "/x?bytes=3").response.body == "abc");
  for (pid_t pid : before) CHECK(process_alive(pid));
  CHECK(stats_of(mux)["requests"]["failed"] == 0);

  ::unlink(broken.c_str());
  mux.process().send_signal(SIGHUP);
  REQUIRE(eventually([&] { return rolled_to(mux, 3); }, 15s));
  for (pid_t pid : before) CHECK(eventually([&] { return !process_alive(pid); }, 5s));
  CHECK(get(mux.port(), "/x?bytes=3").response.body == "abc");
}

TEST_CASE("a SIGHUP during a roll retargets it, and SIGUSR1 does not stop fcgimux", "[ops][roll]") {
  fcgimux_instance mux(
      fcgimux_options{.args = {"-n", "3", "--stats", "127.0.0.1:0"}, .command = {demo_bin}, .env = {}});
  REQUIRE(eventually([&] { return pool_of(mux)["pool"]["idle"] == 3; }, 10s));
  mux.process().send_signal(SIGHUP);
  REQUIRE(eventually([&] { return pool_of(mux)["roll"]["state"] == "rolling"; }, 5s));
  // Two signals sent at once are one to the kernel: the second comes once the first was taken.
  std::this_thread::sleep_for(200ms);
  mux.process().send_signal(SIGHUP);  // while the first roll is under way
  REQUIRE(eventually([&] { return rolled_to(mux, 3); }, 15s));
  nlohmann::json workers;
  // The last replaced ones may still be on their way out ("stopping").
  CHECK(eventually(
      [&] {
        workers = nlohmann::json::parse(http_request(mux.stats_port(), "GET", "/stats?full").body)["workers"];
        return workers.size() == 3;
      },
      5s));
  for (auto& w : workers) CHECK(w["generation"] == 3);
  CHECK(eventually([&] { return mux.stderr_text().find("retargeting") != std::string::npos; }, 10s));
  mux.process().send_signal(SIGUSR1);  // SIGUSR2 upgrades fcgimux: upgrade_test.cpp
  std::this_thread::sleep_for(300ms);
  CHECK(mux.process().running());
  CHECK(get(mux.port(), "/x?bytes=3").response.body == "abc");
}
