// SPDX-License-Identifier: ISC
// The one place that answers and ends a request (src/core/request_lifecycle), with a fake front
// and a fake owner: an end is counted once, an answer nobody waits for is not a response.

#include "fakes.hpp"
#include "src/core/request_lifecycle.hpp"

#include <catch2/catch.hpp>

using namespace fcgimux;
using namespace fcgimux::test;

TEST_CASE("lifecycle: respond writes a whole CGI answer, ends the request and counts its status once") {
  auto front = std::make_shared<fake_front>();
  fake_owner owner;
  request r(front, owner, 7, true);
  respond(r, 200, "text/plain", "hello");
  CHECK(front->out[7] == "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
  REQUIRE(front->ends.size() == 1);
  CHECK(front->ends[0].id == 7);
  CHECK(r.state == request_state::done);
  CHECK(owner.statuses == std::vector<int>{200});
  // Whatever tries next, the request is over.
  respond_error(r, 502, "late");
  finish_request(r, 0, 200);
  CHECK(front->ends.size() == 1);
  CHECK(owner.statuses.size() == 1);
}

TEST_CASE("lifecycle: a 503 of fcgimux's own says when to retry") {
  auto front = std::make_shared<fake_front>();
  fake_owner owner;
  request r(front, owner, 1, false);
  respond_error(r, 503, "queue full");
  CHECK(front->out[1].find("Retry-After: 1\r\n") != std::string::npos);
  CHECK(front->out[1].ends_with("503 Service Unavailable: queue full\n"));
}

TEST_CASE("lifecycle: an answer to a front that left is counted as nobody's (status 0)") {
  auto front = std::make_shared<fake_front>();
  fake_owner owner;
  request r(front, owner, 3, false);
  r.front_gone = true;
  respond(r, 200, "text/plain", "x");
  CHECK(front->out.empty());
  CHECK(front->ends.empty());
  CHECK(owner.statuses == std::vector<int>{0});
}

TEST_CASE("lifecycle: a front connection already destroyed is no obstacle to ending") {
  fake_owner owner;
  std::weak_ptr<front_port> gone;
  {
    auto front = std::make_shared<fake_front>();
    gone = front;
  }
  request r(gone, owner, 4, false);
  finish_request(r, 0, 504);
  CHECK(r.state == request_state::done);
  CHECK(owner.statuses == std::vector<int>{504});
}
