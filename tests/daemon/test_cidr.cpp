// --allow's address ranges: IPv4, IPv6, and IPv4 clients seen through a dual-stack listener.

#include "src/config/cidr.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

using namespace fcgimux;

namespace {

std::array<std::uint8_t, 16> v4(const char* a) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  ::inet_pton(AF_INET, a, &sa.sin_addr);
  return *ip_bytes(reinterpret_cast<const sockaddr*>(&sa));
}

std::array<std::uint8_t, 16> v6(const char* a) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, a, &sa.sin6_addr);
  return *ip_bytes(reinterpret_cast<const sockaddr*>(&sa));
}

}  // namespace

TEST_CASE("cidr: IPv4 ranges match IPv4 peers and IPv4-mapped IPv6 peers alike") {
  const auto lo = parse_cidr("127.0.0.1");
  REQUIRE(lo);
  CHECK(lo->contains(v4("127.0.0.1")));
  CHECK_FALSE(lo->contains(v4("127.0.0.2")));
  CHECK(lo->contains(v6("::ffff:127.0.0.1")));
  const auto net = parse_cidr("10.1.2.3/12");  // host bits cleared: 10.0.0.0/12
  REQUIRE(net);
  CHECK(net->contains(v4("10.15.255.255")));
  CHECK_FALSE(net->contains(v4("10.16.0.0")));
  CHECK(net->contains(v6("::ffff:10.0.0.9")));
  CHECK_FALSE(net->contains(v6("::10.0.0.9")));  // IPv4-compatible is not IPv4-mapped
  const auto any = parse_cidr("0.0.0.0/0");
  REQUIRE(any);
  CHECK(any->contains(v4("192.0.2.1")));
  CHECK_FALSE(any->contains(v6("2001:db8::1")));
}

TEST_CASE("cidr: IPv6 ranges, and what is not a range") {
  const auto doc = parse_cidr("2001:db8::/33");
  REQUIRE(doc);
  CHECK(doc->contains(v6("2001:db8:7fff::1")));
  CHECK_FALSE(doc->contains(v6("2001:db8:8000::1")));
  const auto one = parse_cidr("::1");
  REQUIRE(one);
  CHECK(one->contains(v6("::1")));
  CHECK_FALSE(one->contains(v4("127.0.0.1")));
  for (const char* bad :
       {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8x", "localhost", "10.0.0/8", "1.2.3.4/-1"})
    CHECK_FALSE(parse_cidr(bad));
}
