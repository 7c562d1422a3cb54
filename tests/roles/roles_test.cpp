// SPDX-License-Identifier: ISC
// The FastCGI 1.0 roles through the real fcgimux (docs/roles.md): a libfcgi FILTER fed by the
// test's own client, a libfcgi AUTHORIZER asked directly and through Apache's mod_authnz_fcgi.

#include "proto/encoder.hpp"
#include "tests/roles/basic_auth.hpp"
#include "tests/support/cgi_response.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fcgi_client.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/net.hpp"
#include "tests/support/temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <thread>

using namespace fcgimux::test;
using namespace std::chrono_literals;
namespace proto = fcgimux::proto;

namespace {

constexpr std::uint16_t responder = 1, authorizer = 2, filter = 3;

fcgimux_options pool_of(const char* program, std::vector<std::string> args) {
  fcgimux_options o;
  o.args = {"-n", "1", "-N", "1"};
  o.args.insert(o.args.end(), args.begin(), args.end());
  o.command = {program};
  return o;
}

// A FILTER request: PARAMS, `in` on STDIN, then `data` on DATA in records of up to 32 KiB (as
// nginx writes STDIN).
void send_filter(fcgi_client& c, std::uint16_t id, const std::string& in, const std::string& data) {
  c.send_begin(id, filter, 0);
  c.send_params(id, cgi_params("GET", "/page.html"));
  c.send_stdin(id, in, 32 * 1024);
  std::string records;
  for (std::size_t at = 0; at < data.size(); at += 32 * 1024)
    proto::append_stream(records, proto::record_type::data, id, std::string_view(data).substr(at, 32 * 1024));
  proto::append_stream_end(records, proto::record_type::data, id);
  c.send_raw(records);
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  return s;
}

}  // namespace

TEST_CASE("roles: a FILTER reaches a libfcgi filter with its role, STDIN and DATA, past fcgimux's buffers",
          "[roles][filter]") {
  // A 64 KiB body buffer and output buffer against 4 MiB of DATA: fcgimux must stream it with
  // reading paused and resumed, the answer as large coming back the other way.
  fcgimux_instance mux(
      pool_of(ROLES_FILTER_BIN, {"--roles", "responder,filter", "--body-buffer", "65536", "--output-buffer", "65536"}));
  std::string small = "<p>hello, filter</p>\n";
  std::string large;
  for (std::size_t i = 0; large.size() < 4 * 1024 * 1024; ++i) large += "line " + std::to_string(i) + " of the file\n";
  for (const std::string* data : {&small, &large}) {
    fcgi_client c(mux.address());
    REQUIRE(c.connected());
    send_filter(c, 1, "stdin!", *data);
    auto st = c.read_response(1, 120s);
    INFO(mux.stderr_text());
    REQUIRE(st == read_status::ok);
    auto& r = c.response(1);
    CHECK(r.status == proto::protocol_status::request_complete);
    auto answer = parse_cgi_response(r.out);
    REQUIRE(answer.valid);
    CHECK(answer.status == 200);
    CHECK(answer.header("X-Role") == "FILTER");
    CHECK(answer.header("X-Stdin-Length") == "6");
    CHECK(answer.body.size() == data->size());
    CHECK(answer.body == upper(*data));
  }
}

TEST_CASE("roles: a role the pool does not serve is answered UNKNOWN_ROLE by fcgimux, the pool goes on", "[roles]") {
  fcgimux_instance mux(pool_of(ROLES_FILTER_BIN, {}));  // the default: responder only
  for (std::uint16_t role : {authorizer, filter}) {
    fcgi_client c(mux.address());
    request_spec r;
    r.role = role;
    r.params = cgi_params("GET", "/x");
    REQUIRE(c.exchange(r, 20s) == read_status::ok);
    CHECK(c.response(1).status == proto::protocol_status::unknown_role);
    CHECK(c.response(1).out.empty());
  }
  // A responder still reaches the program: it has no DATA, so the filter answers 500.
  fcgi_client c(mux.address());
  request_spec r;
  r.role = responder;
  r.params = cgi_params("GET", "/x");
  REQUIRE(c.exchange(r, 20s) == read_status::ok);
  CHECK(parse_cgi_response(c.response(1).out).status == 500);
}

TEST_CASE("roles: an AUTHORIZER's answer and its Variable- headers come back untouched", "[roles][authorizer]") {
  fcgimux_instance mux(pool_of(ROLES_AUTHORIZER_BIN, {"--roles", "authorizer"}));
  auto ask = [&](const std::string& user, const std::string& pass) {
    fcgi_client c(mux.address());
    request_spec r;
    r.role = authorizer;
    r.params = {
        {"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/protected/"}, {"REMOTE_USER", user}, {"REMOTE_PASSWD", pass}};
    r.body = "ignored: an authorizer has no stdin";
    REQUIRE(c.exchange(r, 20s) == read_status::ok);
    CHECK(c.response(1).status == proto::protocol_status::request_complete);
    return c.response(1).out;
  };
  CHECK(ask("alice", "secret") == "Status: 200\r\nVariable-AUTH_USER: alice\r\nVariable-AUTH_ROLE: AUTHORIZER\r\n\r\n");
  CHECK(parse_cgi_response(ask("bob", "secret")).status == 401);
  CHECK(parse_cgi_response(ask("alice", "wrong")).status == 401);
}

