// SPDX-License-Identifier: ISC
// Workers that die mid-request: the request gets a 502, a replacement is spawned, others go on.

#include "backends.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/test_data.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <thread>

using namespace fcgimux::test;
using fcgimux::proto::protocol_status;

namespace {

std::string wchan(pid_t pid) { return read_file("/proc/" + std::to_string(pid) + "/wchan"); }

// The worker sleeping in nanosleep, i.e. serving a sleep_ms request; 0 if none within the timeout.
pid_t sleeping_worker(const fcgimux_instance& mux, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (pid_t p : mux.worker_pids()) {
      if (wchan(p).find("nanosleep") != std::string::npos) return p;
    }
    std::this_thread::sleep_for(10ms);
  }
  return 0;
}

// Waits until fcgimux has `n` workers again, none of them `dead`.
bool replaced(const fcgimux_instance& mux, pid_t dead, std::size_t n, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto pids = mux.worker_pids();
    pids.erase(std::remove_if(pids.begin(), pids.end(), [](pid_t p) { return !process_alive(p); }), pids.end());
    if (pids.size() >= n && std::find(pids.begin(), pids.end(), dead) == pids.end()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

void check_bad_gateway(fcgi_client& c, fcgimux_instance& mux) {
  REQUIRE_READ_OK(c.read_response(1, 10s), mux);
  const fcgi_response& r = c.response(1);
  cgi_response resp = parse_cgi_response(r.out);
  INFO("stdout: " << r.out);
  CHECK(resp.valid);
  CHECK(resp.status == 502);
}

}  // namespace

TEST_CASE("a worker that dies mid-request", "[proxy][workers]") {
  backend b = demo_backend();
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "2", "-N", "2"}));
  REQUIRE(mux.wait_for_workers(2, 10s));

  // A request on the other worker, in flight while its neighbour dies.
  fcgi_client bystander(mux.address());
  std::string body = random_bytes(20000, 3);

  SECTION("killed with SIGKILL") {
    fcgi_client victim(mux.address());
    victim.send_request(backend_request(b, "GET", "/data?bytes=10&sleep_ms=5000"));
    REQUIRE(victim.flush(5s));
    pid_t pid = sleeping_worker(mux, 5s);
    REQUIRE(pid != 0);
    bystander.send_request(backend_request(b, "POST", "/echo?sleep_ms=300", body));
    REQUIRE(bystander.flush(5s));
    std::this_thread::sleep_for(100ms);
    ::kill(pid, SIGKILL);
    auto t0 = std::chrono::steady_clock::now();
    check_bad_gateway(victim, mux);
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);  // not after the 5 s sleep would have ended
    CHECK(replaced(mux, pid, 2, 10s));
  }
  SECTION("crash=1: the worker exits after reading the request") {
    bystander.send_request(backend_request(b, "POST", "/echo?sleep_ms=300", body));
    REQUIRE(bystander.flush(5s));
    std::this_thread::sleep_for(50ms);
    auto before = mux.worker_pids();
    fcgi_client victim(mux.address());
    victim.send_request(backend_request(b, "GET", "/?crash=1"));
    REQUIRE(victim.flush(5s));
    check_bad_gateway(victim, mux);
    // Whichever worker crashed, the pool is back to two live workers.
    pid_t dead = 0;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (dead == 0 && std::chrono::steady_clock::now() < deadline) {
      for (pid_t p : before) {
        if (!process_alive(p)) dead = p;
      }
      std::this_thread::sleep_for(10ms);
    }
    CHECK(dead != 0);
    CHECK(replaced(mux, dead, 2, 10s));
  }

  REQUIRE_READ_OK(bystander.read_response(1, 10s), mux);
  CHECK(parse_cgi_response(bystander.response(1).out).body == body);
  // Later requests all succeed.
  for (int i = 0; i < 10; ++i) {
    fcgi_client c(mux.address());
    REQUIRE_READ_OK(c.exchange(backend_request(b, "GET", "/"), 10s), mux);
    cgi_response r = parse_cgi_response(c.response(1).out);
    CHECK(r.status == 200);
    CHECK(r.body.rfind("hello from pid ", 0) == 0);
  }
}

