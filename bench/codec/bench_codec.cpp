// SPDX-License-Identifier: ISC
// Codec throughput on what real peers send, each beside a memcpy of the same bytes:
//   request   nginx GET with 30 params (tests/fixtures/nginx-get.bin), PARAMS parsed into pairs
//   4k        php-cgi's answer with a 4 KiB body (tests/fixtures/php-cgi-response.bin)
//   1m        a 1 MiB body laid out as php-cgi lays it out: 65528-byte STDOUT records
// Run: build*/bench/codec/fcgimux_bench_codec (RelWithDebInfo, -O2).

#include "proto/decoder.hpp"
#include "proto/encoder.hpp"
#include "proto/name_value.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

using namespace fcgimux::proto;

namespace {

std::string read_fixture(const char* name) {
  std::ifstream f(std::string(FCGIMUX_FIXTURES_DIR) + "/" + name, std::ios::binary);
  std::ostringstream o;
  o << f.rdbuf();
  if (o.str().empty()) {
    std::fprintf(stderr, "missing fixture %s (scripts/capture-fixtures.sh)\n", name);
    std::exit(1);
  }
  return o.str();
}

// php-cgi writes big bodies in 65528-byte STDOUT records (seen in a 1 MiB capture), then END_REQUEST.
std::string php_style_response(std::size_t body_size) {
  const std::string head = "X-Fixture: php-cgi\r\nContent-type: text/html; charset=UTF-8\r\n\r\n";
  std::string body = head;
  while (body.size() < head.size() + body_size) body += "0123456789abcdef";
  std::string out;
  for (std::string_view rest = body; !rest.empty();) {
    const std::size_t n = std::min<std::size_t>(rest.size(), 65528);
    append_record(out, record_type::stdout_stream, 1, rest.substr(0, n));
    rest.remove_prefix(n);
  }
  append_end_request(out, 1, 0, protocol_status::request_complete);
  return out;
}

const std::string& input(int which) {
  static const std::string request = read_fixture("nginx-get.bin");
  static const std::string small = read_fixture("php-cgi-response.bin");
  static const std::string large = php_style_response(1 << 20);
  return which == 0 ? request : which == 1 ? small : large;
}

const char* input_name(int which) { return which == 0 ? "request" : which == 1 ? "4k" : "1m"; }

std::size_t count_records(std::string_view bytes) {
  std::size_t n = 0;
  while (bytes.size() >= header_size) {
    const record_header h = parse_header(bytes.data());
    bytes.remove_prefix(std::min(bytes.size(), header_size + h.content_length + h.padding_length));
    ++n;
  }
  return n;
}

void set_counters(benchmark::State& state, std::string_view bytes) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * count_records(bytes)), benchmark::Counter::kIsRate);
  state.SetLabel(input_name(static_cast<int>(state.range(0))));
}

void bm_memcpy(benchmark::State& state) {
  const std::string& bytes = input(static_cast<int>(state.range(0)));
  std::string dst(bytes.size(), '\0');
  for (auto _ : state) {
    std::memcpy(dst.data(), bytes.data(), bytes.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, bytes);
}

// Decoding only: stream content is handed out as views, so no byte of it is touched.
void bm_decode(benchmark::State& state) {
  const std::string& bytes = input(static_cast<int>(state.range(0)));
  decoder d({64 * 1024, 16});
  std::size_t pairs = 0;
  const bool parse_params = state.range(0) == 0;
  for (auto _ : state) {
    std::string_view in = bytes;
    for (;;) {
      const decode_result r = d.next(in);
      in.remove_prefix(r.consumed);
      if (r.ev.type == event_type::none) break;
      if (r.ev.type == event_type::error) {
        state.SkipWithError("decode error");
        return;
      }
      if (parse_params && r.ev.type == event_type::stream_data && r.ev.record() == record_type::params) {
        name_value_reader reader(r.ev.data);
        name_value nv;
        while (reader.next(nv)) {
          benchmark::DoNotOptimize(nv);
          ++pairs;
        }
      }
      benchmark::DoNotOptimize(r.ev.data.data());
    }
    d.release(1);
  }
  set_counters(state, bytes);
  if (parse_params)
    state.counters["pairs/s"] = benchmark::Counter(static_cast<double>(pairs), benchmark::Counter::kIsRate);
}

// What a proxy does with a response: decode it and copy the STDOUT content into its own buffer.
void bm_decode_copy(benchmark::State& state) {
  const std::string& bytes = input(static_cast<int>(state.range(0)));
  decoder d;
  std::string out;
  out.reserve(bytes.size());
  for (auto _ : state) {
    out.clear();
    std::string_view in = bytes;
    for (;;) {
      const decode_result r = d.next(in);
      in.remove_prefix(r.consumed);
      if (r.ev.type == event_type::none) break;
      if (r.ev.type == event_type::stream_data) out.append(r.ev.data);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, bytes);
}

// Name-value parsing alone, on the 30-pair PARAMS block nginx sent.
void bm_params(benchmark::State& state) {
  std::string block;
  decoder d;
  std::string_view in = input(0);
  for (;;) {
    const decode_result r = d.next(in);
    in.remove_prefix(r.consumed);
    if (r.ev.type == event_type::none) break;
    if (r.ev.type == event_type::stream_data && r.ev.record() == record_type::params) block.append(r.ev.data);
  }
  std::size_t pairs = 0;
  for (auto _ : state) {
    name_value_reader reader(block);
    name_value nv;
    while (reader.next(nv)) {
      benchmark::DoNotOptimize(nv);
      ++pairs;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * block.size()));
  state.counters["pairs/s"] = benchmark::Counter(static_cast<double>(pairs), benchmark::Counter::kIsRate);
  state.counters["pairs"] = static_cast<double>(pairs / std::max<std::size_t>(1, state.iterations()));
}

// Encoding a 1 MiB body into records (the proxy's other direction).
void bm_encode_stream(benchmark::State& state) {
  const std::string body(1 << 20, 'b');
  std::string out;
  for (auto _ : state) {
    out.clear();
    append_stream(out, record_type::stdout_stream, 1, body);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}

}  // namespace

BENCHMARK(bm_memcpy)->DenseRange(0, 2);
BENCHMARK(bm_decode)->DenseRange(0, 2);
BENCHMARK(bm_decode_copy)->DenseRange(1, 2);
BENCHMARK(bm_params);
BENCHMARK(bm_encode_stream);

BENCHMARK_MAIN();
