// SPDX-License-Identifier: ISC
// php-fpm's `last request cpu` and `last request memory` in ?full, through the real fcgimux and
// php-cgi: a page that allocates 20 MiB and burns CPU against a hello page, at the same worker,
// with the workers as fcgimux's own user and (as root) as another user.

#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

// 20 MiB in one string (written, so resident), then at least 300 ms of CPU by the process's own
// clock, so a loaded machine still gives it that much.
constexpr const char* heavy_php = R"(<?php
$s = str_repeat("x", 20 * 1024 * 1024);
$cpu = function () { $r = getrusage(); return $r["ru_utime.tv_sec"] + $r["ru_utime.tv_usec"] / 1e6; };
$until = $cpu() + 0.3;
$h = "";
while ($cpu() < $until) $h = md5($h . $s[strlen($h)]);
echo strlen($s), "\n";
)";

cgi_response php_get(std::uint16_t port, const std::string& script) {
  fcgi_client c(endpoint::tcp(port));
  if (!c.connected()) return {};
  request_spec r;
  r.params = cgi_params("GET", "/" + script.substr(script.rfind('/') + 1));
  r.params.emplace_back("SCRIPT_FILENAME", script);
  if (c.exchange(r, 120s) != read_status::ok) return {};
  return parse_cgi_response(c.response(1).out);
}

// The one worker's entry of ?json&full once it is idle again.
nlohmann::json idle_entry(std::uint16_t port) {
  nlohmann::json p;
  eventually(
      [&] {
        const auto page = get(port, "/fpm-status?json&full");
        if (page.response.status != 200) return false;
        const auto doc = nlohmann::json::parse(page.response.body);
        if (doc["processes"].size() != 1) return false;
        p = doc["processes"][0];
        return p["state"] == "Idle";
      },
      30s);
  return p;
}

}  // namespace

TEST_CASE("status-path ?full: the worker's last request cpu and memory, larger for a 20 MiB CPU-bound page than hello",
          "[usage]") {
  const std::string user = GENERATE(as<std::string>{}, "", "nobody");
  if (!user.empty() && ::geteuid() != 0) {
    SUCCEED("workers of another user need root");
    return;
  }
  INFO("workers' user: " << (user.empty() ? "fcgimux's own" : user));
  temp_dir dir;
  ::chmod(dir.path().c_str(), 0755);  // the scripts are read by the workers' user
  write_file(dir.file("hello.php"), "<?php echo \"hello\\n\";\n");
  write_file(dir.file("heavy.php"), heavy_php);
  fcgimux_options o;
  o.args = {"-n", "1", "-N", "1", "--status-path", "/fpm-status", "--stats", "off"};
  if (!user.empty()) o.args.insert(o.args.end(), {"--user", user});
  o.command = {php_cgi_bin, "-d", "memory_limit=256M"};
  o.env = {"PHP_FCGI_CHILDREN=0"};  // the worker fcgimux started serves the requests itself
  fcgimux_instance f(o);
  REQUIRE(f.wait_for_workers(1, 30s));

  // Nothing is measured before a `full` page was asked: both figures are php-fpm's numbers, zero.
  CHECK(php_get(f.port(), dir.file("hello.php")).body == "hello\n");
  auto p = idle_entry(f.port());
  INFO(f.stderr_text());
  CHECK(p["requests"] == 1);
  REQUIRE(p["last request memory"].is_number_unsigned());
  REQUIRE(p["last request cpu"].is_number());
  CHECK(p["last request memory"] == 0);

  CHECK(php_get(f.port(), dir.file("hello.php")).body == "hello\n");
  p = idle_entry(f.port());
  const std::uint64_t hello_memory = p["last request memory"];
  CHECK(hello_memory > 1u << 20);  // php-cgi's own resident size: some MiB
  CHECK(p["pid"] == f.worker_pids().at(0));

  CHECK(php_get(f.port(), dir.file("heavy.php")).body == "20971520\n");
  p = idle_entry(f.port());
  const std::uint64_t heavy_memory = p["last request memory"];
  const double heavy_cpu = p["last request cpu"];
  INFO("hello " << hello_memory << " B, heavy " << heavy_memory << " B, " << heavy_cpu << " % cpu");
  CHECK(p["requests"] == 3);
  CHECK(heavy_memory >= hello_memory + (15u << 20));  // the 20 MiB string, though freed before its end
  CHECK(heavy_cpu > 0);

  // The peak is the last request's, not the process's: reset as each request starts. php-cgi
  // answers before it frees a request's memory, so the next request waits for that first.
  const pid_t worker = f.worker_pids().at(0);
  CHECK(eventually([&] { return rss_kib(worker) * 1024 < static_cast<long>(heavy_memory - (10u << 20)); }, 30s));
  CHECK(php_get(f.port(), dir.file("hello.php")).body == "hello\n");
  p = idle_entry(f.port());
  CHECK(p["last request memory"].get<std::uint64_t>() < heavy_memory - (10u << 20));
  // The same figures in php-fpm's text shape.
  const auto text = get(f.port(), "/fpm-status?full").response.body;
  CHECK(text.find("last request memory:  " + std::to_string(p["last request memory"].get<std::uint64_t>())) !=
        std::string::npos);
}
