// SPDX-License-Identifier: ISC
// Issue 21 items 4 and 5 and --allow: PARAMS that are not name-value pairs never reach a worker,
// connections that never finish a request's head give their --max-conns slot back after
// --header-timeout, an idle connection goes after --front-idle-timeout, and --allow refuses peers.

#include "backends.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"
#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/security/front_support.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/paths.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <string>
#include <vector>

using namespace fcgimux::test;
namespace proto = fcgimux::proto;

namespace {

fcgimux_options demo_mux(std::vector<std::string> args) {
  args.insert(args.end(), {"--stats", "127.0.0.1:0"});
  return behind_fcgimux(demo_backend(), std::move(args));
}

void require_serving(fcgimux_instance& mux) {
  fcgi_client c(mux.address());
  REQUIRE_READ_OK(c.exchange(backend_request(demo_backend(), "GET", "/data?bytes=5"), 20s), mux);
  CHECK(c.response(1).ended);
}

}  // namespace

TEST_CASE("PARAMS that are not whole name-value pairs never reach a worker", "[security][front]") {
  temp_dir dir;
  const std::string log = dir.file("requests");
  fcgimux_options o;
  o.args = {"-n", "1", "--stats", "off"};
  o.command = {RECORDING_WORKER_BIN, log};
  fcgimux_instance mux(o);

  std::string valid;
  proto::append_name_value(valid, "SCRIPT_NAME", "/x");
  const std::string bad[] = {
      // A name that declares 2^31 - 1 bytes, followed by a few.
      valid + std::string("\xff\xff\xff\xff\x01", 5) + "abc",
      // A whole pair, then one byte of garbage.
      valid + std::string("\x05", 1),
  };
  for (const auto& params : bad) {
    fcgi_client c(mux.address());
    c.send_begin(1, 1, 0);
    std::string rec;
    proto::append_stream(rec, proto::record_type::params, 1, params);
    proto::append_stream_end(rec, proto::record_type::params, 1);
    proto::append_stream_end(rec, proto::record_type::stdin_stream, 1);
    c.send_raw(rec);
    REQUIRE(c.flush());
    CHECK(c.read_until_closed(10s) == read_status::ok);
    CHECK_FALSE(c.response(1).ended);  // the front broke the protocol: no answer, as for bad records
  }
  CHECK(eventually([&] { return mux.stderr_text().find("not whole name-value pairs") != std::string::npos; }, 10s));  // written by the log thread

  // A valid request after them does reach the worker, and it is the only one that did.
  fcgi_client ok(mux.address());
  request_spec r;
  r.params = cgi_params("GET", "/x");
  REQUIRE_READ_OK(ok.exchange(r, 20s), mux);
  CHECK(ok.response(1).out.find("ok") != std::string::npos);
  std::string block;
  for (auto& [n, v] : r.params) proto::append_name_value(block, n, v);
  CHECK(read_file(log) == "request params=" + std::to_string(block.size()) + " whole\n");
}

TEST_CASE("slow heads on every --max-conns slot are closed after --header-timeout", "[security][front]") {
  fcgimux_instance mux(demo_mux({"-n", "1", "--max-conns", "4", "--header-timeout", "1"}));
  std::vector<fcgi_client> slow;
  for (int i = 0; i < 4; ++i) {
    slow.emplace_back(mux.address());
    slow.back().send_begin(1, 1, proto::flag_keep_conn);
    std::string part;  // a PARAMS record that declares 100 bytes and brings 10
    proto::append_header(part, proto::record_type::params, 1, 100, 4);
    part += std::string(10, 'p');
    slow.back().send_raw(part);
    REQUIRE(slow.back().flush());
  }
  REQUIRE(eventually([&] { return stats_of(mux)["connections"]["active"] == 4; }, 10s));

  // Every slot is taken: this one waits in the backlog until the timeout frees one.
  fcgi_client late(mux.address());
  REQUIRE_READ_OK(late.exchange(backend_request(demo_backend(), "GET", "/data?bytes=5"), 20s), mux);
  CHECK(late.response(1).ended);
  for (auto& s : slow) {
    CHECK(s.read_until_closed(10s) == read_status::ok);
    CHECK_FALSE(s.response(1).ended);
  }
  CHECK(eventually([&] { return stats_of(mux)["connections"]["header_timeouts"] == 4; }, 10s));
  CHECK(eventually([&] { return mux.stderr_text().find("--header-timeout") != std::string::npos; }, 10s));  // written by the log thread
}

TEST_CASE("a connection with no request is closed after --front-idle-timeout", "[security][front]") {
  fcgimux_instance mux(demo_mux({"-n", "1", "--front-idle-timeout", "1"}));
  fcgi_client c(mux.address());
  REQUIRE_READ_OK(c.exchange(backend_request(demo_backend(), "GET", "/data?bytes=5", "", proto::flag_keep_conn), 20s),
                  mux);
  const auto served = std::chrono::steady_clock::now();
  CHECK(c.read_until_closed(10s) == read_status::ok);
  CHECK(std::chrono::steady_clock::now() - served >= 900ms);
  CHECK(eventually([&] { return stats_of(mux)["connections"]["idle_timeouts"] == 1; }, 10s));
  require_serving(mux);
}

TEST_CASE("a peer outside --allow is refused at accept, one inside is served", "[security][front]") {
  fcgimux_instance mux(demo_mux({"-n", "1", "--allow", "127.0.0.1/32", "--allow", "::1"}));
  auto refused = connect_from("127.0.0.2", mux.port());
  REQUIRE(refused);
  std::string req;
  proto::append_begin_request(req, 1, 1, 0);
  ::send(refused.get(), req.data(), req.size(), MSG_NOSIGNAL);
  timeval tv{10, 0};
  ::setsockopt(refused.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char byte = 0;
  CHECK(::recv(refused.get(), &byte, 1, 0) <= 0);  // closed at once (EOF or reset), nothing sent
  CHECK(errno != EAGAIN);
  CHECK(eventually([&] { return stats_of(mux)["connections"]["refused"] == 1; }, 10s));
  CHECK(eventually([&] { return mux.stderr_text().find("from 127.0.0.2:") != std::string::npos; }, 10s));  // written by the log thread
  require_serving(mux);  // from 127.0.0.1
  CHECK(stats_of(mux)["connections"]["refused"] == 1);
}

TEST_CASE("an allow list takes IPv4 and IPv6 ranges, for TCP listeners only", "[security][front]") {
  auto bad = run_fcgimux({"--allow", "10.0.0.0/33", "--", demo_bin}, 10s);
  CHECK(bad.status.exited);
  CHECK(bad.status.code == 2);
  CHECK(bad.stderr_text.find("allow: '10.0.0.0/33'") != std::string::npos);
  temp_dir dir;
  auto unix_only = run_fcgimux({"--allow", "127.0.0.1", "--listen", "unix:" + dir.file("s"), "--", demo_bin}, 10s);
  CHECK(unix_only.status.code == 2);
  CHECK(unix_only.stderr_text.find("allow: applies to TCP listeners") != std::string::npos);
}
