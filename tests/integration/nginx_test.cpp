// SPDX-License-Identifier: ISC
// Real nginx in front of fcgimux, with and without kept-alive upstream connections.

#include "backends.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/nginx_instance.hpp"
#include "tests/support/test_data.hpp"

#include <catch2/catch.hpp>

#include <mutex>
#include <thread>

using namespace fcgimux::test;

namespace {

// One request through nginx; "" if the answer is right, else what went wrong.
std::string checked_request(http_connection& conn, int i) {
  http_response r;
  std::string expected;
  if (i % 2 == 0) {
    std::size_t n = 1000 + static_cast<std::size_t>(i) * 37;
    expected = pattern_bytes(n);
    r = conn.request("GET", "/data?bytes=" + std::to_string(n));
  } else {
    expected = random_bytes(static_cast<std::size_t>(i) * 97 % 5000, static_cast<std::uint64_t>(i));
    r = conn.request("POST", "/echo", expected);
  }
  if (!r.ok) return "request " + std::to_string(i) + ": " + r.error;
  if (r.status != 200) return "request " + std::to_string(i) + ": status " + std::to_string(r.status);
  if (r.body != expected) {
    return "request " + std::to_string(i) + ": body of " + std::to_string(r.body.size()) + " bytes differs at " +
           std::to_string(first_difference(r.body, expected)) + " (expected " + std::to_string(expected.size()) + ")";
  }
  return {};
}

}  // namespace

TEST_CASE("nginx in front of fcgimux", "[proxy][nginx]") {
  auto name = GENERATE(as<std::string>{}, "demo", "php-cgi", "fcgiwrap");
  bool keepalive = GENERATE(false, true);
  INFO("backend " << name << ", "
                  << (keepalive ? "upstream keepalive + fastcgi_keep_conn on"
                                : "a new upstream connection per request"));
  temp_dir dir;
  backend b = backend_named(name, dir);
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "4"}));
  nginx_options o;
  o.upstream = mux.address();
  o.keepalive = keepalive;
  o.script_filename = b.script_filename;
  nginx_instance nginx(o);

  SECTION("many sequential requests on one client connection") {
    http_connection conn(nginx.port());
    for (int i = 0; i < 200; ++i) {
      std::string problem = checked_request(conn, i);
      if (!problem.empty()) {
        FAIL(problem << "\nnginx error log:\n" << nginx.error_log() << "\nfcgimux stderr:\n" << mux.stderr_text());
      }
    }
  }
  SECTION("concurrent clients") {
    constexpr int clients = 16;
    constexpr int per_client = 40;
    std::mutex m;
    std::vector<std::string> problems;
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t) {
      threads.emplace_back([&, t] {
        http_connection conn(nginx.port());
        for (int k = 0; k < per_client; ++k) {
          std::string p = checked_request(conn, t * per_client + k);
          if (!p.empty()) {
            std::lock_guard lock(m);
            problems.push_back(p);
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    INFO("nginx error log:\n" << nginx.error_log() << "\nfcgimux stderr:\n" << mux.stderr_text());
    for (std::size_t i = 0; i < problems.size() && i < 5; ++i) UNSCOPED_INFO(problems[i]);
    CHECK(problems.size() == 0);
  }
  SECTION("10 MiB request body and 10 MiB response") {
    std::size_t size = std::size_t{10} << 20;
    http_connection conn(nginx.port());
    std::string body = random_bytes(size, 11);
    http_response post = conn.request("POST", "/echo", body, 30s);
    INFO("error: " << post.error << "\nnginx error log:\n" << nginx.error_log());
    REQUIRE(post.ok);
    CHECK(post.status == 200);
    CHECK(post.body.size() == size);
    CHECK(first_difference(post.body, body) == size);
    http_response get = conn.request("GET", "/data?bytes=" + std::to_string(size), {}, 30s);
    REQUIRE(get.ok);
    CHECK(get.status == 200);
    CHECK(get.body.size() == size);
    CHECK(first_difference(get.body, pattern_bytes(size)) == size);
  }
  // nginx logs at [error] whatever it finds wrong with an upstream's FastCGI answer.
  std::string log = nginx.error_log();
  INFO("nginx error log:\n" << log);
  CHECK(log.find("[error]") == std::string::npos);
}
