// SPDX-License-Identifier: ISC
// lighttpd's mod_fastcgi in "mode" => "authorizer" in front of fcgimux, which passes the
// AUTHORIZER role to a libfcgi authorizer (authorizer.cpp). What lighttpd does with the answer is
// in its source (src/http-header-glue.c, src/gw_backend.c, 1.4.69): a 200 restarts the request for
// the handler that serves it, each Variable-NAME put into the request's environment as NAME, which
// lighttpd passes to the next CGI, FastCGI or SCGI handler as a parameter (http_cgi.c) and not as
// a request header; any other status is sent to the client as the authorizer wrote it, headers
// and body.

#include "tests/roles/basic_auth.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fcgimux_instance.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/net.hpp"
#include "tests/support/temp_dir.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>

using namespace fcgimux::test;
using namespace std::chrono_literals;

namespace {

// lighttpd in the foreground (-D) with its own configuration, document root, logs and port.
struct lighttpd_instance {
  temp_dir dir{"fcgimux-lighttpd"};
  std::uint16_t port = 0;
  child_process process;

  explicit lighttpd_instance(std::uint16_t fcgimux_port) {
    ::chmod(dir.path().c_str(), 0755);  // read by the server.username below
    ::mkdir(dir.file("logs").c_str(), 0755);
    if (::geteuid() == 0) {
      // lighttpd opens its logs after it gave up root: they are the user's.
      const passwd* daemon = ::getpwnam("daemon");
      REQUIRE(daemon);
      REQUIRE(::chown(dir.file("logs").c_str(), daemon->pw_uid, daemon->pw_gid) == 0);
    }
    port = free_tcp_port();
    const std::string backend =
        "\"host\" => \"127.0.0.1\", \"port\" => " + std::to_string(fcgimux_port) + ", \"check-local\" => \"disable\"";
    std::string conf =
        "server.document-root = \"" + dir.file("www") + "\"\nserver.bind = \"127.0.0.1\"\n" +
        "server.port = " + std::to_string(port) + "\nserver.errorlog = \"" + dir.file("logs/error.log") + "\"\n" +
        "server.modules = (\"mod_fastcgi\", \"mod_accesslog\")\n" + "mimetype.assign = (\".html\" => \"text/html\")\n" +
        // The authorizer's Variable-AUTH_USER, in the request's environment as AUTH_USER.
        "accesslog.filename = \"" + dir.file("logs/access.log") + "\"\n" +
        "accesslog.format = \"%u %>s %U auth_user=%{AUTH_USER}e\"\n" +
        (::geteuid() == 0 ? "server.username = \"daemon\"\nserver.groupname = \"daemon\"\n" : "") +
        // Everything under /protected/ is asked of the authorizer first; /protected/whoami is
        // then served by the same pool as a RESPONDER, the rest by lighttpd's static files.
        "fastcgi.server = (\n" + "  \"/protected/\" => ((" + backend + ", \"mode\" => \"authorizer\")),\n" +
        "  \"/protected/whoami\" => ((" + backend + ", \"mode\" => \"responder\"))\n)\n";
    ::mkdir(dir.file("www").c_str(), 0755);
    ::mkdir(dir.file("www/protected").c_str(), 0755);
    write_file(dir.file("www/protected/index.html"), "the protected page\n");
    write_file(dir.file("lighttpd.conf"), conf);
    process = child_process(spawn_options{.argv = {"/usr/sbin/lighttpd", "-D", "-f", dir.file("lighttpd.conf")},
                                          .stderr_path = dir.file("lighttpd.stderr")});
  }
  ~lighttpd_instance() { process.stop(); }
  std::string log() const { return read_file(dir.file("lighttpd.stderr")) + read_file(dir.file("logs/error.log")); }
};

}  // namespace

TEST_CASE(
    "roles: lighttpd's mode authorizer asks a libfcgi authorizer through fcgimux: 200 and its variables for "
    "one user, its 401 for the rest",
    "[roles][authorizer][lighttpd]") {
  // One pool serves both roles: the authorizer's question and, once it allowed, the responder.
  fcgimux_instance mux([] {
    fcgimux_options o;
    o.args = {"-n", "1", "-N", "2", "--roles", "responder,authorizer"};
    o.command = {ROLES_AUTHORIZER_BIN};
    return o;
  }());
  lighttpd_instance lighttpd(mux.port());
  INFO(lighttpd.log());
  REQUIRE(wait_connectable(endpoint::tcp(lighttpd.port), 60s));
  auto get = [&](const std::string& path, const std::string& auth) {
    return http_exchange(lighttpd.port, http_get(path, auth));
  };

  const auto page = get("/protected/index.html", basic("alice:secret"));
  INFO(mux.stderr_text() + lighttpd.log());
  REQUIRE(page.ok);
  CHECK(page.status == 200);
  CHECK(page.body == "the protected page\n");  // lighttpd's own static file, after the authorizer allowed it

  // The next handler is the responder: the authorizer's variables reach it as FastCGI parameters.
  const auto whoami = get("/protected/whoami", basic("alice:secret"));
  REQUIRE(whoami.ok);
  CHECK(whoami.status == 200);
  CHECK(whoami.body == "FCGI_ROLE=RESPONDER\nAUTH_USER=alice\nAUTH_ROLE=AUTHORIZER\n");
  CHECK(!whoami.has_header("Variable-AUTH_USER"));  // nothing of the authorizer's answer reaches the client

  // Denied: lighttpd sends the authorizer's own answer, its 401, challenge and body.
  for (const std::string& who : {std::string("bob:secret"), std::string("alice:wrong"), std::string()}) {
    INFO("credentials: " << (who.empty() ? "none" : who));
    const auto denied = get("/protected/index.html", who.empty() ? "" : basic(who));
    REQUIRE(denied.ok);
    CHECK(denied.status == 401);
    CHECK(denied.header("WWW-Authenticate") == "Basic realm=\"roles\"");
    CHECK(denied.body == "denied (role AUTHORIZER)\n");
  }
  const auto denied_whoami = get("/protected/whoami", basic("bob:secret"));
  CHECK(denied_whoami.status == 401);  // the responder is never asked
  CHECK(denied_whoami.body == "denied (role AUTHORIZER)\n");

  // lighttpd buffers its access log and writes it out at the latest as it stops: the allowed
  // requests' lines carry the variable (%u stays "-": an authorizer sets no REMOTE_USER in lighttpd).
  lighttpd.process.stop(30s);
  const std::string log = read_file(lighttpd.dir.file("logs/access.log"));
  INFO(log);
  CHECK(std::count(log.begin(), log.end(), '\n') == 6);
  CHECK(log.find("- 200 /protected/whoami auth_user=alice\n") != std::string::npos);
  CHECK(log.find("- 200 /protected/index.html auth_user=alice\n") != std::string::npos);
  CHECK(log.find("- 401 /protected/index.html auth_user=-\n") != std::string::npos);
}
