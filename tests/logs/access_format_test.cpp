// SPDX-License-Identifier: ISC
// --access-format without any process: what the parser refuses, and the line each token writes
// for a request built by hand.

#include "src/config/access_format.hpp"
#include "proto/name_value.hpp"
#include "src/config/config.hpp"
#include "src/core/access_log.hpp"
#include "src/core/request_home.hpp"

#include <catch2/catch.hpp>

#include <ctime>

using namespace fcgimux;

namespace {

struct no_owner final : request_home {
  void request_finished(request&, int) override {}
};

std::string params_block(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string block;
  for (const auto& [n, v] : params) proto::append_name_value(block, n, v);
  return block;
}

std::string line_for(const std::string& format, request& r, clock_type::time_point now) {
  access_log log(std::make_shared<log::output>(log::output::kind::standard_output, "-", 1),
                 parse_access_format(format));
  std::string line;
  log.format(line, r, "www", now);
  return line;
}

}  // namespace

TEST_CASE("access format: what the parser refuses, in one line naming the token", "[logs][format]") {
  auto refused = [](const std::string& f) {
    try {
      parse_access_format(f);
    } catch (const config_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refused("%x") == "access-format: unknown token %x");
  CHECK(refused("ab %") == "access-format: a lone % at the end (%% writes one)");
  CHECK(refused("%{%Y") == "access-format: a %{ without its }");
  CHECK(refused("%{hours}d") == "access-format: %{hours}d: the unit is seconds, milli or micro");
  CHECK(refused("%e") == "access-format: %e needs a parameter's name, as %{HTTP_HOST}e");
  CHECK(refused("%{x}s") == "access-format: %s takes no {...}");
  CHECK(refused("%{x}") == "access-format: %{x} names no token");
  CHECK(refused("%C").find("php-fpm's measure of its own process") != std::string::npos);
  CHECK(refused("%M") != "accepted");
  // php-fpm's own spellings are accepted.
  CHECK(refused("%{mili}d %{miliseconds}d %{microseconds}d %{seconds}d %{%s}T %P %f") == "accepted");
  CHECK(refused(std::string(default_access_format)) == "accepted");
}

TEST_CASE("access format: each token's text for a known request", "[logs][format]") {
  no_owner owner;
  request r({}, owner, 1, false);
  r.params = params_block({{"REQUEST_METHOD", "GET"},
                           {"REQUEST_URI", "/a/b?x=1&y=2"},
                           {"SCRIPT_NAME", "/index.php"},
                           {"QUERY_STRING", "x=1&y=2"},
                           {"REMOTE_ADDR", "10.0.0.1"},
                           {"CONTENT_LENGTH", "12"},
                           {"SCRIPT_FILENAME", "/srv/index.php"},
                           {"HTTP_HOST", "example.org"}});
  const auto now = clock_type::now();
  r.accepted_at = now - std::chrono::microseconds(1500250);
  r.worker_pid = 77;
  r.end_status = 201;

  CHECK(line_for("%m %r %q%Q %s %p %n %R %u %l %f %{HTTP_HOST}e %{HTTP_NONE}e %% 100%%", r, now) ==
        "GET /a/b x=1&y=2? 201 77 www 10.0.0.1 - 12 /srv/index.php example.org - % 100%");
  CHECK(line_for("%d|%{seconds}d|%{milli}d|%{micro}d", r, now) == "1.500|1.500|1500.250|1500250");
  CHECK(line_for("%r%Q%q", r, now) == "/a/b?x=1&y=2");

  // The year of the time the request came in (1.5 s ago) and of its end.
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char year[8];
  std::strftime(year, sizeof year, "%Y", &tm);
  CHECK(line_for("%{%Y}t %{%Y}T", r, now) == std::string(year) + " " + year);
  // php-fpm's default time format: 06/Dec/2026:08:26:47 +0000
  const std::string stamp = line_for("%t", r, now);
  CHECK(stamp.size() == 26);
  CHECK(stamp.substr(7, 4) == year);

  SECTION("without REQUEST_URI, SCRIPT_NAME; without a query, no '?'") {
    r.params = params_block({{"REQUEST_METHOD", "POST"}, {"SCRIPT_NAME", "/index.php"}, {"QUERY_STRING", ""}});
    CHECK(line_for("\"%m %r%Q%q\" %R %l", r, now) == "\"POST /index.php\" - 0");
  }
  SECTION("a client's bytes cannot forge a line or a quote") {
    r.params = params_block({{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/x\"y\n1.2.3.4 - - \\z"}});
    CHECK(line_for("\"%r\"", r, now) == "\"/x\\x22y\\x0A1.2.3.4 - - \\x5Cz\"");
  }
  SECTION("the client left: 499; the worker cut the answer off: its 502; fcgimux answered itself: no worker") {
    r.front_gone = true;
    CHECK(line_for("%s", r, now) == "499");
    r.cut_off = true;
    r.end_status = 502;
    CHECK(line_for("%s", r, now) == "502");
    r.worker_pid = 0;
    CHECK(line_for("%p", r, now) == "-");
  }
}
