// SPDX-License-Identifier: ISC
// A SIGHUP that changes a pool's servers (issue 22 item 6), with the real fcgimux and real php-fpm
// servers: a removed server drains (its requests in flight finish, it gets no new one, then it is
// freed), an added one takes requests, a changed max-conns applies. No request fails.

#include "tests/remote/fpm_server.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/fcgi_client.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/thread_group.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

// Which server answered a GET, checked to be the answer to this very request; "" on failure.
std::string ask(const endpoint& front, const std::string& script, const std::string& query, std::string& why) {
  fcgi_client c(front);
  if (!c.connected()) {
    why = "cannot connect to fcgimux";
    return "";
  }
  request_spec r;
  r.params = cgi_params("GET", "/answer.php" + query);
  r.params.emplace_back("SCRIPT_FILENAME", script);
  if (auto st = c.exchange(r, 30s); st != read_status::ok) {
    why = std::string("read: ") + to_string(st);
    return "";
  }
  auto http = parse_cgi_response(c.response(1).out);
  auto a = parse_answer(http.body);
  if (!http.valid || http.status != 200 || !a.ok || a.method != "GET" || a.length != 0) {
    why = "answer: " + c.response(1).out;
    return "";
  }
  return a.server;
}

// `n` GETs at once (each on its own connection); how many each server answered, failures in `failures`.
std::map<std::string, int> at_once(const endpoint& front, const std::string& script, int n, const std::string& query,
                                   std::vector<std::string>& failures) {
  std::map<std::string, int> by;
  std::mutex mu;
  std::vector<std::thread> ts;
  for (int i = 0; i < n; ++i)
    ts.emplace_back([&] {
      std::string why;
      auto s = ask(front, script, query, why);
      std::lock_guard l(mu);
      if (s.empty())
        failures.push_back(why);
      else
        ++by[s];
    });
  for (auto& t : ts) t.join();
  return by;
}

bool logged(const fcgimux_instance& mux, const std::string& what, std::chrono::milliseconds within) {
  const auto end = std::chrono::steady_clock::now() + within;
  while (mux.stderr_text().find(what) == std::string::npos) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// A pool of servers only, read from a file that each test rewrites before a SIGHUP.
struct servers_pool {
  temp_dir dir{"fcgimux-server-reload"};
  std::string file = dir.file("fcgimux.json");
  std::unique_ptr<fcgimux_instance> mux;
  int reloads = 0;

  void write(const std::string& servers) { write_file(file, R"({"stats": "off", "servers": [)" + servers + "]}"); }
  void start(const std::string& servers) {
    write(servers);
    fcgimux_options o;
    o.args = {"-c", file};
    mux = std::make_unique<fcgimux_instance>(o);
  }
  void reload(const std::string& servers) {
    write(servers);
    mux->process().send_signal(SIGHUP);
    ++reloads;
    const std::string done = "configuration reloaded";
    REQUIRE(eventually_count(done, reloads));
  }
  bool eventually_count(const std::string& what, int n) {
    for (int i = 0; i < 1000; ++i) {
      const std::string t = mux->stderr_text();
      int k = 0;
      for (auto at = t.find(what); at != std::string::npos; at = t.find(what, at + 1)) ++k;
      if (k >= n) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
};

std::string server_json(const fpm_server& s, int max_conns) {
  return R"({"address": ")" + s.address() + R"(", "max-conns": )" + std::to_string(max_conns) + "}";
}

}  // namespace

TEST_CASE("a SIGHUP that removes a server drains it: its requests finish, new ones go elsewhere, then it is freed",
          "[lifetimes][servers]") {
  fpm_server a("a", 3), b("b", 3);
  servers_pool p;
  p.start(server_json(a, 3) + "," + server_json(b, 3));
  std::string why;
  REQUIRE(!ask(p.mux->address(), a.script(), "", why).empty());

  // Six slow requests: least outstanding puts three at each server.
  std::vector<std::string> failures;
  std::map<std::string, int> slow;
  thread_group slow_load;
  slow_load.spawn([&] { slow = at_once(p.mux->address(), a.script(), 6, "?sleep=2000", failures); });
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  // The script's own count: three requests at once at a (a status page would need a free child).
  while (a.peak() < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  REQUIRE(a.peak() == 3);

  p.reload(server_json(b, 3));
  INFO(p.mux->stderr_text());
  CHECK(logged(*p.mux, "server " + a.address() + " removed; 3 requests in flight there finish first", 5s));
  // New requests go to b only, while a's three are still at work.
  std::vector<std::string> later_failures;
  auto later = at_once(p.mux->address(), a.script(), 3, "", later_failures);
  CHECK(later_failures.empty());
  CHECK(later["b"] == 3);
  slow_load.join();
  CHECK(failures.empty());
  CHECK(slow["a"] == 3);  // the requests in flight on the removed server finished there
  CHECK(slow["b"] == 3);
  CHECK(logged(*p.mux, "server " + a.address() + " drained and forgotten", 10s));
  CHECK(connections_to(a.where().port) == 0);
  for (int i = 0; i < 10; ++i) CHECK(ask(p.mux->address(), a.script(), "", why) == "b");
}

TEST_CASE("a SIGHUP that adds a server starts it: it takes its share of the requests", "[lifetimes][servers]") {
  fpm_server a("a", 3), b("b", 3);
  servers_pool p;
  p.start(server_json(a, 3));
  std::vector<std::string> failures;
  auto before = at_once(p.mux->address(), a.script(), 6, "?sleep=300", failures);
  CHECK(before.count("b") == 0);
  p.reload(server_json(a, 3) + "," + server_json(b, 3));
  INFO(p.mux->stderr_text());
  CHECK(logged(*p.mux, "server " + b.address() + " added", 5s));
  auto after = at_once(p.mux->address(), a.script(), 6, "?sleep=300", failures);
  CHECK(failures.empty());
  // Six at once, three at most at each: the new server serves its part.
  CHECK(after["a"] + after["b"] == 6);
  CHECK(after["b"] > 0);
}

TEST_CASE("a SIGHUP that changes a server's max-conns applies it at once", "[lifetimes][servers]") {
  fpm_server a("a", 4);
  servers_pool p;
  p.start(server_json(a, 1));
  std::vector<std::string> failures;
  const std::string peak_file = std::filesystem::path(a.script()).parent_path() / "peak-a";
  at_once(p.mux->address(), a.script(), 6, "?sleep=100", failures);
  CHECK(a.peak() == 1);
  write_file(peak_file, "0");
  p.reload(server_json(a, 3));
  INFO(p.mux->stderr_text());
  CHECK(logged(*p.mux, "server " + a.address() + ": weight 1, max-conns 3", 5s));
  at_once(p.mux->address(), a.script(), 9, "?sleep=300", failures);
  CHECK(a.peak() == 3);
  write_file(peak_file, "0");
  p.reload(server_json(a, 2));
  at_once(p.mux->address(), a.script(), 9, "?sleep=300", failures);
  CHECK(a.peak() == 2);  // lowered: kept connections past the limit were closed
  CHECK(failures.empty());
}