namespace {

// Apache in the foreground (-X: one process) with its own ServerRoot, configuration and port.
struct apache_instance {
  temp_dir dir{"fcgimux-apache"};
  std::uint16_t port = 0;
  child_process process;

  explicit apache_instance(std::uint16_t fcgimux_port) {
    ::chmod(dir.path().c_str(), 0755);  // the files are read by the User below
    port = free_tcp_port();
    const std::string m = "/usr/lib/apache2/modules/";
    std::string conf;
    for (const char* mod : {"mpm_prefork", "authn_core", "authz_core", "authz_user", "auth_basic", "authnz_fcgi"})
      conf += std::string("LoadModule ") + mod + "_module " + m + "mod_" + mod + ".so\n";
    conf += "ServerRoot " + dir.path() + "\nServerName 127.0.0.1\nListen 127.0.0.1:" + std::to_string(port) +
            "\nPidFile " + dir.file("apache.pid") + "\nMutex file:" + dir.path() + " default\n" + "ErrorLog " +
            dir.file("error.log") + "\nLogLevel info\n" + "DocumentRoot " + dir.file("www") + "\n" +
            // The authorizer's Variable-AUTH_USER arrives in the request's environment as AUTH_USER.
            "LogFormat \"%u %>s auth_user=%{AUTH_USER}e auth_role=%{AUTH_ROLE}e\" roles\nCustomLog " +
            dir.file("access.log") + " roles\n" + (::geteuid() == 0 ? "User daemon\nGroup daemon\n" : "") +
            "AuthnzFcgiDefineProvider authn fcgimux fcgi://127.0.0.1:" + std::to_string(fcgimux_port) + "/\n" +
            "<Location \"/protected\">\n  AuthType Basic\n  AuthName \"roles\"\n  AuthBasicProvider fcgimux\n"
            "  Require valid-user\n</Location>\n";
    ::mkdir(dir.file("www").c_str(), 0755);
    ::mkdir(dir.file("www/protected").c_str(), 0755);
    write_file(dir.file("www/protected/index.html"), "the protected page\n");
    write_file(dir.file("apache2.conf"), conf);
    // What Debian's apache2ctl sets (/etc/apache2/envvars): the binary reads some of them.
    process = child_process(
        spawn_options{.argv = {"/usr/sbin/apache2", "-X", "-f", dir.file("apache2.conf"), "-D", "FOREGROUND"},
                      .env = {"APACHE_RUN_USER=daemon", "APACHE_RUN_GROUP=daemon",
                              "APACHE_PID_FILE=" + dir.file("apache.pid"), "APACHE_RUN_DIR=" + dir.path(),
                              "APACHE_LOCK_DIR=" + dir.path(), "APACHE_LOG_DIR=" + dir.path(), "LANG=C"},
                      .stderr_path = dir.file("apache.stderr")});
  }
  ~apache_instance() { process.stop(); }
  std::string log() const { return read_file(dir.file("apache.stderr")) + read_file(dir.file("error.log")); }
};

}  // namespace

TEST_CASE("roles: Apache's mod_authnz_fcgi asks a libfcgi authorizer through fcgimux: 200 for one user, 401 else",
          "[roles][authorizer][apache]") {
  fcgimux_instance mux(pool_of(ROLES_AUTHORIZER_BIN, {"--roles", "authorizer"}));
  apache_instance apache(mux.port());
  INFO(apache.log());
  REQUIRE(wait_connectable(endpoint::tcp(apache.port), 60s));
  auto get = [&](const std::string& auth) {
    return http_exchange(apache.port, http_get("/protected/index.html", auth));
  };
  auto allowed = get(basic("alice:secret"));
  INFO(mux.stderr_text() + apache.log());
  REQUIRE(allowed.ok);
  CHECK(allowed.status == 200);
  CHECK(allowed.body == "the protected page\n");
  CHECK(get(basic("bob:secret")).status == 401);
  CHECK(get(basic("alice:wrong")).status == 401);
  CHECK(get("").status == 401);  // no credentials: Apache asks for them without the authorizer
  // Apache writes its access log line as each request ends: the allowed one carries the
  // authorizer's variables, the denied ones none.
  std::string log;
  for (auto until = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < until;
       std::this_thread::sleep_for(50ms)) {
    log = read_file(apache.dir.file("access.log"));
    if (std::count(log.begin(), log.end(), '\n') >= 4) break;
  }
  CHECK(log.find("alice 200 auth_user=alice auth_role=AUTHORIZER\n") != std::string::npos);
  CHECK(log.find("bob 401 auth_user=- auth_role=-\n") != std::string::npos);
}
