// SPDX-License-Identifier: ISC
// The hot path does not allocate: once a decoder has warmed up, decoding more records costs no
// allocation, whether the bytes come whole or one at a time.

#include "decode_support.hpp"
#include "proto/encoder.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<std::size_t> allocations{0};
}  // namespace

// GCC takes the replaced operators for the built-in ones and warns that free() does not match new.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace fcgimux::proto;
using namespace fcgimux::proto::test;

namespace {

// Decodes `bytes` in pieces of `step` bytes, releasing ids at the end of STDIN; returns the events.
std::size_t run(decoder& d, std::string_view bytes, std::size_t step) {
  std::size_t events = 0;
  while (!bytes.empty()) {
    std::string_view piece = bytes.substr(0, step);
    bytes.remove_prefix(piece.size());
    for (;;) {
      const decode_result r = d.next(piece);
      piece.remove_prefix(r.consumed);
      if (r.ev.type == event_type::none || r.ev.type == event_type::error) break;
      ++events;
      if (r.ev.type == event_type::stream_end && r.ev.record() == record_type::stdin_stream) d.release(r.ev.request_id);
    }
  }
  return events;
}

}  // namespace

TEST_CASE("decoding does not allocate once warmed up", "[proto][allocation]") {
  std::string bytes = read_fixture("nginx-post.bin") + read_fixture("nginx-get.bin");
  REQUIRE(bytes.size() > 1000);
  std::string gv;
  append_management(gv, record_type::get_values,
                    std::string("\x0e\x00"
                                "FCGI_MAX_CONNS",
                                16));
  bytes += gv;
  for (std::size_t step : {bytes.size(), std::size_t{1}, std::size_t{7}}) {
    INFO("pieces of " << step);
    decoder d({64 * 1024, 4});
    const std::size_t first = run(d, bytes, step);
    REQUIRE(first > 6);
    REQUIRE_FALSE(d.failed());
    const std::size_t before = allocations.load();
    const std::size_t second = run(d, bytes, step);
    const std::size_t during = allocations.load() - before;
    CHECK(second == first);
    CHECK(during == 0);
  }
}
