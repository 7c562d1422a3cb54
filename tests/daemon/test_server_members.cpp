// SPDX-License-Identifier: ISC
// The members a pool's servers stand for, without sockets (pool/server_members.hpp): a literal
// server is one member under its own name, a named one a member per address of its name; a new
// answer adds, drains and keeps members; a failed lookup keeps what the last answer gave.
#include "src/pool/server_members.hpp"

#include <catch2/catch.hpp>

#include <netinet/in.h>

#include <string>
#include <vector>

using namespace fcgimux;

namespace {

server_config named(const std::string& address) {
  server_config s;
  s.address = address;
  s.named = true;
  return s;
}

server_config literal(const std::string& host, std::uint16_t port) {
  server_config s;
  s.address = host + ":" + std::to_string(port);
  s.resolved.push_back(*literal_address(host, port));
  return s;
}

name_answer answer_of(std::vector<std::string> ips) {
  name_answer a;
  for (const auto& ip : ips) a.addresses.push_back(*literal_address(ip, 0));
  return a;
}

name_answer failure(std::string why) {
  name_answer a;
  a.error = std::move(why);
  return a;
}

std::vector<std::string> keys_of(const std::vector<member_spec>& members) {
  std::vector<std::string> out;
  for (const auto& m : members) out.push_back(m.key);
  return out;
}

// The keys a diff adds, drains and keeps.
struct named_changes {
  std::vector<std::string> add, drain, keep;
};

named_changes changes_of(const std::vector<std::string>& now, const std::vector<member_spec>& wanted) {
  const member_changes c = diff_members(now, wanted);
  named_changes out;
  for (auto j : c.add) out.add.push_back(wanted[j].key);
  for (auto i : c.drain) out.drain.push_back(now[i]);
  for (auto [i, j] : c.keep) {
    CHECK(now[i] == wanted[j].key);
    out.keep.push_back(now[i]);
  }
  return out;
}

using keys = std::vector<std::string>;

}  // namespace

TEST_CASE("a literal server is one member under its own name, a named one a member per address", "[servers]") {
  std::vector<server_config> servers = {literal("127.0.0.1", 9000), named("app.test:9000"), named("v6.test:9001")};
  server_addresses known;
  const name_answers answers = {{"app.test", answer_of({"10.0.0.2", "10.0.0.3"})}, {"v6.test", answer_of({"fd00::5"})}};
  CHECK(take_answers(known, servers, answers).empty());
  const auto members = members_of(servers, known);
  CHECK(keys_of(members) ==
        keys{"127.0.0.1:9000", "app.test:9000@10.0.0.2", "app.test:9000@10.0.0.3", "v6.test:9001@[fd00::5]"});
  CHECK(members[2].server == 1);
  // Each address has its server's port.
  CHECK(ntohs(reinterpret_cast<const sockaddr_in*>(&members[2].where.address)->sin_port) == 9000);
  CHECK(ntohs(reinterpret_cast<const sockaddr_in6*>(&members[3].where.address)->sin6_port) == 9001);
}

TEST_CASE("a new answer: an address gone drains, a new one is added, the others are kept", "[servers]") {
  std::vector<server_config> servers = {literal("127.0.0.1", 9000), named("app.test:9000")};
  server_addresses known;
  take_answers(known, servers, {{"app.test", answer_of({"127.0.0.2", "127.0.0.3"})}});
  const keys now = keys_of(members_of(servers, known));

  SECTION("the same answer changes nothing") {
    take_answers(known, servers, {{"app.test", answer_of({"127.0.0.3", "127.0.0.2"})}});  // another order
    auto c = changes_of(now, members_of(servers, known));
    CHECK(c.add.empty());
    CHECK(c.drain.empty());
    CHECK(c.keep.size() == 3);
  }
  SECTION(".3 replaced by .4") {
    take_answers(known, servers, {{"app.test", answer_of({"127.0.0.2", "127.0.0.4"})}});
    auto c = changes_of(now, members_of(servers, known));
    CHECK(c.add == keys{"app.test:9000@127.0.0.4"});
    CHECK(c.drain == keys{"app.test:9000@127.0.0.3"});
    CHECK(c.keep == keys{"127.0.0.1:9000", "app.test:9000@127.0.0.2"});
  }
  SECTION("a failed lookup keeps the members of the last answer") {
    auto failed = take_answers(known, servers, {{"app.test", failure("Name or service not known")}});
    CHECK(failed == keys{"app.test:9000"});
    auto c = changes_of(now, members_of(servers, known));
    CHECK(c.add.empty());
    CHECK(c.drain.empty());
    CHECK(c.keep.size() == 3);
    // No answer at all (a lookup not made) is a failure too.
    CHECK(take_answers(known, servers, {}) == keys{"app.test:9000"});
    CHECK(keys_of(members_of(servers, known)) == now);
  }
  SECTION("one address left: the others drain") {
    take_answers(known, servers, {{"app.test", answer_of({"127.0.0.3"})}});
    auto c = changes_of(now, members_of(servers, known));
    CHECK(c.drain == keys{"app.test:9000@127.0.0.2"});
    CHECK(c.add.empty());
  }
}

TEST_CASE("two servers of one name share its answer, each with its own port, and repeats are one member", "[servers]") {
  std::vector<server_config> servers = {named("app.test:9000"), named("app.test:9001"), named("app.test:9000")};
  server_addresses known;
  CHECK(take_answers(known, servers, {{"app.test", answer_of({"10.0.0.2"})}}).empty());
  CHECK(keys_of(members_of(servers, known)) == keys{"app.test:9000@10.0.0.2", "app.test:9001@10.0.0.2"});
  // A name never answered yet (a server a lookup has not reached) stands for no member.
  server_addresses none;
  CHECK(members_of(servers, none).empty());
}
