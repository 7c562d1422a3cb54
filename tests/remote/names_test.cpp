// SPDX-License-Identifier: ISC
// Servers given by a host name (issue 22 item 5), as a user would run them: fcgimux in a mount
// namespace of its own whose /etc/hosts is a file of the test's (a bind mount; glibc's files
// backend reads the file again at every lookup, and a bind mount follows the file's inode, so the
// file is rewritten in place), real php-fpm servers on 127.0.0.2, .3 and .4, requests running
// all along. The name moving from .2/.3 to .2/.4 drains the member of .3 and adds one for .4,
// and no request fails. A reload whose names cannot be resolved (one that times out at a DNS
// server that never answers, one that does not exist) fails as a whole, and fcgimux serves on,
// also while the lookup is under way: it runs off the event loop. Root: unshare -m, mount.

#include "tests/remote/fpm_server.hpp"
#include "tests/remote/remote_load.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/thread_group.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

// Rewrites `path` in place (same inode, which the bind mount shows): the new text is as long as
// the old one or longer, so no lookup ever reads an empty file.
void rewrite_in_place(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()));
  REQUIRE(::ftruncate(fd, static_cast<off_t>(text.size())) == 0);
  ::close(fd);
}

// fcgimux run through `unshare -m` with `hosts` (and `resolv`, when given) mounted over the
// system's files: only fcgimux sees them.
std::string namespaced_fcgimux(const temp_dir& dir, const std::string& hosts, const std::string& resolv = "") {
  std::string mounts = "mount --bind \"$0\" /etc/hosts";
  if (!resolv.empty()) mounts += " && mount --bind " + resolv + " /etc/resolv.conf";
  const std::string script = dir.file("fcgimux-in-namespace");
  write_file(script,
             "#!/bin/sh\nexec /usr/bin/unshare -m --propagation private /bin/sh -c '" + mounts + " && exec \"$@\"' " +
                 hosts + " " + fcgimux_bin + " \"$@\"\n",
             true);
  return script;
}

