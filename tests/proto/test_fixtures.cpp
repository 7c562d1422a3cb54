// SPDX-License-Identifier: ISC
// Bytes captured from real nginx, php-cgi and fcgiwrap (scripts/capture-fixtures.sh).

#include "decode_support.hpp"
#include "proto/name_value.hpp"

#include <algorithm>
#include <cstdio>

using namespace fcgimux::proto;
using namespace fcgimux::proto::test;

namespace {

const decoder_limits server_side{64 * 1024, 16};

std::string fixture(const std::string& name) {
  std::string bytes = read_fixture(name);
  INFO("fixture " << name << " (run scripts/capture-fixtures.sh)");
  REQUIRE(!bytes.empty());
  return bytes;
}

bool has_event(const decoded& d, const std::string& e) {
  return std::find(d.events.begin(), d.events.end(), e) != d.events.end();
}

}  // namespace

TEST_CASE("every fixture decodes the same whatever the split", "[proto][fixtures][split]") {
  const std::vector<std::string> names = fixture_names();
  REQUIRE(names.size() >= 5);
  for (const std::string& name : names) {
    INFO("fixture " << name);
    const std::string bytes = fixture(name);
    const decoded whole = decode_whole({}, bytes);
    REQUIRE_FALSE(whole.error);
    REQUIRE(whole.consumed == bytes.size());
    require_split_invariant({}, bytes);
    if (name.rfind("nginx-", 0) == 0) require_split_invariant(server_side, bytes);
  }
}

TEST_CASE("nginx GET: BEGIN_REQUEST, PARAMS, empty STDIN", "[proto][fixtures]") {
  const std::string bytes = fixture("nginx-get.bin");
  const decoded d = decode_whole(server_side, bytes);
  REQUIRE_FALSE(d.error);
  const std::vector<std::string> expected = {"begin id=1 role=1 flags=0 over_limit=0", "stream_end PARAMS id=1",
                                             "stream_end STDIN id=1"};
  CHECK(d.events == expected);
  CHECK(d.streams.count("1/STDIN") == 0);
  const std::string& params = d.streams.at("1/PARAMS");
  CHECK_FALSE(validate_name_values(params));
  CHECK(find_name_value(params, "REQUEST_METHOD").value == "GET");
  CHECK(find_name_value(params, "QUERY_STRING").value == "page=1&lang=en");
  CHECK(find_name_value(params, "SCRIPT_FILENAME").value == "/srv/www/index.php");
  CHECK(find_name_value(params, "HTTP_USER_AGENT").value.find("fcgimux-capture") != std::string_view::npos);
  CHECK(find_name_value(params, "HTTP_COOKIE").value == "PHPSESSID=0123456789abcdef0123456789; theme=dark");
}

TEST_CASE("nginx POST: the body arrives as STDIN records", "[proto][fixtures]") {
  const std::string bytes = fixture("nginx-post.bin");
  const decoded d = decode_whole(server_side, bytes);
  REQUIRE_FALSE(d.error);
  CHECK(d.events.front() == "begin id=1 role=1 flags=0 over_limit=0");
  CHECK(d.events.back() == "stream_end STDIN id=1");
  const std::string& params = d.streams.at("1/PARAMS");
  CHECK(find_name_value(params, "REQUEST_METHOD").value == "POST");
  CHECK(find_name_value(params, "CONTENT_TYPE").value == "application/x-www-form-urlencoded");
  CHECK(find_name_value(params, "HTTP_USER_AGENT").value == "fcgimux-capture");
  // The body the capture script posted.
  std::string body;
  char field[32];
  for (int i = 0; i < 2500; ++i) {
    std::snprintf(field, sizeof field, "field%05d=value&", i);
    body += field;
  }
  CHECK(find_name_value(params, "CONTENT_LENGTH").value == std::to_string(body.size()));
  CHECK(d.streams.at("1/STDIN") == body);
}

TEST_CASE("php-cgi answer: STDOUT with headers, END_REQUEST", "[proto][fixtures]") {
  const std::string bytes = fixture("php-cgi-response.bin");
  const decoded d = decode_whole({}, bytes);
  REQUIRE_FALSE(d.error);
  CHECK(d.events.back() == "end id=1 app_status=0 status=0");
  const std::string& out = d.streams.at("1/STDOUT");
  const std::size_t split = out.find("\r\n\r\n");
  REQUIRE(split != std::string::npos);
  CHECK(out.substr(0, split).find("X-Fixture: php-cgi") != std::string::npos);
  std::string body;
  while (body.size() < 4096) body += "0123456789abcdef";
  CHECK(out.substr(split + 4) == body);
}

TEST_CASE("php-cgi answer to GET_VALUES", "[proto][fixtures]") {
  const decoded d = decode_whole({}, fixture("php-cgi-get-values.bin"));
  REQUIRE_FALSE(d.error);
  REQUIRE(d.events.size() == 1);
  REQUIRE(d.events[0].rfind("get_values_result ", 0) == 0);
  decoder dec;
  const std::string bytes = fixture("php-cgi-get-values.bin");
  const decode_result r = dec.next(bytes);
  REQUIRE(r.ev.type == event_type::get_values_result);
  CHECK(find_name_value(r.ev.data, var_mpxs_conns).value == "0");
}

TEST_CASE("fcgiwrap (libfcgi) answer: STDOUT, its end, END_REQUEST", "[proto][fixtures]") {
  const decoded d = decode_whole({}, fixture("fcgiwrap-response.bin"));
  REQUIRE_FALSE(d.error);
  CHECK(has_event(d, "stream_end STDOUT id=1"));
  CHECK(d.events.back() == "end id=1 app_status=0 status=0");
  const std::string& out = d.streams.at("1/STDOUT");
  CHECK(out.find("X-Fixture: fcgiwrap\r\n\r\n") != std::string::npos);
  CHECK(out.find("hello from fcgiwrap, method GET") != std::string::npos);
}
