// SPDX-License-Identifier: ISC
// A remote server's health arithmetic without a clock or a socket: ejections double while the
// server keeps failing, up to a cap; active checks take it down after `fall` failures in a row and
// bring it back after `rise` passes in a row.
#include "src/pool/health_check.hpp"
#include "src/upstream/health_probe.hpp"

#include "proto/decoder.hpp"
#include "proto/protocol.hpp"

#include <catch2/catch.hpp>

#include <string_view>

using namespace fcgimux;
using namespace std::chrono_literals;

TEST_CASE("an ejection lasts eject-time, doubled per ejection in a row, at most 32 times", "[health]") {
  const std::chrono::steady_clock::duration base = 10s;
  CHECK(eject_length(base, 0) == 10s);
  CHECK(eject_length(base, 1) == 20s);
  CHECK(eject_length(base, 2) == 40s);
  CHECK(eject_length(base, 5) == 320s);
  CHECK(eject_length(base, 6) == 320s);
  CHECK(eject_length(base, 1000) == 320s);
  CHECK(eject_length(1500ms, 3) == 12s);
}

TEST_CASE("checks: down after fall failures in a row, up after rise passes in a row", "[health]") {
  check_state h(2, 3);
  CHECK(h.up());
  CHECK_FALSE(h.record(false));
  CHECK_FALSE(h.record(false));
  CHECK_FALSE(h.record(true));  // a pass between failures starts the count again
  CHECK_FALSE(h.record(false));
  CHECK_FALSE(h.record(false));
  CHECK(h.up());
  CHECK(h.record(false));  // the third in a row
  CHECK_FALSE(h.up());
  CHECK_FALSE(h.record(false));
  CHECK_FALSE(h.record(true));
  CHECK_FALSE(h.record(false));  // a failure between passes starts the count again
  CHECK_FALSE(h.record(true));
  CHECK_FALSE(h.up());
  CHECK(h.record(true));
  CHECK(h.up());
}

TEST_CASE("checks with rise and fall of 1 turn at each change", "[health]") {
  check_state h(1, 1);
  CHECK(h.record(false));
  CHECK_FALSE(h.up());
  CHECK(h.record(true));
  CHECK(h.up());
  CHECK_FALSE(h.record(true));
}

TEST_CASE("a check-path request is one GET with its path, no FCGI_KEEP_CONN, and an empty STDIN", "[health]") {
  std::string bytes = probe_request("/ping");
  std::string_view in = bytes;
  proto::decoder d;
  int begins = 0, stdin_ends = 0;
  std::string params;
  bool keep = true;
  while (!in.empty()) {
    auto r = d.next(in);
    in.remove_prefix(r.consumed);
    if (r.ev.type == proto::event_type::none) break;
    REQUIRE(r.ev.type != proto::event_type::error);
    if (r.ev.type == proto::event_type::begin_request) {
      ++begins;
      keep = (r.ev.flags & proto::flag_keep_conn) != 0;
    }
    if (r.ev.type == proto::event_type::stream_data && r.ev.record() == proto::record_type::params)
      params += r.ev.data;
    if (r.ev.type == proto::event_type::stream_end && r.ev.record() == proto::record_type::stdin_stream) ++stdin_ends;
  }
  CHECK(begins == 1);
  CHECK_FALSE(keep);
  CHECK(stdin_ends == 1);
  CHECK(params.find("SCRIPT_FILENAME") != std::string::npos);
  CHECK(params.find("/ping") != std::string::npos);
  CHECK(params.find("GET") != std::string::npos);
}
