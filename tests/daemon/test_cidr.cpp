// SPDX-License-Identifier: ISC
// --allow's address ranges (base/cidr, shared with --stats-allow): IPv4, IPv6, and IPv4 clients
// seen through a dual-stack listener.

#include "src/base/cidr.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>

using namespace fcgimux;

namespace {

struct address {
  std::array<std::uint8_t, 16> bytes{};
  bool v6 = false;
};

address v4(const char* a) {
  address out;
  REQUIRE(::inet_pton(AF_INET, a, out.bytes.data()) == 1);
  return out;
}

address v6(const char* a) {
  address out;
  out.v6 = true;
  REQUIRE(::inet_pton(AF_INET6, a, out.bytes.data()) == 1);
  return out;
}

bool in(const cidr& c, const address& a) { return c.contains(a.bytes.data(), a.v6); }

}  // namespace

TEST_CASE("cidr: IPv4 ranges match IPv4 peers and IPv4-mapped IPv6 peers alike") {
  const auto lo = cidr::parse("127.0.0.1");
  REQUIRE(lo);
  CHECK(in(*lo, v4("127.0.0.1")));
  CHECK_FALSE(in(*lo, v4("127.0.0.2")));
  CHECK(in(*lo, v6("::ffff:127.0.0.1")));
  const auto net = cidr::parse("10.0.0.0/12");
  REQUIRE(net);
  CHECK(in(*net, v4("10.15.255.255")));
  CHECK_FALSE(in(*net, v4("10.16.0.0")));
  CHECK(in(*net, v6("::ffff:10.0.0.9")));
  CHECK_FALSE(in(*net, v6("::10.0.0.9")));  // IPv4-compatible is not IPv4-mapped
  const auto any = cidr::parse("0.0.0.0/0");
  REQUIRE(any);
  CHECK(in(*any, v4("192.0.2.1")));
  CHECK_FALSE(in(*any, v6("2001:db8::1")));
}

TEST_CASE("cidr: IPv6 ranges, and what is not a range") {
  const auto doc = cidr::parse("2001:db8::/33");
  REQUIRE(doc);
  CHECK(in(*doc, v6("2001:db8:7fff::1")));
  CHECK_FALSE(in(*doc, v6("2001:db8:8000::1")));
  const auto one = cidr::parse("::1");
  REQUIRE(one);
  CHECK(in(*one, v6("::1")));
  CHECK_FALSE(in(*one, v4("127.0.0.1")));
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8x", "localhost", "10.0.0/8",
                          "1.2.3.4/-1", "10.1.2.3/12"})
    CHECK_FALSE(cidr::parse(bad));
}
