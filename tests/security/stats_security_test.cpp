// SPDX-License-Identifier: ISC
// The stats endpoint as an attacker on the host meets it (issue 21, items 5 and 7): slow
// connections cannot lock /healthz out, an address --stats-allow does not list gets 403, the
// bearer token of --stats-token-file is required (and reread on SIGHUP), and in-flight URIs keep
// their query string private unless --stats-show-query. The real fcgimux with the demo worker.

#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

using namespace fcgimux::test;

namespace {

/// An answer read until the server closed.
struct raw_answer {
  int status = 0;  ///< 0: no status line came
  std::string head;
  std::string body;
};

// A connection to 127.0.0.1:port whose source address is `source` (any of 127.0.0.0/8 is local).
unique_fd connect_from(const std::string& source, std::uint16_t port) {
  unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  REQUIRE(::inet_pton(AF_INET, source.c_str(), &from.sin_addr) == 1);
  REQUIRE(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&from), sizeof from) == 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0);
  return fd;
}

// Everything the peer sends until it closes, or until `timeout`.
std::string read_all(int fd, std::chrono::milliseconds timeout) {
  std::string in;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return in;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[8192];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return in;
    in.append(buf, static_cast<std::size_t>(n));
  }
}

// GET `target` from `source` with `extra` header lines, on a connection the server closes.
raw_answer ask_from(const std::string& source, std::uint16_t port, const std::string& target,
                    const std::string& extra = "") {
  unique_fd fd = connect_from(source, port);
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra + "\r\n";
  REQUIRE(::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  const std::string in = read_all(fd.get(), 20s);
  raw_answer a;
  const std::size_t end = in.find("\r\n\r\n");
  if (in.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return a;
  a.status = std::stoi(in.substr(9, 3));
  a.head = in.substr(0, end + 2);
  a.body = in.substr(end + 4);
  return a;
}

std::string bearer(const std::string& token) { return "Authorization: Bearer " + token + "\r\n"; }

// The in-flight URI /stats?full shows for the only busy worker of the default pool, or "".
std::string busy_uri(const nlohmann::json& full) {
  for (const auto& w : full.at("pools").at("default").at("workers"))
    if (!w.at("current").is_null()) return w.at("current").at("uri").get<std::string>();
  return {};
}

}  // namespace

TEST_CASE("/healthz and /stats are answered while 64 stats connections hang", "[security][stats]") {
  ignore_sigpipe();
  fcgimux_instance mux(demo_pool({"-n", "1"}));
  REQUIRE(mux.stats_port() != 0);
  // 64 is the server's connection limit; each sends half a head and then nothing, as a slowloris.
  std::vector<std::unique_ptr<http_connection>> slow;
  for (int i = 0; i < 64; ++i) {
    slow.push_back(std::make_unique<http_connection>(mux.stats_port()));
    REQUIRE(slow.back()->connected());
    REQUIRE(slow.back()->send("GET /stats HTTP/1.1\r\nHost: x\r\n"));
  }
  // The kernel hands connections over in the order they were made: each probe comes after the 64.
  for (int i = 0; i < 3; ++i) {
    const http_response health = http_request(mux.stats_port(), "GET", "/healthz", {}, 10s);
    REQUIRE(health.ok);
    CHECK(health.status == 200);
    CHECK(health.body == "ok\n");
  }
  const http_response stats = http_request(mux.stats_port(), "GET", "/stats", {}, 10s);
  REQUIRE(stats.ok);
  CHECK(stats.status == 200);
  // Room was made by closing the slow clients that waited longest: the first ones, not a probe.
  const auto closed = slow.front()->read_until_closed(5s);
  CHECK(closed.has_value());
  INFO(mux.stderr_text());
  CHECK(eventually([&] { return mux.stderr_text().find("closing the one idle longest") != std::string::npos; }, 10s));
}

TEST_CASE("a stats client from an address --stats-allow does not list gets 403", "[security][stats]") {
  fcgimux_instance mux(demo_pool({"-n", "1", "--stats-allow", "127.0.0.1/32"}));
  REQUIRE(mux.stats_port() != 0);
  for (const char* path : {"/stats", "/stats?full", "/metrics", "/history", "/", "/nope"}) {
    INFO(path);
    const raw_answer refused = ask_from("127.0.0.2", mux.stats_port(), path);
    CHECK(refused.status == 403);
    CHECK(refused.body.find("\"pools\"") == std::string::npos);
  }
  const raw_answer listed = ask_from("127.0.0.1", mux.stats_port(), "/stats");
  CHECK(listed.status == 200);
  CHECK(listed.body.find("\"pools\"") != std::string::npos);
  // A liveness probe comes from the node's address, which no configuration can name.
  const raw_answer probe = ask_from("127.0.0.2", mux.stats_port(), "/healthz");
  CHECK(probe.status == 200);
  CHECK(probe.body == "ok\n");
}

TEST_CASE("the stats token: accepted, refused with 401 when wrong or absent, reread on SIGHUP",
          "[security][stats]") {
  temp_dir dir("fcgimux-stats-token");
  const std::string token_file = dir.file("token");
  write_file(token_file, "first-T0ken.value\n");
  fcgimux_instance mux(demo_pool({"-n", "1", "--stats-token-file", token_file, "--stats-allow", "127.0.0.1/32"}));
  REQUIRE(mux.stats_port() != 0);
  const std::uint16_t port = mux.stats_port();

  const raw_answer none = ask_from("127.0.0.1", port, "/stats");
  CHECK(none.status == 401);
  CHECK(none.head.find("WWW-Authenticate: Bearer realm=\"fcgimux\"\r\n") != std::string::npos);
  CHECK(none.body.find("\"pools\"") == std::string::npos);
  const raw_answer wrong = ask_from("127.0.0.1", port, "/metrics", bearer("first-T0ken.valuf"));
  CHECK(wrong.status == 401);
  CHECK(wrong.head.find("error=\"invalid_token\"") != std::string::npos);
  CHECK(ask_from("127.0.0.1", port, "/stats", bearer("FIRST-T0KEN.VALUE")).status == 401);

  const raw_answer right = ask_from("127.0.0.1", port, "/stats", bearer("first-T0ken.value"));
  CHECK(right.status == 200);
  CHECK(right.body.find("\"pools\"") != std::string::npos);
  CHECK(ask_from("127.0.0.1", port, "/metrics", bearer("first-T0ken.value")).status == 200);
  CHECK(ask_from("127.0.0.1", port, "/healthz").status == 200);  // no token asked
  // the right token from an address not listed is still refused, as an address
  CHECK(ask_from("127.0.0.2", port, "/stats", bearer("first-T0ken.value")).status == 403);

  write_file(token_file, "second-token\n");
  mux.process().send_signal(SIGHUP);
  CHECK(eventually([&] { return ask_from("127.0.0.1", port, "/stats", bearer("second-token")).status == 200; }, 20s));
  CHECK(ask_from("127.0.0.1", port, "/stats", bearer("first-T0ken.value")).status == 401);

  // A token file that cannot be read fails the reload: the token in use stays.
  ::unlink(token_file.c_str());
  mux.process().send_signal(SIGHUP);
  CHECK(eventually([&] { return mux.stderr_text().find("stats-token-file: cannot open") != std::string::npos; }, 20s));
  CHECK(ask_from("127.0.0.1", port, "/stats", bearer("second-token")).status == 200);
}

TEST_CASE("?full and --status-path show in-flight URIs without their query unless --stats-show-query",
          "[security][stats]") {
  const bool show = GENERATE(false, true);
  INFO("--stats-show-query " << show);
  std::vector<std::string> args{"-n", "1", "--status-path", "/fcgimux-status"};
  if (show) args.push_back("--stats-show-query");
  fcgimux_instance mux(demo_pool(args));
  REQUIRE(mux.stats_port() != 0);
  const std::string uri = "/slow?sleep_ms=4000&session=s3cret";
  fcgi_client busy(mux.address());
  request_spec r;
  r.params = cgi_params("GET", uri);
  busy.send_request(r);
  REQUIRE(busy.flush(5s));

  std::string seen;
  REQUIRE(eventually(
      [&] {
        const http_response full = http_request(mux.stats_port(), "GET", "/stats?full", {}, 5s);
        if (!full.ok || full.status != 200) return false;
        seen = busy_uri(nlohmann::json::parse(full.body));
        return !seen.empty();
      },
      10s));
  CHECK(seen == (show ? uri : "/slow"));

  // The same workers through the pool's own listener: the same rule.
  fcgi_client status(mux.address());
  request_spec s;
  s.params = cgi_params("GET", "/fcgimux-status?json&full");  // php-fpm's page, its JSON shape
  REQUIRE(status.exchange(s, 10s) == read_status::ok);
  const cgi_response answer = parse_cgi_response(status.response(1).out);
  const nlohmann::json pool = nlohmann::json::parse(answer.body);
  std::string via_status;
  for (const auto& w : pool.at("processes"))
    if (w.at("state") == "Running" && w.at("request uri") != "-") via_status = w.at("request uri").get<std::string>();
  CHECK(via_status == (show ? uri : "/slow"));
  CHECK((answer.body.find("s3cret") != std::string::npos) == show);
}

TEST_CASE("stats access options are validated: one line and exit 2", "[security][stats]") {
  temp_dir dir("fcgimux-stats-options");
  write_file(dir.file("empty"), "\n");
  write_file(dir.file("spaces"), "two words\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--stats-allow", "10.0.0.0/33"}, "stats-allow: '10.0.0.0/33' is not"},
      {{"--stats-allow", "example.org"}, "stats-allow: 'example.org' is not"},
      {{"--stats-allow", "10.1.2.3/8"}, "no bit set past the prefix"},
      {{"--stats-token-file", dir.file("missing")}, "stats-token-file: cannot open"},
      {{"--stats-token-file", dir.file("empty")}, "is empty"},
      {{"--stats-token-file", dir.file("spaces")}, "must hold one token"},
  };
  for (const auto& [args, message] : cases) {
    std::vector<std::string> argv = args;
    argv.insert(argv.end(), {"--", demo_bin});
    const fcgimux_run run = run_fcgimux(argv, 20s);
    INFO(run.stderr_text);
    REQUIRE(run.finished);
    CHECK(run.status.exited);
    CHECK(run.status.code == 2);
    CHECK(run.stderr_text.find(message) != std::string::npos);
    CHECK(std::count(run.stderr_text.begin(), run.stderr_text.end(), '\n') == 1);
  }
}
