#include "src/response_sniffer.hpp"

#include <catch2/catch.hpp>

using fcgimux::response_sniffer;

TEST_CASE("status from a Status header, split anywhere") {
  std::string head = "Content-Type: text/html\r\nStatus: 404 Not Found\r\n\r\nbody";
  for (std::size_t cut = 0; cut <= head.size(); ++cut) {
    response_sniffer s;
    s.feed(head.substr(0, cut));
    s.feed(head.substr(cut));
    CHECK(s.status() == 404);
    CHECK(s.head_complete());
  }
}

TEST_CASE("no Status: 200, or 302 with a Location") {
  response_sniffer a;
  a.feed("Content-Type: text/plain\n\nhi");
  CHECK(a.status() == 200);
  response_sniffer b;
  b.feed("Location: http://example.invalid/\r\n\r\n");
  CHECK(b.status() == 302);
  response_sniffer c;
  CHECK(c.status() == 0);
}

TEST_CASE("case-insensitive header names, malformed status ignored") {
  response_sniffer a;
  a.feed("status:503 Busy\r\n\r\n");
  CHECK(a.status() == 503);
  response_sniffer b;
  b.feed("Status: abc\r\n\r\n");
  CHECK(b.status() == 200);
}