nlohmann::json stats_of(std::uint16_t port) {
  auto r = http_request(port, "GET", "/stats");
  if (!r.ok || r.status != 200) return nullptr;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

nlohmann::json servers_of(std::uint16_t port) {
  auto j = stats_of(port);
  if (!j.is_object() || !j["pools"]["default"].contains("servers")) return nlohmann::json::object();
  return j["pools"]["default"]["servers"];
}

std::string state_in(const nlohmann::json& servers, const std::string& key) {
  return servers.contains(key) ? servers[key].value("state", "") : "gone";
}

// The number of requests the log says were in flight at `member` as it began to drain; -1 before.
int in_flight_at_drain(const std::string& log, const std::string& member) {
  const std::string said = "server " + member + " is no longer an address of its name; ";
  const auto at = log.find(said);
  return at == std::string::npos ? -1 : std::atoi(log.c_str() + at + said.size());
}

bool eventually(const std::function<bool()>& f, std::chrono::seconds within = 60s) {
  for (auto end = std::chrono::steady_clock::now() + within; std::chrono::steady_clock::now() < end;) {
    if (f()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// Clients sending GETs and POSTs, every answer checked, counted per server until stopped.
struct load {
  load(const endpoint& front, std::string script) : front_(front), script_(std::move(script)) {
    for (int t = 0; t < 3; ++t)
      threads_.emplace_back([this, t] {
        for (int i = 0; !stop_; ++i) {
          const bool post = (i + t) % 3 == 0;
          const std::uint64_t generation = phase_;
          auto out =
              ask(front_, script_, post ? "POST" : "GET", "/answer.php?sleep=5", post ? body_for(i * 7 + t, 3000) : "");
          std::lock_guard l(mu_);
          if (!out.ok)
            failures_.push_back(out.why);
          else
            ++by_[generation][out.server];
        }
      });
  }
  ~load() { end(); }
  void end() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  /// Requests begun from now on are counted apart.
  void next_phase() { ++phase_; }
  int answered(std::uint64_t phase, const std::string& server) {
    std::lock_guard l(mu_);
    return by_[phase][server];
  }
  std::vector<std::string> failures() {
    std::lock_guard l(mu_);
    return failures_;
  }

 private:
  endpoint front_;
  std::string script_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> phase_{0};
  std::mutex mu_;
  std::map<std::uint64_t, std::map<std::string, int>> by_;
  std::vector<std::string> failures_;
  std::vector<std::thread> threads_;
};

}  // namespace

TEST_CASE("a name's new answer: the member of an address gone drains and goes, a new address joins, no request fails",
          "[remote][names]") {
  const std::uint16_t port = free_tcp_port();
  fpm_server s2("s2", 4, {.host = "127.0.0.2", .port = port});
  fpm_server s3("s3", 4, {.host = "127.0.0.3", .port = port});
  fpm_server s4("s4", 4, {.host = "127.0.0.4", .port = port});
  temp_dir dir{"fcgimux-names"};
  const std::string hosts = dir.file("hosts");
  write_file(hosts, "127.0.0.1 localhost\n127.0.0.2 app.test\n127.0.0.3 app.test\n");
  const std::string name = "app.test:" + std::to_string(port);
  const std::string m2 = name + "@127.0.0.2", m3 = name + "@127.0.0.3", m4 = name + "@127.0.0.4";

  fcgimux_options o;
  o.binary = namespaced_fcgimux(dir, hosts);
  o.args = {"--server", name + ",max-conns=3", "--resolve-interval", "0.3", "--check-interval", "0.5", "--slow-start",
            "1"};
  fcgimux_instance mux(o);
  const std::uint16_t stats = mux.wait_for_port("stats on 127.0.0.1:", 30s);
  INFO(mux.stderr_text());
  REQUIRE(stats != 0);
  // One member per address of the name, under NAME:PORT@ADDRESS.
  REQUIRE(eventually([&] {
    auto s = servers_of(stats);
    return state_in(s, m2) == "up" && state_in(s, m3) == "up" && s.size() == 2;
  }));

  load l(mux.address(), s2.script());
  // Slow requests at .3 as its address goes: its member drains while they finish. 8 s: beside two
  // CPU hogs, 4 s were over before the new answer was seen, and .3 went straight to gone.
  std::mutex mu;
  std::map<std::string, int> slow_by;
  std::vector<std::string> slow_failures;
  thread_group slow;
  for (int i = 0; i < 4; ++i)
    slow.spawn([&] {
      auto out = ask(mux.address(), s2.script(), "GET", "/answer.php?sleep=8000", "");
      std::lock_guard g(mu);
      out.ok ? ++slow_by[out.server] : (slow_failures.push_back(out.why), 0);
    });
  REQUIRE(eventually([&] {
    auto s = servers_of(stats);
    return s.contains(m3) && s[m3].value("in_flight", 0) >= 1 && l.answered(0, "s3") > 0;
  }));
  rewrite_in_place(hosts, "127.0.0.1 localhost\n127.0.0.2 app.test\n127.0.0.4 app.test\n");

  // Draining, with slow requests in flight there (said in the log as it begins; /stats shows
  // the state only while they last, which a 20 ms poll of a loaded machine may miss).
  CHECK(eventually([&] { return in_flight_at_drain(mux.stderr_text(), m3) >= 0; }));
  CHECK(in_flight_at_drain(mux.stderr_text(), m3) >= 1);
  CHECK(eventually([&] { return servers_of(stats).contains(m4); }));
  CHECK(eventually([&] {
    auto s = servers_of(stats);
    return state_in(s, m3) == "gone" && state_in(s, m4) == "up" && state_in(s, m2) == "up" && s.size() == 2;
  }));
  // Requests begun once .3's member is gone: none reach it, and the new member takes its share.
  l.next_phase();
  CHECK(eventually([&] { return l.answered(1, "s4") >= 10 && l.answered(1, "s2") >= 10; }));
  l.end();
  slow.join();
  const std::string log = mux.stderr_text();
  INFO(log);
  CHECK(l.failures().empty());
  CHECK(slow_failures.empty());
  CHECK(slow_by["s3"] >= 1);  // the slow requests at .3 finished there, on its draining member
  CHECK(l.answered(1, "s3") == 0);
  CHECK(log.find("server " + m3 + " is no longer an address of its name") != std::string::npos);
  CHECK(log.find("server " + m3 + " drained and forgotten") != std::string::npos);
  CHECK(log.find("server " + m4 + " added (a new address of its name)") != std::string::npos);

  // The name stops resolving: the members stay (said once in the log), and serve on.
  rewrite_in_place(hosts, "127.0.0.1 localhost\n127.0.0.2 app.test.gone\n127.0.0.4 app.test.gone\n");
  CHECK(eventually([&] { return mux.stderr_text().find("cannot resolve its name") != std::string::npos; }));
  const std::string said = "server " + name + ": cannot resolve its name";
  // Several intervals later the line is still there once, and both members still serve.
  std::vector<std::string> failures;
  for (int i = 0; i < 20; ++i) {
    auto out = ask(mux.address(), s2.script(), "GET", "/answer.php?sleep=50", "");
    if (!out.ok) failures.push_back(out.why);
  }
  CHECK(failures.empty());
  auto s = servers_of(stats);
  CHECK(s.contains(m2));
  CHECK(s.contains(m4));
  const std::string after = mux.stderr_text();
  const auto first = after.find(said);
  CHECK(first != std::string::npos);
  CHECK(after.find(said, first + 1) == std::string::npos);
}

TEST_CASE("a reload whose names do not resolve fails whole and keeps serving, also while the lookup runs",
          "[remote][names]") {
  fpm_server a("a", 2);
  temp_dir dir{"fcgimux-names-reload"};
  const std::string hosts = dir.file("hosts");
  write_file(hosts, "127.0.0.1 localhost\n");
  // A DNS server that never answers: a lookup of a name not in the hosts file waits for glibc's
  // timeout, seconds during which fcgimux must answer as ever.
  const std::string resolv = dir.file("resolv.conf");
  write_file(resolv, "nameserver 127.0.0.9\noptions timeout:8 attempts:1\n");
  int dns = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(dns >= 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(53);
  at.sin_addr.s_addr = htonl(0x7f000009);
  REQUIRE(::bind(dns, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_dns{dns};

  const std::uint16_t front = free_tcp_port();
  const std::string file = dir.file("fcgimux.json");
  auto write = [&](const std::string& listen, const std::string& server) {
    write_file(file, R"({"stats": "127.0.0.1:0", "listen": [)" + listen + R"(], "servers": [{"address": ")" + server +
                         R"(", "max-conns": 2}]})");
  };
  const std::string listen = "\"127.0.0.1:" + std::to_string(front) + "\"";
  write(listen, a.address());
  fcgimux_options o;
  o.binary = namespaced_fcgimux(dir, hosts, resolv);
  o.listen_tcp = false;
  o.args = {"-c", file};
  fcgimux_instance mux(o);
  const std::uint16_t stats = mux.wait_for_port("stats on 127.0.0.1:", 30s);
  INFO(mux.stderr_text());
  REQUIRE(stats != 0);
  REQUIRE(mux.wait_for_port("listening on 127.0.0.1:", 30s) == front);
  const endpoint at_front = endpoint::tcp(front);
  auto reloads = [&](const char* what) {
    auto j = stats_of(stats);
    return j.is_object() ? j["reloads"].value(what, -1) : -1;
  };
  REQUIRE(ask(at_front, a.script(), "GET", "/answer.php", "").ok);

  SECTION("a server name whose lookup hangs, then fails") {
    write(listen, "slow.test:9000");
    mux.process().send_signal(SIGHUP);
    // Answers while the name is looked up: a request and /stats, each before the reload ended.
    int served_during = 0;
    for (int i = 0; i < 5; ++i) {
      auto out = ask(at_front, a.script(), "GET", "/answer.php", "");
      if (out.ok && reloads("failed") == 0) ++served_during;
    }
    CHECK(served_during >= 1);
    CHECK(eventually([&] { return reloads("failed") == 1; }));
    auto j = stats_of(stats);
    CHECK(j["reloads"]["last_error"].get<std::string>().find("server: cannot resolve 'slow.test:9000'") !=
          std::string::npos);
  }
  SECTION("a listener's name that does not exist") {
    write(listen + ", \"nowhere.invalid:" + std::to_string(free_tcp_port()) + "\"", a.address());
    // nowhere.invalid is not in the hosts file: the DNS server that never answers makes it fail
    // by its timeout.
    mux.process().send_signal(SIGHUP);
    CHECK(eventually([&] { return reloads("failed") == 1; }));
    auto j = stats_of(stats);
    CHECK(j["reloads"]["last_error"].get<std::string>().find("listen: cannot resolve 'nowhere.invalid:") !=
          std::string::npos);
  }
  // The running configuration serves on, unchanged, and a good reload still applies.
  CHECK(ask(at_front, a.script(), "GET", "/answer.php", "").ok);
  CHECK(reloads("ok") == 0);
  write(listen, a.address());
  mux.process().send_signal(SIGHUP);
  CHECK(eventually([&] { return reloads("ok") == 1; }));
  CHECK(ask(at_front, a.script(), "GET", "/answer.php", "").ok);
}
