// SPDX-License-Identifier: ISC
#include "src/upstream/response_sniffer.hpp"

#include <catch2/catch.hpp>

using fcgimux::head_verdict;
using fcgimux::response_sniffer;

TEST_CASE("status from a Status header, split anywhere, the split head is kept whole") {
  std::string answer = "Content-Type: text/html\r\nStatus: 404 Not Found\r\n\r\nbody";
  for (std::size_t cut = 0; cut <= answer.size(); ++cut) {
    response_sniffer s;
    std::string relayed;
    for (std::string_view piece : {std::string_view(answer).substr(0, cut), std::string_view(answer).substr(cut)}) {
      auto v = s.feed(piece);
      if (v == head_verdict::incomplete) continue;
      std::string held = s.take_held();
      relayed += held.empty() ? std::string(piece) : held;
    }
    INFO("cut at " << cut);
    CHECK(s.status() == 404);
    CHECK(s.head_complete());
    CHECK(relayed.substr(0, answer.size()) == answer.substr(0, relayed.size()));
  }
}

TEST_CASE("no Status: 200, or 302 with a Location") {
  response_sniffer a;
  CHECK(a.feed("Content-Type: text/plain\n\nhi") == head_verdict::ok);
  CHECK(a.status() == 200);
  response_sniffer b;
  b.feed("Location: http://example.invalid/\r\n\r\n");
  CHECK(b.status() == 302);
  response_sniffer c;
  CHECK(c.status() == 0);
  CHECK(c.verdict() == head_verdict::incomplete);
}

TEST_CASE("case-insensitive header names, a Status that is not three digits is refused") {
  response_sniffer a;
  a.feed("status:503 Busy\r\n\r\n");
  CHECK(a.status() == 503);
  for (const char* bad : {"Status: abc\r\n\r\n", "Status: 99\r\n\r\n", "Status: 20\r\n\r\n", "Status:\r\n\r\n"}) {
    response_sniffer b;
    INFO(bad);
    CHECK(b.feed(bad) == head_verdict::bad_status);
  }
}

TEST_CASE("a head without an end within max_head is too large, whatever the record sizes") {
  std::string line = "X-Filler: " + std::string(90, 'x') + "\r\n";
  for (std::size_t piece : {std::size_t{1}, std::size_t{100}, std::size_t{65535}}) {
    response_sniffer s;
    head_verdict v = head_verdict::incomplete;
    std::string all;
    while (all.size() < 2 * response_sniffer::max_head) all += line;
    for (std::size_t at = 0; at < all.size() && v == head_verdict::incomplete; at += piece)
      v = s.feed(std::string_view(all).substr(at, piece));
    INFO("pieces of " << piece);
    CHECK(v == head_verdict::too_large);
  }
}
