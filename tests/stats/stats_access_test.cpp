// SPDX-License-Identifier: ISC
// Address blocks and the stats' access rules, without a socket.

#include "src/admin/stats_access.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <array>
#include <string>

using namespace fcgimux;

namespace {

bool allowed(const stats_access& a, const std::string& address) {
  std::array<std::uint8_t, 16> bytes{};
  if (::inet_pton(AF_INET, address.c_str(), bytes.data()) == 1) return a.address_allowed(bytes.data(), false);
  REQUIRE(::inet_pton(AF_INET6, address.c_str(), bytes.data()) == 1);
  return a.address_allowed(bytes.data(), true);
}

}  // namespace

TEST_CASE("cidr: what parses, and its canonical text", "[access]") {
  CHECK(cidr::parse("10.0.0.0/8")->to_string() == "10.0.0.0/8");
  CHECK(cidr::parse("192.0.2.7")->to_string() == "192.0.2.7/32");
  CHECK(cidr::parse("::1")->to_string() == "::1/128");
  CHECK(cidr::parse("0.0.0.0/0")->to_string() == "0.0.0.0/0");
  CHECK(cidr::parse("2001:db8::/32")->to_string() == "2001:db8::/32");
  CHECK(cidr::parse("::ffff:10.0.0.0/104")->to_string() == "10.0.0.0/8");  // mapped: compared as IPv4
  for (const char* bad : {"", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x", "10.1.2.3/8", "10.0.0",
                          "example.org", "::1/129", "10.0.0.0/08x", " 10.0.0.0/8"}) {
    INFO(bad);
    CHECK_FALSE(cidr::parse(bad));
  }
}

TEST_CASE("stats access: loopback only by default, the blocks given otherwise", "[access]") {
  stats_access loopback_only;
  CHECK(allowed(loopback_only, "127.0.0.1"));
  CHECK(allowed(loopback_only, "127.9.9.9"));
  CHECK(allowed(loopback_only, "::1"));
  CHECK(allowed(loopback_only, "::ffff:127.0.0.1"));  // a v4 client of a v6 socket
  CHECK_FALSE(allowed(loopback_only, "10.0.0.1"));
  CHECK_FALSE(allowed(loopback_only, "::2"));

  stats_access listed{
      .allow = {*cidr::parse("10.1.0.0/16"), *cidr::parse("2001:db8::/33"), *cidr::parse("127.0.0.1")}, .token = {}};
  CHECK(allowed(listed, "10.1.255.3"));
  CHECK(allowed(listed, "::ffff:10.1.0.9"));
  CHECK_FALSE(allowed(listed, "10.2.0.1"));
  CHECK(allowed(listed, "2001:db8:7fff::1"));
  CHECK_FALSE(allowed(listed, "2001:db8:8000::1"));
  CHECK(allowed(listed, "127.0.0.1"));
  CHECK_FALSE(allowed(listed, "127.0.0.2"));  // the list replaces the default, loopback included
  CHECK_FALSE(allowed(listed, "::1"));

  stats_access everyone{.allow = {*cidr::parse("0.0.0.0/0"), *cidr::parse("::/0")}, .token = {}};
  CHECK(allowed(everyone, "203.0.113.5"));
  CHECK(allowed(everyone, "2001:db8::5"));
}

TEST_CASE("stats access: the bearer token", "[access]") {
  CHECK(stats_access{}.token_accepted(""));  // no token configured: nothing asked
  const stats_access a{.allow = {}, .token = "s3cr.et-Token"};
  CHECK(a.token_accepted("Bearer s3cr.et-Token"));
  CHECK(a.token_accepted("bearer   s3cr.et-Token"));
  CHECK_FALSE(a.token_accepted(""));
  CHECK_FALSE(a.token_accepted("Bearer"));
  CHECK_FALSE(a.token_accepted("Bearer "));
  CHECK_FALSE(a.token_accepted("Bearer s3cr.et-Toke"));
  CHECK_FALSE(a.token_accepted("Bearer s3cr.et-Tokenx"));
  CHECK_FALSE(a.token_accepted("Bearer s3cr.et-token"));
  CHECK_FALSE(a.token_accepted("Basic s3cr.et-Token"));
  CHECK_FALSE(a.token_accepted("Bearers3cr.et-Token"));
  CHECK_FALSE(a.token_accepted("s3cr.et-Token"));
}

TEST_CASE("constant_time_equal compares contents and lengths", "[access]") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "ab"));
  CHECK_FALSE(constant_time_equal("ab", "abc"));
  CHECK_FALSE(constant_time_equal(std::string_view("a\0", 2), "a"));
}
