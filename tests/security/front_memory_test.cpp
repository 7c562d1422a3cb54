// SPDX-License-Identifier: ISC
// Issue 21 item 4: what a front can make fcgimux hold. A real client floods management records
// (GET_VALUES, unknown types) and bodies; fcgimux's peak RSS (VmHWM) may grow by no more than a
// bound derived from --output-buffer and --body-buffer, with a margin for the allocator.

#include "backends.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"
#include "tests/lifecycle/lifecycle_support.hpp"
#include "tests/security/front_support.hpp"
#include "tests/support/http_client.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

using namespace fcgimux::test;
namespace proto = fcgimux::proto;

namespace {

// What fcgimux may hold per connection in these tests is well under 1 MiB (see each test); 16 MiB
// leaves room for the allocator's slack and an ASan build's shadow memory, and is far below what
// the floods made it hold before (64 to 150 MiB).
constexpr std::uint64_t growth_bound_kib = 16 * 1024;

std::string get_values_record() {
  std::string q, rec;
  proto::append_name_value(q, proto::var_mpxs_conns, "");
  proto::append_management(rec, proto::record_type::get_values, q);
  return rec;
}

std::string unknown_type_record() {
  std::string rec;
  proto::append_record(rec, static_cast<proto::record_type>(42), 0, "");
  return rec;
}

fcgimux_options demo_mux(std::vector<std::string> args) {
  auto o = behind_fcgimux(demo_backend(), std::move(args));
  o.env.push_back(small_quarantine_asan_options());
  return o;
}

// fcgimux still answers a plain request on a new connection.
void require_serving(fcgimux_instance& mux) {
  REQUIRE(mux.process().running());
  fcgi_client c(mux.address());
  REQUIRE_READ_OK(c.exchange(backend_request(demo_backend(), "GET", "/data?bytes=5"), 20s), mux);
  CHECK(c.response(1).ended);
}

struct flood_case {
  const char* what;
  std::string unit;
  std::uint64_t total;
  std::size_t read_chunk;  // 0: the front never reads
};

}  // namespace

TEST_CASE("management records flooded by a front stay within --output-buffer", "[security][front]") {
  // Bound: reading pauses once more than --output-buffer (256 KiB) of answers waits, and a turn
  // reads at most 2 KiB + 4 x 64 KiB, whose answers are at most twice as large: under 1 MiB.
  const flood_case cases[] = {
      {"GET_VALUES, the front reads slowly", get_values_record(), 48u << 20, 64 * 1024},
      {"unknown types, the front reads slowly", unknown_type_record(), 24u << 20, 64 * 1024},
      {"GET_VALUES, the front never reads", get_values_record(), 64u << 20, 0},
  };
  for (const auto& fc : cases) {
    SECTION(fc.what) {
      fcgimux_instance mux(demo_mux({"-n", "1"}));
      require_serving(mux);
      const auto before = status_kib(mux.process().pid(), "VmRSS");
      auto fd = connect_to(mux.address());
      REQUIRE(fd);
      // A slow reader: 64 KiB every 5 ms, about 12 MB/s, slower than fcgimux can answer.
      const auto r = flood(fd.get(), fc.unit, fc.total, fc.read_chunk ? 10s : 3s, fc.read_chunk, 5ms);
      const auto peak = status_kib(mux.process().pid(), "VmHWM");
      INFO("sent " << r.sent << " bytes; RSS before " << before << " KiB, peak " << peak << " KiB");
      CHECK_FALSE(r.closed);
      if (fc.read_chunk == 0) CHECK(r.stalled);  // fcgimux stopped reading it
      CHECK(peak < before + growth_bound_kib);
      fd.reset();
      require_serving(mux);
    }
  }
}

TEST_CASE("a queued request's body is bounded while another request of the connection streams", "[security][front]") {
  // One worker, busy with request 1, whose body streams (it waits for more). Request 3 of the same
  // connection waits in the queue and its front sends 150 MiB of body: reading cannot pause (that
  // would starve request 1), so the bound is --max-reqs x --body-buffer (2 x 64 KiB) of STDIN per
  // connection, past which the connection is closed.
  fcgimux_instance mux(demo_mux(
      {"-n", "1", "--max-workers", "1", "--body-buffer", "65536", "--max-reqs", "2", "--stats", "127.0.0.1:0"}));
  require_serving(mux);
  const backend b = demo_backend();
  fcgi_client c(mux.address());
  c.send_begin(1, 1, proto::flag_keep_conn);
  c.send_params(1, backend_params(b, "POST", "/echo", 1u << 30));
  c.send_stdin(1, std::string(128 * 1024, 'a'), 32768, false);
  REQUIRE(c.flush());
  auto busy = [&] {
    auto s = http_request(mux.stats_port(), "GET", "/stats");
    return s.status == 200 && nlohmann::json::parse(s.body)["pool"]["busy"] == 1;
  };
  REQUIRE(eventually(busy, 10s));

  c.send_begin(3, 1, proto::flag_keep_conn);
  c.send_params(3, backend_params(b, "POST", "/echo", 1u << 30));
  REQUIRE(c.flush());
  const auto before = status_kib(mux.process().pid(), "VmRSS");
  std::string unit;
  proto::append_record(unit, proto::record_type::stdin_stream, 3, std::string(32768, 'b'));
  const auto r = flood(c.fd(), unit, 150u << 20, 10s, 64 * 1024, 1ms);
  const auto peak = status_kib(mux.process().pid(), "VmHWM");
  INFO("sent " << r.sent << " bytes; RSS before " << before << " KiB, peak " << peak << " KiB");
  CHECK(r.closed);
  CHECK(peak < before + growth_bound_kib);
  // The log writer thread writes the line a moment after the close.
  CHECK(eventually([&] { return mux.stderr_text().find("--max-reqs x --body-buffer") != std::string::npos; }, 10s));
  require_serving(mux);
}