TEST_CASE("workers that retire by themselves after N requests cause no errors", "[proxy][workers]") {
  // php-cgi exits after PHP_FCGI_MAX_REQUESTS; the kept connection closes between two requests.
  auto name = GENERATE(as<std::string>{}, "demo --max-requests 3", "php-cgi PHP_FCGI_MAX_REQUESTS=3");
  INFO(name);
  temp_dir dir;
  backend b = name.rfind("demo", 0) == 0 ? demo_backend() : php_backend(dir);
  if (name.rfind("demo", 0) == 0) {
    b.command.insert(b.command.end(), {"--max-requests", "3"});
  } else {
    b.env.push_back("PHP_FCGI_MAX_REQUESTS=3");
  }
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "2"}));
  for (int i = 0; i < 40; ++i) {
    std::string body = "request " + std::to_string(i);
    fcgi_client c(mux.address());
    REQUIRE_READ_OK(c.exchange(backend_request(b, "POST", "/echo", body), 10s), mux);
    cgi_response r = parse_cgi_response(c.response(1).out);
    INFO("request " << i << ", stdout: " << c.response(1).out);
    CHECK(r.status == 200);
    CHECK(r.body == body);
  }
}

TEST_CASE("SIGTERM stops fcgimux and all its workers", "[proxy][workers]") {
  backend b = demo_backend();
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "3"}));
  REQUIRE(mux.wait_for_workers(3, 10s));
  auto workers = mux.worker_pids();
  mux.process().send_signal(SIGTERM);
  auto st = mux.process().wait_exit(10s);
  INFO("fcgimux stderr:\n" << mux.stderr_text());
  REQUIRE(st);
  CHECK(st->exited);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  std::vector<pid_t> alive = workers;
  while (!alive.empty() && std::chrono::steady_clock::now() < deadline) {
    alive.erase(std::remove_if(alive.begin(), alive.end(), [](pid_t p) { return !process_alive(p); }), alive.end());
    std::this_thread::sleep_for(10ms);
  }
  CHECK(alive.empty());
}

TEST_CASE("a worker that dies after part of its answer", "[proxy][workers]") {
  // A 502 can no longer be sent: the front must see a truncated answer, no END_REQUEST and a
  // closed connection.
  backend b = demo_backend();
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "1"}));
  constexpr std::size_t size = 200000;
  constexpr std::size_t sent = 100000;
  fcgi_client c(mux.address());
  request_spec r =
      backend_request(b, "GET", "/data?bytes=" + std::to_string(size) + "&crash_after=" + std::to_string(sent), "",
                      fcgimux::proto::flag_keep_conn);
  c.send_request(r);
  REQUIRE_READ_OK(c.read_until_closed(10s), mux);
  const fcgi_response& resp = c.response(1);
  std::string full = "Content-Type: application/octet-stream\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n" +
                     pattern_bytes(size);
  INFO("received " << resp.out.size() << " stdout bytes");
  CHECK(resp.out.size() < full.size());
  CHECK(full.compare(0, resp.out.size(), resp.out) == 0);  // a prefix: nothing added to it
  // No END_REQUEST: with one, nginx would end a chunked answer cleanly and the browser would take
  // the truncated body for a whole one; a close without it makes nginx report the cut.
  CHECK_FALSE(resp.ended);
  for (int i = 0; i < 3; ++i) {
    fcgi_client next(mux.address());
    REQUIRE_READ_OK(next.exchange(backend_request(b, "GET", "/data?bytes=50"), 10s), mux);
    CHECK(parse_cgi_response(next.response(1).out).body == pattern_bytes(50));
  }
}

TEST_CASE("kept worker connections that an idle worker closed are not a failure", "[proxy][workers]") {
  // php-cgi and libfcgi apps drop an idle connection after a few seconds; the next request on it
  // would find it closed.
  auto name = GENERATE(as<std::string>{}, "php-cgi", "fcgiwrap");
  INFO("backend " << name);
  temp_dir dir;
  backend b = backend_named(name, dir);
  fcgimux_instance mux(behind_fcgimux(b, {"-n", "1", "-N", "1", "--keep-conn", "yes"}));
  auto ask = [&](int i) {
    std::string body = "request " + std::to_string(i);
    fcgi_client c(mux.address());
    REQUIRE_READ_OK(c.exchange(backend_request(b, "POST", "/echo", body), 10s), mux);
    cgi_response r = parse_cgi_response(c.response(1).out);
    CHECK(r.status == 200);
    CHECK(r.body == body);
  };
  ask(0);
  std::this_thread::sleep_for(6500ms);  // longer than php-cgi's ~5 s idle limit
  for (int i = 1; i <= 3; ++i) ask(i);
}
